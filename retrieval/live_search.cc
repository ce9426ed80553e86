#include "retrieval/live_search.h"

#include <chrono>
#include <ctime>

namespace lumen::retrieval {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

LiveSearch::LiveSearch(std::unique_ptr<SearchProvider> provider,
                       std::unique_ptr<LiveFetcher> fetcher, int max_results)
    : provider_(std::move(provider)), fetcher_(std::move(fetcher)), max_results_(max_results) {}

LiveSearchReport LiveSearch::Run(const std::string& question, const SourceFilter& filter,
                                 Deadline deadline) {
  LiveSearchReport report;
  report.provider = std::string(provider_->name());
  const Clock::time_point tp = Clock::now();
  ProviderQuery q;
  q.question = question;
  q.recency = filter.recency();
  q.max_results = max_results_;
  Result<ProviderAnswer> answer = provider_->Search(q, deadline);
  report.provider_ms = MsSince(tp);
  if (!answer.ok()) {
    report.provider_failed = true;
    report.notes.push_back(answer.status().message());
    return report;
  }
  report.notes = std::move(answer->notes);
  if (answer->hits.empty() && filter.recency() != Recency::kAny) {
    // SearXNG skips engines without time-range support when a time_range is asked for.
    report.notes.push_back("the provider was asked for pages of the last " +
                           std::string(RecencyName(filter.recency())) +
                           "; engines that cannot filter by time answer nothing then");
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  for (SearchHit& h : answer->hits)
    if (filter.AllowsUrl(h.url) && filter.AllowsDate(h.published, now))
      report.hits.push_back(std::move(h));
  const Clock::time_point tf = Clock::now();
  LiveFetchReport fetched = fetcher_->FetchAndStore(report.hits, deadline);
  report.fetch_ms = MsSince(tf);
  report.pages = std::move(fetched.pages);
  return report;
}

Result<std::unique_ptr<LiveSearch>> LiveSearchFromConfig(const Config& config, Store& store) {
  LUMEN_ASSIGN_OR_RETURN(SearchProviderOptions po, SearchProviderOptions::FromConfig(config));
  LUMEN_ASSIGN_OR_RETURN(std::unique_ptr<SearchProvider> provider, CreateSearchProvider(po));
  if (!provider) return std::unique_ptr<LiveSearch>();
  LUMEN_ASSIGN_OR_RETURN(LiveFetchOptions lo, LiveFetchOptions::FromConfig(config));
  Result<AddressPolicy> policy =
      AddressPolicy::Create(config.GetStringList("fetch.allow_addresses"));
  if (!policy.ok()) return config.ValueError("fetch.allow_addresses", policy.status().message());
  const int results = static_cast<int>(config.GetInt("search.provider_results"));
  if (results < 1 || results > 50)
    return config.ValueError("search.provider_results", "must be 1..50");
  return std::make_unique<LiveSearch>(
      std::move(provider), std::make_unique<LiveFetcher>(store, std::move(lo), std::move(*policy)),
      results);
}

}  // namespace lumen::retrieval
