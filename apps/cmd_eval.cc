// lumen eval: Evaluate extraction, retrieval and answers on benchmark data.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "evaluation");
}

}  // namespace

Command EvalCommand() {
  return {.name = "eval",
          .summary = "Evaluate extraction, retrieval and answers on benchmark data",
          .arguments = "",
          .details = "Not available yet: evaluation has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
