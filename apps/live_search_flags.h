// The live-search flags `lumen ask` and `lumen serve` share:
//   --searxng URL      search.provider = "searxng", search.url = URL
//   --fetch-allow HOST (repeatable) adds HOST to fetch.allow_addresses, the fetcher's allow-list
//                      for private and loopback addresses (an address, a CIDR range, or a host
//                      name, which is resolved now and each of its addresses added)
#pragma once

#include <vector>

#include "apps/cli.h"

namespace lumen::cli {

// The FlagSpecs to add to a command's flag list.
std::vector<FlagSpec> LiveSearchFlagSpecs();

// Turns the flags into configuration overrides on ctx.global (before ctx.LoadConfig()).
// Returns kExitOk, or kExitUsage after printing what is wrong with a value.
int ApplyLiveSearchFlags(CommandContext& ctx);

}  // namespace lumen::cli
