// lumen bench: Run benchmarks.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the benchmarks");
}

}  // namespace

Command BenchCommand() {
  return {.name = "bench",
          .summary = "Run benchmarks",
          .arguments = "",
          .details = "Not available yet: the benchmarks has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
