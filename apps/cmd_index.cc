// lumen index: Embed stored passages and build the vector index.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the vector index");
}

}  // namespace

Command IndexCommand() {
  return {.name = "index",
          .summary = "Embed stored passages and build the vector index",
          .arguments = "",
          .details = "Not available yet: the vector index has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
