// Source filters of one request, as Perplexity's API has them: how recent a page must be
// (`recency`: day, week, month, year) and which sites it may or may not come from (`domains`:
// "example.com" restricts to that site and its subdomains, "-example.com" excludes them).
//
// Recency judges a page by the date it states (PageRecord::published). A page that states no
// date is kept: its age is unknown, and dropping every undated page would drop most of the web.
// A live search provider is also asked for recent results only (SearXNG time_range, Brave
// freshness), so live pages are filtered at the source as well.
//
// Immutable after Parse; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::retrieval {

enum class Recency { kAny, kDay, kWeek, kMonth, kYear };

// "day", "week", "month", "year" ("" for any).
std::string_view RecencyName(Recency recency);
// "" or "any" -> kAny; InvalidArgument naming the accepted values otherwise.
Result<Recency> ParseRecency(std::string_view text);
// Length of the window in seconds (0 for kAny).
std::int64_t RecencySeconds(Recency recency);

class SourceFilter {
 public:
  SourceFilter() = default;
  // `domains`: at most 20 entries, each a host name ("example.com", "docs.python.org") with an
  // optional leading '-' for exclusion; case-insensitive; a leading "www." and a trailing '.'
  // are ignored. InvalidArgument names the first bad entry.
  static Result<SourceFilter> Parse(Recency recency, std::span<const std::string> domains);

  // Whether a page of `url` (an absolute http(s) URL) passes the domain rules. A URL without a
  // host fails when any include rule is set.
  bool AllowsUrl(std::string_view url) const;
  // Whether a page published at `published` (Unix seconds, 0 = unknown) passes the recency rule
  // at time `now`.
  bool AllowsDate(std::int64_t published, std::int64_t now) const;

  Recency recency() const { return recency_; }
  const std::vector<std::string>& include() const { return include_; }
  const std::vector<std::string>& exclude() const { return exclude_; }
  bool empty() const { return recency_ == Recency::kAny && include_.empty() && exclude_.empty(); }
  // A stable text form ("week|docs.python.org|-example.com"), for cache keys.
  std::string Key() const;

 private:
  Recency recency_ = Recency::kAny;
  std::vector<std::string> include_;  // lower case, without "www."
  std::vector<std::string> exclude_;
};

}  // namespace lumen::retrieval
