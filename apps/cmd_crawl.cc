// lumen crawl: crawl pages into the store (robots.txt, extraction, passages).
#include <cstdio>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/crawl_support.h"
#include "retrieval/address_policy.h"
#include "retrieval/crawler.h"
#include "retrieval/fetcher.h"
#include "retrieval/store.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  const std::vector<std::string>& seeds = ctx.flags.positionals();
  if (seeds.empty()) return Fail(kExitUsage, "crawl: give at least one URL to start from");
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  Logger log = CommandContext::MakeLogger(*config);

  Result<CrawlSettings> settings = CrawlSettingsFromConfig(*config);
  if (!settings.ok())
    return Fail(kExitUsage, "configuration error: " + settings.status().message());
  retrieval::FetcherOptions* fetch_options = &settings->fetch;
  retrieval::CrawlOptions* options = &settings->crawl;
  for (auto [flag, field] :
       {std::pair{"max-pages", &options->max_pages}, std::pair{"max-depth", &options->max_depth},
        std::pair{"concurrency", &options->concurrency}}) {
    Result<long long> v = ctx.flags.GetInt(flag, *field);
    if (!v.ok()) return Fail(kExitUsage, "crawl: " + v.status().message());
    if (*v < (std::string(flag) == "max-depth" ? 0 : 1) || *v > 10000000) {
      return Fail(kExitUsage, std::string("crawl: --") + flag + " out of range");
    }
    *field = static_cast<int>(*v);
  }
  options->same_host = ctx.flags.Has("same-host");
  options->allow_hosts = ctx.flags.GetAll("allow-host");
  options->refresh = ctx.flags.Has("refresh");
  fetch_options->max_connections = std::max(fetch_options->max_connections, options->concurrency);

  const std::string data_dir = Config::ExpandHome(config->GetString("data_dir"));
  Result<std::unique_ptr<retrieval::Store>> store = retrieval::Store::Open(data_dir);
  if (!store.ok()) return Fail(kExitFailure, "cannot open the store: " + store.status().message());
  retrieval::Fetcher fetcher(*fetch_options, settings->policy);
  retrieval::Crawler crawler(**store, fetcher, *options, log);

  Result<retrieval::CrawlSummary> summary = [&] {
    StopOnSignal interrupt;
    return crawler.Run(seeds, interrupt.stop(), CrawlProgressPrinter(log));
  }();
  EndProgressLine();
  if (!summary.ok()) {
    const int code =
        summary.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
    return Fail(code, "crawl: " + summary.status().message());
  }
  PrintCrawlSummary(*summary);
  if (summary->interrupted) std::printf("run the same command again to resume\n");
  return summary->interrupted ? kExitFailure : kExitOk;
}

}  // namespace

Command CrawlCommand() {
  return {
      .name = "crawl",
      .summary = "Crawl pages into the store (robots.txt, extraction, passages)",
      .arguments = "URL...",
      .details =
          "Fetches the URLs and the pages they link to, politely (robots.txt, per-host "
          "delays), and stores each page's main text and passages in <data_dir>/lumen.db. "
          "The frontier is kept there too: Ctrl-C stops, running the command again "
          "resumes, finished pages are not fetched again unless --refresh.",
      .flags = {{"max-pages", "N", "stop after N pages (config crawl.max_pages)"},
                {"max-depth", "D", "follow links at most D steps from a seed (crawl.max_depth)"},
                {"same-host", "", "only follow links to the seeds' hosts"},
                {"allow-host", "H", "only follow links to host H", true},
                {"concurrency", "C", "fetches at once (crawl.concurrency)"},
                {"refresh", "", "fetch pages finished by earlier runs again"}},
      .run = Run};
}

}  // namespace lumen::cli
