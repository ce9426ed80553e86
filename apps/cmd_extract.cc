// lumen extract: Extract the main content of an HTML file or URL.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "main-content extraction");
}

}  // namespace

Command ExtractCommand() {
  return {.name = "extract",
          .summary = "Extract the main content of an HTML file or URL",
          .arguments = "",
          .details = "Not available yet: main-content extraction has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
