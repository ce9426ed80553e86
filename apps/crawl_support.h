// What the commands that crawl and index (`crawl`, `index`, `demo`) share: the fetcher, crawl
// and address-policy settings read from the configuration, and progress reporting — a one-line
// display redrawn in place on a terminal, log lines otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "retrieval/address_policy.h"
#include "retrieval/crawler.h"
#include "retrieval/fetcher.h"
#include "retrieval/indexer.h"

namespace lumen::cli {

struct CrawlSettings {
  retrieval::FetcherOptions fetch;
  retrieval::CrawlOptions crawl;
  retrieval::AddressPolicy policy;
};

// Reads fetch.*, crawl.* and fetch.allow_addresses. Errors (kInvalidArgument) name the key and
// where its value came from.
Result<CrawlSettings> CrawlSettingsFromConfig(const Config& config);

// index.factory and index.batch, with the progress bar of IndexProgressPrinter().
retrieval::IndexerOptions IndexerOptionsFromConfig(const Config& config, bool rebuild);

// Prints the crawl's totals and the reasons pages were skipped or failed, to stdout.
void PrintCrawlSummary(const retrieval::CrawlSummary& summary);

// Ctrl-C for a crawl: while alive, SIGINT and SIGTERM set stop() (the crawl then ends cleanly and
// keeps what it did; running it again resumes); the default handlers come back on destruction.
class StopOnSignal {
 public:
  StopOnSignal();
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  const std::atomic<bool>& stop() const;
};

// "1.5 MiB" / "12.0 KiB".
std::string HumanBytes(std::uint64_t bytes);

// Prints crawl progress to stderr (a terminal) or logs one line per finished page. Call
// EndProgressLine() after the crawl to finish the terminal line.
std::function<void(const retrieval::CrawlProgress&)> CrawlProgressPrinter(Logger& log);

// Prints "indexing [####......] done/total passages" to stderr, redrawn on a terminal.
std::function<void(std::int64_t, std::int64_t)> IndexProgressPrinter();

// Ends a progress line redrawn in place (a newline on a terminal, nothing otherwise).
void EndProgressLine();

}  // namespace lumen::cli
