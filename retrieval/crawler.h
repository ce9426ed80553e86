// The crawler: from seed URLs to stored pages and passages.
//
// Loop: take ready URLs from the frontier (retrieval/frontier.h); make sure the origin's
// robots.txt is known (fetched once per origin through the same Fetcher, so the SSRF guard and
// deadlines apply; cached with RobotsCache; its Crawl-delay slows the host down); fetch; extract
// (retrieval/extractor.h); skip near duplicates of pages seen in this crawl (SimHash); chunk
// into passages and store page + passages (retrieval/store.h); queue the page's links one level
// deeper when they are within --max-depth and an allowed host. 429/503 answers are retried
// after Retry-After (at most max_retries times). Every URL ends done, skipped or failed with a
// reason in the frontier, so the summary can count them and a later run resumes where this
// one stopped.
//
// Threading: Run() drives one Fetcher on the calling thread; extraction runs inline (it is far
// faster than the network). `stop` may be set from a signal handler or another thread; Run()
// then cancels in-flight fetches, puts them back to queued, and returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "retrieval/chunker.h"
#include "retrieval/fetcher.h"
#include "retrieval/robots.h"
#include "retrieval/store.h"

namespace lumen::retrieval {

struct CrawlOptions {
  int max_pages = 1000;                  // fetches finished in this run (done, skipped or failed)
  int max_depth = 3;                     // seeds are depth 0
  bool same_host = false;                // only the seeds' hosts
  std::vector<std::string> allow_hosts;  // besides (or without --same-host: instead of) those
  int concurrency = 8;
  bool refresh = false;         // fetch finished pages again
  int near_duplicate_bits = 3;  // -1: no near-duplicate check
  ChunkerOptions chunker;
  int retry_delay_s = 60;  // when a 429/503 gives no Retry-After
  int max_retries = 2;
  // When only retries are left, the crawl waits for them at most this long; later ones stay
  // queued for the next run.
  int max_retry_wait_s = 120;
  std::string robots_token = "LumenBot";  // product token matched in robots.txt
  RobotsCacheOptions robots;

  // The `crawl` section of the configuration (and the robots TTLs from `fetch`).
  static Result<CrawlOptions> FromConfig(const Config& config);
};

struct CrawlProgress {
  std::int64_t done = 0;  // stored pages
  std::int64_t skipped = 0;
  std::int64_t failed = 0;
  std::int64_t queued = 0;  // waiting in the frontier
  std::int64_t in_flight = 0;
  std::uint64_t bytes = 0;  // body bytes received
  double elapsed_s = 0;
  std::string last_url;
  std::string last_reason;
};

struct CrawlSummary {
  CrawlProgress progress;
  std::int64_t unchanged = 0;                             // stored pages whose text had not changed
  std::int64_t passages = 0;                              // passages written
  std::map<std::string, std::int64_t> skipped_by_reason;  // this run
  std::map<std::string, std::int64_t> failed_by_reason;
  bool interrupted = false;
};

class Crawler {
 public:
  // `store` and `fetcher` must outlive the Crawler.
  Crawler(Store& store, Fetcher& fetcher, CrawlOptions options, Logger& log);

  // Crawls from `seeds` (normalized; bad ones are errors before anything starts). Calls
  // `on_progress` after every finished URL. Errors: a seed that is not an http(s) URL
  // (InvalidArgument) or a store failure.
  Result<CrawlSummary> Run(const std::vector<std::string>& seeds, const std::atomic<bool>& stop,
                           const std::function<void(const CrawlProgress&)>& on_progress = {});

 private:
  Store& store_;
  Fetcher& fetcher_;
  CrawlOptions options_;
  Logger& log_;
};

// "2024-03-05T08:00:00Z", "2024-03-05" ... as Unix seconds (UTC unless an offset is given);
// 0 when the text is not such a date.
std::int64_t ParseIsoDate(std::string_view text);

}  // namespace lumen::retrieval
