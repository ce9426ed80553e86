// lumen demo: Install the demo corpus, crawl and index it, and serve it.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the out-of-the-box demo");
}

}  // namespace

Command DemoCommand() {
  return {.name = "demo",
          .summary = "Install the demo corpus, crawl and index it, and serve it",
          .arguments = "",
          .details = "Not available yet: the out-of-the-box demo has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
