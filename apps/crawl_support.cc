#include "apps/crawl_support.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>

namespace lumen::cli {
namespace {

// Process-wide: a signal handler can reach nothing else.
std::atomic<bool> g_crawl_stop{false};

extern "C" void OnCrawlStopSignal(int) {
  g_crawl_stop.store(true);
}

bool StderrIsTerminal() {
  return isatty(STDERR_FILENO) == 1;
}

}  // namespace

Result<CrawlSettings> CrawlSettingsFromConfig(const Config& config) {
  LUMEN_ASSIGN_OR_RETURN(retrieval::FetcherOptions fetch,
                         retrieval::FetcherOptions::FromConfig(config));
  LUMEN_ASSIGN_OR_RETURN(retrieval::CrawlOptions crawl,
                         retrieval::CrawlOptions::FromConfig(config));
  Result<retrieval::AddressPolicy> policy =
      retrieval::AddressPolicy::Create(config.GetStringList("fetch.allow_addresses"));
  if (!policy.ok()) return config.ValueError("fetch.allow_addresses", policy.status().message());
  return CrawlSettings{std::move(fetch), std::move(crawl), std::move(*policy)};
}

retrieval::IndexerOptions IndexerOptionsFromConfig(const Config& config, bool rebuild) {
  retrieval::IndexerOptions options;
  options.factory = config.GetString("index.factory");
  options.batch = static_cast<std::size_t>(std::max<std::int64_t>(config.GetInt("index.batch"), 1));
  options.rebuild = rebuild;
  options.progress = IndexProgressPrinter();
  return options;
}

void PrintCrawlSummary(const retrieval::CrawlSummary& summary) {
  const retrieval::CrawlProgress& p = summary.progress;
  std::printf(
      "crawl %s in %.1f s: %lld fetched and stored (%lld unchanged, %lld passages), "
      "%lld skipped, %lld failed, %lld still queued, %s received\n",
      summary.interrupted ? "interrupted" : "finished", p.elapsed_s, static_cast<long long>(p.done),
      static_cast<long long>(summary.unchanged), static_cast<long long>(summary.passages),
      static_cast<long long>(p.skipped), static_cast<long long>(p.failed),
      static_cast<long long>(p.queued), HumanBytes(p.bytes).c_str());
  for (const auto& [reason, n] : summary.skipped_by_reason) {
    std::printf("  skipped %-26s %lld\n", reason.c_str(), static_cast<long long>(n));
  }
  for (const auto& [reason, n] : summary.failed_by_reason) {
    std::printf("  failed  %-26s %lld\n", reason.c_str(), static_cast<long long>(n));
  }
}

StopOnSignal::StopOnSignal() {
  g_crawl_stop.store(false);
  std::signal(SIGINT, OnCrawlStopSignal);
  std::signal(SIGTERM, OnCrawlStopSignal);
}

StopOnSignal::~StopOnSignal() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

const std::atomic<bool>& StopOnSignal::stop() const {
  return g_crawl_stop;
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

std::function<void(const retrieval::CrawlProgress&)> CrawlProgressPrinter(Logger& log) {
  const bool tty = StderrIsTerminal();
  auto last_logged = std::make_shared<std::int64_t>(-1);
  return [&log, tty, last_logged](const retrieval::CrawlProgress& p) {
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
    } else if (n != *last_logged) {
      *last_logged = n;
      log.Info("page", {{"url", p.last_url},
                        {"result", p.last_reason},
                        {"done", p.done},
                        {"queued", p.queued},
                        {"errors", p.failed}});
    }
  };
}

std::function<void(std::int64_t, std::int64_t)> IndexProgressPrinter() {
  const bool tty = StderrIsTerminal();
  return [tty](std::int64_t done, std::int64_t total) {
    if (total <= 0) return;
    const int width = 30;
    const int filled = static_cast<int>(width * std::min<double>(1.0, double(done) / total));
    std::fprintf(stderr, "%sindexing [%s%s] %lld/%lld passages%s", tty ? "\r" : "",
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), tty ? "" : "\n");
    std::fflush(stderr);
  };
}

void EndProgressLine() {
  if (StderrIsTerminal()) std::fprintf(stderr, "\n");
}

}  // namespace lumen::cli
