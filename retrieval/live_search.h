// Live search: one question's trip to the web — ask the search provider (retrieval/
// search_provider.h) for candidates, keep those the request's SourceFilter allows, read the best
// of them now (retrieval/live_fetch.h) into the store, and report every step. The query service
// then ranks the stored passages, local and fresh together, and answers only from pages that
// were read: a candidate whose page was not read (over budget, refused, failed) is listed in the
// report but never becomes a numbered source.
//
// A provider failure (outage, 403, 429, bad JSON) is not an error of the request: the report
// carries a note saying what happened and the answer comes from the local index.
//
// Threading: Run may be called from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "retrieval/live_fetch.h"
#include "retrieval/search_provider.h"
#include "retrieval/source_filter.h"

namespace lumen::retrieval {

struct LiveSearchReport {
  std::string provider;            // "searxng", "brave"
  std::vector<SearchHit> hits;     // the provider's candidates that passed the filter
  std::vector<LivePage> pages;     // what became of the ones read (in hit order)
  std::vector<std::string> notes;  // provider notes and failures, one line each
  bool provider_failed = false;
  double provider_ms = 0;
  double fetch_ms = 0;
};

class LiveSearch {
 public:
  // `provider` must be non-null.
  LiveSearch(std::unique_ptr<SearchProvider> provider, std::unique_ptr<LiveFetcher> fetcher,
             int max_results = 10);

  LiveSearchReport Run(const std::string& question, const SourceFilter& filter, Deadline deadline);

  std::string_view provider_name() const { return provider_->name(); }
  const LiveFetcher& fetcher() const { return *fetcher_; }
  LiveFetcher& fetcher() { return *fetcher_; }

 private:
  std::unique_ptr<SearchProvider> provider_;
  std::unique_ptr<LiveFetcher> fetcher_;
  int max_results_;
};

// The live search the configuration asks for (search.provider and friends, fetch.*), or null
// when search.provider is "none". The fetcher's allow-list is fetch.allow_addresses (the
// --fetch-allow flags add to it). InvalidArgument names the key at fault.
Result<std::unique_ptr<LiveSearch>> LiveSearchFromConfig(const Config& config, Store& store);

}  // namespace lumen::retrieval
