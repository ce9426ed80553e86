// lumen ask: Answer a question from the command line, with citations.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the answer pipeline");
}

}  // namespace

Command AskCommand() {
  return {.name = "ask",
          .summary = "Answer a question from the command line, with citations",
          .arguments = "",
          .details = "Not available yet: the answer pipeline has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
