// lumen model: Model tools: info, tokenize, generate, logits, quantize, make-tiny.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the model engine");
}

}  // namespace

Command ModelCommand() {
  return {.name = "model",
          .summary = "Model tools: info, tokenize, generate, logits, quantize, make-tiny",
          .arguments = "",
          .details = "Not available yet: the model engine has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
