// lumen ads: Manage advertisers, campaigns and creatives; report and verify the ledger.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the ad ledger");
}

}  // namespace

Command AdsCommand() {
  return {.name = "ads",
          .summary = "Manage advertisers, campaigns and creatives; report and verify the ledger",
          .arguments = "",
          .details = "Not available yet: the ad ledger has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
