// lumen eval extraction.
#include "apps/eval.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) { return NotAvailableYet(ctx, "main-content extraction"); }

}  // namespace

Subcommand EvalExtractionSubcommand() {
  return {.name = "extraction", .summary = "Not available yet (main-content extraction)", .run = Run};
}

}  // namespace lumen::cli
