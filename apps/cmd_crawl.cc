// lumen crawl: crawl pages into the store (robots.txt, extraction, passages).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "retrieval/address_policy.h"
#include "retrieval/crawler.h"
#include "retrieval/fetcher.h"
#include "retrieval/store.h"

namespace lumen::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) {
  g_stop.store(true);
}

std::string HumanBytes(std::uint64_t b) {
  char buf[32];
  if (b >= (1ULL << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  }
  return buf;
}

int Run(CommandContext& ctx) {
  const std::vector<std::string>& seeds = ctx.flags.positionals();
  if (seeds.empty()) return Fail(kExitUsage, "crawl: give at least one URL to start from");
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  Logger log = CommandContext::MakeLogger(*config);

  Result<retrieval::FetcherOptions> fetch_options = retrieval::FetcherOptions::FromConfig(*config);
  if (!fetch_options.ok())
    return Fail(kExitUsage, "configuration error: " + fetch_options.status().message());
  Result<retrieval::CrawlOptions> options = retrieval::CrawlOptions::FromConfig(*config);
  if (!options.ok()) return Fail(kExitUsage, "configuration error: " + options.status().message());
  Result<retrieval::AddressPolicy> policy =
      retrieval::AddressPolicy::Create(config->GetStringList("fetch.allow_addresses"));
  if (!policy.ok()) {
    return Fail(
        kExitUsage,
        "configuration error: " +
            config->ValueError("fetch.allow_addresses", policy.status().message()).message());
  }
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
  retrieval::Fetcher fetcher(*fetch_options, *policy);
  retrieval::Crawler crawler(**store, fetcher, *options, log);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool tty = isatty(STDERR_FILENO) == 1;
  std::int64_t last_logged = -1;
  auto on_progress = [&](const retrieval::CrawlProgress& p) {
    const std::int64_t n = p.done + p.skipped + p.failed;
    const double rate = p.elapsed_s > 0 ? n / p.elapsed_s : 0;
    if (tty) {
      std::fprintf(stderr,
                   "\r\033[K[%lld done, %lld skipped, %lld failed | %lld queued | %s | %.1f "
                   "pages/s] %s",
                   static_cast<long long>(p.done), static_cast<long long>(p.skipped),
                   static_cast<long long>(p.failed), static_cast<long long>(p.queued),
                   HumanBytes(p.bytes).c_str(), rate, p.last_url.substr(0, 60).c_str());
      std::fflush(stderr);
    } else if (n != last_logged) {
      last_logged = n;
      log.Info("page", {{"url", p.last_url},
                        {"result", p.last_reason},
                        {"done", p.done},
                        {"queued", p.queued},
                        {"errors", p.failed}});
    }
  };
  Result<retrieval::CrawlSummary> summary = crawler.Run(seeds, g_stop, on_progress);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (tty) std::fprintf(stderr, "\n");
  if (!summary.ok()) {
    const int code =
        summary.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
    return Fail(code, "crawl: " + summary.status().message());
  }
  const retrieval::CrawlProgress& p = summary->progress;
  std::printf(
      "crawl %s in %.1f s: %lld fetched and stored (%lld unchanged, %lld passages), "
      "%lld skipped, %lld failed, %lld still queued, %s received\n",
      summary->interrupted ? "interrupted" : "finished", p.elapsed_s,
      static_cast<long long>(p.done), static_cast<long long>(summary->unchanged),
      static_cast<long long>(summary->passages), static_cast<long long>(p.skipped),
      static_cast<long long>(p.failed), static_cast<long long>(p.queued),
      HumanBytes(p.bytes).c_str());
  for (const auto& [reason, n] : summary->skipped_by_reason) {
    std::printf("  skipped %-26s %lld\n", reason.c_str(), static_cast<long long>(n));
  }
  for (const auto& [reason, n] : summary->failed_by_reason) {
    std::printf("  failed  %-26s %lld\n", reason.c_str(), static_cast<long long>(n));
  }
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
