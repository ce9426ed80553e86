// lumen ads: Manage advertisers, campaigns and creatives; report and verify the ledger.
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int NotYet(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the ad ledger");
}

int Run(CommandContext& ctx) {
  return RunSubcommand(
      ctx, {{.name = "verify", .summary = "Not available yet (ad ledger)", .run = NotYet}});
}

}  // namespace

Command AdsCommand() {
  return {.name = "ads",
          .summary = "Manage advertisers, campaigns and creatives; report and verify the ledger",
          .arguments = "",
          .details = "Not available yet: the ad ledger has not landed in this build.",
          .flags = {},
          .run = Run,
          .has_subcommands = true};
}

}  // namespace lumen::cli
