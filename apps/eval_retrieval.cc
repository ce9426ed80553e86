// lumen eval retrieval.
#include "apps/eval.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) { return NotAvailableYet(ctx, "retrieval evaluation"); }

}  // namespace

Subcommand EvalRetrievalSubcommand() {
  return {.name = "retrieval", .summary = "Not available yet (retrieval evaluation)", .run = Run};
}

}  // namespace lumen::cli
