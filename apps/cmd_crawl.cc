// lumen crawl: Crawl pages into the store (robots.txt, extraction, passages).
#include "apps/commands.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return NotAvailableYet(ctx, "the crawler");
}

}  // namespace

Command CrawlCommand() {
  return {.name = "crawl",
          .summary = "Crawl pages into the store (robots.txt, extraction, passages)",
          .arguments = "",
          .details = "Not available yet: the crawler has not landed in this build.",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
