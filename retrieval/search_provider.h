// Search providers: a question in, a ranked list of candidate pages out — {url, title, snippet,
// published} — from a web search engine Lumen does not run itself. The query service reads the
// best of those pages on demand (retrieval/live_search.h); a provider never supplies text that
// is cited: its snippets only help choose what to read.
//
// Implementations, chosen by `search.provider` (configs/lumen.json):
//   "none"     no provider: answers come from the local index only (the default)
//   "searxng"  a SearXNG or searx instance: GET {url}/search?q=..&format=json&categories=..
//              &language=..&time_range=..&pageno=..  ("searx" is accepted as the same thing)
//   "brave"    the Brave Search API: GET {url}/res/v1/web/search?q=..&count=..&freshness=..
//              with the key from the environment variable named by `search.api_key_env` in the
//              X-Subscription-Token header
//
// Failures that are known in the field come back with messages that say what to do:
//   - SearXNG 403: JSON output is not enabled in its settings.yml (how to enable it is quoted);
//   - 429 / rate limits: the provider backs off (Retry-After, else provider_backoff_s) and says
//     for how long; calls before then fail at once with the time left, without a request;
//   - no results while engines failed: the JSON's `unresponsive_engines` are named in `notes`.
// Connection failures and timeouts are kUnavailable and name the provider's URL.
//
// Threading: Search may be called from several threads at once (each call has its own curl
// handle; the back-off state is guarded).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/deadline.h"
#include "core/status.h"
#include "retrieval/source_filter.h"

namespace lumen::retrieval {

// One candidate page as the provider ranks it.
struct SearchHit {
  std::string url;
  std::string title;
  std::string snippet;         // the provider's text about the page: never cited
  std::int64_t published = 0;  // Unix seconds when the provider knows it, else 0
  std::string engine;          // which engine behind a metasearch provider found it
};

struct ProviderQuery {
  std::string question;
  Recency recency = Recency::kAny;
  int page = 1;          // 1-based result page
  int max_results = 10;  // the provider may return fewer (SearXNG returns what its engines do)
};

struct ProviderAnswer {
  std::vector<SearchHit> hits;     // best first; only http(s) URLs, no duplicates
  std::vector<std::string> notes;  // e.g. "no results: unresponsive engines: bing (timeout)"
};

struct SearchProviderOptions {
  std::string kind = "none";  // none | searxng | brave
  std::string url;            // base URL (SearXNG instance; Brave: its API origin)
  std::string api_key;        // Brave's subscription token
  std::string categories = "general";
  std::string language;  // "" = the instance's default
  int timeout_ms = 2000;
  int backoff_s = 60;  // after a 429 without Retry-After
  std::string user_agent = "LumenBot/0.1";

  // Reads search.provider, search.url, search.api_key_env (the key itself comes from that
  // environment variable), search.categories, search.language, search.provider_timeout_ms,
  // search.provider_backoff_s and fetch.user_agent. InvalidArgument names the key at fault.
  static Result<SearchProviderOptions> FromConfig(const Config& config);
};

class SearchProvider {
 public:
  virtual ~SearchProvider() = default;
  // "searxng", "brave".
  virtual std::string_view name() const = 0;
  // Asks the provider; see the file comment for the errors. The call ends by `deadline` or the
  // provider timeout, whichever is earlier.
  virtual Result<ProviderAnswer> Search(const ProviderQuery& query, Deadline deadline) = 0;
};

// The provider the options name; null for "none". InvalidArgument for an unknown kind, a
// missing or non-http(s) URL, or Brave without a key.
Result<std::unique_ptr<SearchProvider>> CreateSearchProvider(const SearchProviderOptions& options);

// The parsers, exposed for tests. `body` is the provider's JSON; kInvalidArgument ("not JSON",
// "no results array") for anything else. URLs that are not http(s) and repeats are dropped;
// at most `max_results` hits are kept.
Result<ProviderAnswer> ParseSearxngJson(std::string_view body, int max_results);
Result<ProviderAnswer> ParseBraveJson(std::string_view body, int max_results);

// The request URLs the providers send, exposed for tests.
std::string SearxngRequestUrl(const SearchProviderOptions& options, const ProviderQuery& query);
std::string BraveRequestUrl(const SearchProviderOptions& options, const ProviderQuery& query);

}  // namespace lumen::retrieval
