// On-demand fetching: the pages a search provider named, read now, within a budget — the live
// half of retrieval (the crawl is the other). For each candidate URL, best first:
//
//   stored and fetched less than refetch_after_s ago -> "fresh": not fetched again (the
//       freshness policy; the stored passages answer)
//   else robots.txt of its origin (fetched once and cached across requests, through the same
//       Fetcher, so the SSRF guard and limits apply) -> the page, through the real Fetcher
//       (retrieval/fetcher.h) -> extract -> chunk -> Store::UpsertPage with fetched_at = now
//       (and published from the page, else from the provider)
//
// All candidates are fetched in parallel; whatever has not finished when the budget (or the
// request's deadline) runs out is cancelled and reported "over_budget". The store's full-text
// index sees the new passages at once, so the ranking that follows finds them with the local
// ones; their vectors join the dense index with the next `lumen index` (the passage log).
//
// Live fetches are user-facing: per_host_delay_ms is 0 and one host may get max_pages
// connections (a reader opening a few tabs), unlike the crawl's politeness delay.
//
// Threading: FetchAndStore may run on several threads at once (each call has its own Fetcher;
// the robots cache and the Store are thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/deadline.h"
#include "retrieval/address_policy.h"
#include "retrieval/chunker.h"
#include "retrieval/fetcher.h"
#include "retrieval/robots.h"
#include "retrieval/search_provider.h"
#include "retrieval/store.h"

namespace lumen::retrieval {

struct LiveFetchOptions {
  int max_pages = 5;                     // candidates fetched per question (top N)
  int budget_ms = 3000;                  // for all of them together
  std::int64_t refetch_after_s = 86400;  // a stored page older than this is fetched again
  FetcherOptions fetcher;
  ChunkerOptions chunker;
  RobotsCacheOptions robots;
  std::string robots_token = "LumenBot";

  // search.live_pages, search.live_budget_ms, search.refetch_after_s, and the fetch.* and
  // crawl.passage_* keys. InvalidArgument names the key at fault.
  static Result<LiveFetchOptions> FromConfig(const Config& config);
};

// What became of one candidate page.
struct LivePage {
  std::string url;
  // ok | fresh | over_budget | robots_disallowed | robots_unreachable | empty_page |
  // store_error | index_error | a fetcher reason (blocked_address, http_404, timeout, ...)
  std::string outcome;
  double ms = 0;  // from the start of FetchAndStore until this page's outcome
  int passages = 0;
  std::int64_t page_id = 0;  // stored page (ok, fresh), else 0
  // index_error: stored and searchable by BM25, but its vectors could not be added.
  bool read() const { return outcome == "ok" || outcome == "fresh" || outcome == "index_error"; }
};

struct LiveFetchReport {
  std::vector<LivePage> pages;  // in the order of the candidates
  double elapsed_ms = 0;
};

class LiveFetcher {
 public:
  // `store` must outlive the LiveFetcher.
  LiveFetcher(Store& store, LiveFetchOptions options, AddressPolicy policy);

  // Fetches and stores the first max_pages of `hits` (see the file comment); ends by the budget
  // or `deadline`, whichever is first. Never fails as a whole: each page has its outcome.
  LiveFetchReport FetchAndStore(std::span<const SearchHit> hits, Deadline deadline);

  const LiveFetchOptions& options() const { return options_; }

  // Called on the fetching thread with each page as soon as it is stored, before FetchAndStore
  // returns, e.g. to embed its passages into the vector index so that this question's dense
  // retrieval already sees them. Its failure is reported in the page's outcome ("index_error")
  // but the page stays stored and found by BM25.
  using StoredHook = std::function<Status(const UpsertResult&)>;
  void set_on_stored(StoredHook hook) { on_stored_ = std::move(hook); }

 private:
  Store& store_;
  StoredHook on_stored_;
  LiveFetchOptions options_;
  AddressPolicy policy_;
  RobotsCache robots_;
};

}  // namespace lumen::retrieval
