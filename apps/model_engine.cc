// lumen model info | quantize | make-tiny | generate | logits.
#include "apps/model.h"

namespace lumen::cli {
namespace {

int NotYet(CommandContext& ctx) { return NotAvailableYet(ctx, "the model engine"); }

}  // namespace

std::vector<Subcommand> ModelEngineSubcommands() {
  std::vector<Subcommand> subs;
  for (const char* name : {"info", "quantize", "make-tiny", "generate", "logits"}) {
    subs.push_back({.name = name, .summary = "Not available yet (model engine)", .run = NotYet});
  }
  return subs;
}

}  // namespace lumen::cli
