#include "retrieval/search_provider.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "retrieval/crawler.h"
#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxProviderBody = 4 << 20;

std::string Escape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

struct HttpAnswer {
  int status = 0;  // 0: no HTTP answer (see error)
  std::string body;
  std::string error;               // libcurl's message when status is 0
  std::optional<int> retry_after;  // seconds, from Retry-After or X-RateLimit-Reset
  bool too_large = false;
};

struct CurlEasy {
  CURL* h = curl_easy_init();
  ~CurlEasy() {
    if (h != nullptr) curl_easy_cleanup(h);
  }
};
struct CurlHeaders {
  curl_slist* list = nullptr;
  ~CurlHeaders() { curl_slist_free_all(list); }
  void Add(const std::string& h) { list = curl_slist_append(list, h.c_str()); }
};

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* a = static_cast<HttpAnswer*>(user);
  if (a->body.size() + size * n > kMaxProviderBody) {
    a->too_large = true;
    return 0;
  }
  a->body.append(data, size * n);
  return size * n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* a = static_cast<HttpAnswer*>(user);
  std::string_view line(data, size * n);
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(line.substr(colon + 1));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "retry-after" || name == "x-ratelimit-reset") {
      // Seconds (Brave's X-RateLimit-Reset may list several windows: "1, 1419704").
      char* end = nullptr;
      const long v = std::strtol(value.c_str(), &end, 10);
      if (end != value.c_str() && v >= 0 && v < 86400 * 7) a->retry_after = static_cast<int>(v);
    }
  }
  return size * n;
}

HttpAnswer HttpGet(const std::string& url, const std::vector<std::string>& headers,
                   const std::string& user_agent, int timeout_ms) {
  HttpAnswer a;
  CurlEasy c;
  if (c.h == nullptr) {
    a.error = "cannot create a curl handle";
    return a;
  }
  CurlHeaders hs;
  for (const std::string& h : headers) hs.Add(h);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, hs.list);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(timeout_ms, 1)));
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max(timeout_ms, 1)));
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(c.h);
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK && !(a.too_large && status > 0)) {
    a.error = curl_easy_strerror(rc);
    return a;
  }
  a.status = static_cast<int>(status);
  return a;
}

// What the provider's URL and timeouts allow this call.
int TimeoutFor(const SearchProviderOptions& o, Deadline deadline) {
  return static_cast<int>(std::min<long long>(o.timeout_ms, deadline.remaining_ms()));
}

void AddHit(ProviderAnswer& out, std::set<std::string>& seen, SearchHit hit, int max_results) {
  if (static_cast<int>(out.hits.size()) >= max_results) return;
  Result<std::string> norm = NormalizeUrl(hit.url);
  if (!norm.ok()) return;
  if (!seen.insert(*norm).second) return;
  hit.url = *norm;
  out.hits.push_back(std::move(hit));
}

std::string StringField(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// Shared failure handling: rate limits start a back-off, other statuses become errors.
class BackoffProvider : public SearchProvider {
 public:
  explicit BackoffProvider(SearchProviderOptions options) : options_(std::move(options)) {}

 protected:
  // kUnavailable with the time left while backing off; OK otherwise.
  Status CheckBackoff() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    if (now >= backoff_until_) return Status::Ok();
    const long long left =
        std::chrono::duration_cast<std::chrono::seconds>(backoff_until_ - now).count() + 1;
    return Unavailable(std::string(name()) + " at " + options_.url +
                       " is rate limiting Lumen (HTTP 429); backing off, " + std::to_string(left) +
                       " s left before the next request");
  }
  Status StartBackoff(const HttpAnswer& a) {
    const int s = a.retry_after.value_or(options_.backoff_s);
    {
      std::lock_guard<std::mutex> lock(mu_);
      backoff_until_ = Clock::now() + std::chrono::seconds(s);
    }
    return Unavailable(std::string(name()) + " at " + options_.url +
                       " answered 429 Too Many Requests (rate limited); backing off for " +
                       std::to_string(s) + " s" +
                       (a.retry_after ? " as its Retry-After asks" : "") +
                       ". Raise the instance's limits for Lumen's address or ask less often.");
  }
  Status Unreachable(const HttpAnswer& a) const {
    return Unavailable("cannot reach " + std::string(name()) + " at " + options_.url + ": " +
                       a.error);
  }

  SearchProviderOptions options_;

 private:
  std::mutex mu_;
  Clock::time_point backoff_until_{};
};

class SearxngProvider : public BackoffProvider {
 public:
  using BackoffProvider::BackoffProvider;
  std::string_view name() const override { return "searxng"; }

  Result<ProviderAnswer> Search(const ProviderQuery& query, Deadline deadline) override {
    LUMEN_RETURN_IF_ERROR(CheckBackoff());
    const HttpAnswer a = HttpGet(SearxngRequestUrl(options_, query), {"Accept: application/json"},
                                 options_.user_agent, TimeoutFor(options_, deadline));
    if (a.status == 0) return Unreachable(a);
    if (a.status == 429) return StartBackoff(a);
    if (a.status == 403) {
      return PermissionDenied(
          "SearXNG at " + options_.url +
          " answered 403 Forbidden to format=json: JSON output is not enabled in its "
          "settings.yml. Enable it with `formats: [html, json]` under `search:` in settings.yml "
          "and restart SearXNG");
    }
    if (a.status != 200) {
      return Unavailable("SearXNG at " + options_.url + " answered HTTP " +
                         std::to_string(a.status));
    }
    Result<ProviderAnswer> parsed = ParseSearxngJson(a.body, query.max_results);
    if (!parsed.ok()) {
      return Unavailable("SearXNG at " + options_.url +
                         " sent an unusable answer: " + parsed.status().message());
    }
    return parsed;
  }
};

class BraveProvider : public BackoffProvider {
 public:
  using BackoffProvider::BackoffProvider;
  std::string_view name() const override { return "brave"; }

  Result<ProviderAnswer> Search(const ProviderQuery& query, Deadline deadline) override {
    LUMEN_RETURN_IF_ERROR(CheckBackoff());
    const HttpAnswer a =
        HttpGet(BraveRequestUrl(options_, query),
                {"Accept: application/json", "X-Subscription-Token: " + options_.api_key},
                options_.user_agent, TimeoutFor(options_, deadline));
    if (a.status == 0) return Unreachable(a);
    if (a.status == 429) return StartBackoff(a);
    if (a.status == 401 || a.status == 403) {
      return PermissionDenied("Brave Search at " + options_.url + " refused the API key (HTTP " +
                              std::to_string(a.status) +
                              "): check the key in the environment variable named by "
                              "search.api_key_env and the plan's limits");
    }
    if (a.status != 200) {
      return Unavailable("Brave Search at " + options_.url + " answered HTTP " +
                         std::to_string(a.status));
    }
    Result<ProviderAnswer> parsed = ParseBraveJson(a.body, query.max_results);
    if (!parsed.ok()) {
      return Unavailable("Brave Search sent an unusable answer: " + parsed.status().message());
    }
    return parsed;
  }
};

}  // namespace

Result<SearchProviderOptions> SearchProviderOptions::FromConfig(const Config& config) {
  SearchProviderOptions o;
  o.kind = config.GetString("search.provider");
  if (o.kind == "searx") o.kind = "searxng";
  o.url = TrimSlash(config.GetString("search.url"));
  if (o.kind == "brave" && o.url.empty()) o.url = "https://api.search.brave.com";
  const std::string key_env = config.GetString("search.api_key_env");
  if (!key_env.empty()) {
    if (const char* key = std::getenv(key_env.c_str()); key != nullptr) o.api_key = key;
  }
  o.categories = config.GetString("search.categories");
  o.language = config.GetString("search.language");
  o.timeout_ms = static_cast<int>(config.GetInt("search.provider_timeout_ms"));
  o.backoff_s = static_cast<int>(config.GetInt("search.provider_backoff_s"));
  o.user_agent = config.GetString("fetch.user_agent");
  if (o.kind != "none" && o.kind != "searxng" && o.kind != "brave") {
    return config.ValueError(
        "search.provider",
        "must be \"none\", \"searxng\" (or \"searx\") or \"brave\", got \"" + o.kind + "\"");
  }
  if (o.kind != "none" && o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
    return config.ValueError("search.url", "must be an http(s) URL when search.provider is \"" +
                                               o.kind + "\" (e.g. http://127.0.0.1:8888)");
  }
  if (o.kind == "brave" && o.api_key.empty()) {
    return config.ValueError("search.api_key_env",
                             "names the environment variable holding the Brave Search key (\"" +
                                 key_env + "\"), which is unset or empty");
  }
  if (o.timeout_ms < 1 || o.timeout_ms > 60000) {
    return config.ValueError("search.provider_timeout_ms", "must be 1..60000");
  }
  if (o.backoff_s < 0 || o.backoff_s > 86400) {
    return config.ValueError("search.provider_backoff_s", "must be 0..86400");
  }
  return o;
}

Result<std::unique_ptr<SearchProvider>> CreateSearchProvider(const SearchProviderOptions& o) {
  if (o.kind == "none") return std::unique_ptr<SearchProvider>();
  if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0)
    return InvalidArgument("search provider URL must be http(s), got \"" + o.url + "\"");
  if (o.kind == "searxng" || o.kind == "searx")
    return std::unique_ptr<SearchProvider>(std::make_unique<SearxngProvider>(o));
  if (o.kind == "brave") {
    if (o.api_key.empty()) return InvalidArgument("Brave Search needs an API key");
    return std::unique_ptr<SearchProvider>(std::make_unique<BraveProvider>(o));
  }
  return InvalidArgument("unknown search provider \"" + o.kind + "\"");
}

std::string SearxngRequestUrl(const SearchProviderOptions& o, const ProviderQuery& q) {
  std::string url = TrimSlash(o.url) + "/search?q=" + Escape(q.question) + "&format=json";
  if (!o.categories.empty()) url += "&categories=" + Escape(o.categories);
  if (!o.language.empty()) url += "&language=" + Escape(o.language);
  if (q.recency != Recency::kAny) url += "&time_range=" + std::string(RecencyName(q.recency));
  if (q.page > 1) url += "&pageno=" + std::to_string(q.page);
  return url;
}

std::string BraveRequestUrl(const SearchProviderOptions& o, const ProviderQuery& q) {
  std::string url = TrimSlash(o.url) + "/res/v1/web/search?q=" + Escape(q.question) +
                    "&count=" + std::to_string(std::clamp(q.max_results, 1, 20));
  if (q.page > 1) url += "&offset=" + std::to_string(std::min(q.page - 1, 9));
  if (!o.language.empty()) url += "&search_lang=" + Escape(o.language);
  switch (q.recency) {
    case Recency::kDay: url += "&freshness=pd"; break;
    case Recency::kWeek: url += "&freshness=pw"; break;
    case Recency::kMonth: url += "&freshness=pm"; break;
    case Recency::kYear: url += "&freshness=py"; break;
    case Recency::kAny: break;
  }
  return url;
}

Result<ProviderAnswer> ParseSearxngJson(std::string_view body, int max_results) {
  const Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("not JSON");
  auto results = j.find("results");
  if (results == j.end() || !results->is_array()) return InvalidArgument("no results array");
  ProviderAnswer out;
  std::set<std::string> seen;
  for (const Json& r : *results) {
    if (!r.is_object()) continue;
    SearchHit h;
    h.url = StringField(r, "url");
    h.title = StringField(r, "title");
    h.snippet = StringField(r, "content");
    h.engine = StringField(r, "engine");
    h.published = ParseIsoDate(StringField(r, "publishedDate"));
    AddHit(out, seen, std::move(h), max_results);
  }
  // [[engine, reason], ...] in SearXNG; tolerate plain names.
  std::string unresponsive;
  if (auto u = j.find("unresponsive_engines"); u != j.end() && u->is_array()) {
    for (const Json& e : *u) {
      std::string item;
      if (e.is_array() && !e.empty() && e[0].is_string()) {
        item = e[0].get<std::string>();
        if (e.size() > 1 && e[1].is_string()) item += " (" + e[1].get<std::string>() + ")";
      } else if (e.is_string()) {
        item = e.get<std::string>();
      }
      if (item.empty()) continue;
      if (!unresponsive.empty()) unresponsive += ", ";
      unresponsive += item;
    }
  }
  if (out.hits.empty()) {
    out.notes.push_back(unresponsive.empty()
                            ? "SearXNG found no results"
                            : "SearXNG found no results; unresponsive engines: " + unresponsive);
  } else if (!unresponsive.empty()) {
    out.notes.push_back("SearXNG engines that did not answer: " + unresponsive);
  }
  return out;
}

Result<ProviderAnswer> ParseBraveJson(std::string_view body, int max_results) {
  const Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("not JSON");
  ProviderAnswer out;
  auto web = j.find("web");
  if (web == j.end()) {
    // A query with no web results has no "web" object at all.
    if (j.contains("type")) {
      out.notes.push_back("Brave Search found no web results");
      return out;
    }
    return InvalidArgument("no results array");
  }
  if (!web->is_object() || !web->contains("results") || !(*web)["results"].is_array())
    return InvalidArgument("no results array");
  std::set<std::string> seen;
  for (const Json& r : (*web)["results"]) {
    if (!r.is_object()) continue;
    SearchHit h;
    h.url = StringField(r, "url");
    h.title = StringField(r, "title");
    h.snippet = StringField(r, "description");
    h.published = ParseIsoDate(StringField(r, "page_age"));
    h.engine = "brave";
    AddHit(out, seen, std::move(h), max_results);
  }
  if (out.hits.empty()) out.notes.push_back("Brave Search found no web results");
  return out;
}

}  // namespace lumen::retrieval
