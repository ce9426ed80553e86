// lumen model tokenize.
#include "apps/model.h"

namespace lumen::cli {
namespace {

int NotYet(CommandContext& ctx) { return NotAvailableYet(ctx, "the tokenizer"); }

}  // namespace

std::vector<Subcommand> ModelTokenizerSubcommands() {
  return {{.name = "tokenize", .summary = "Not available yet (tokenizer)", .run = NotYet}};
}

}  // namespace lumen::cli
