#include "retrieval/live_fetch.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

#include "retrieval/crawler.h"
#include "retrieval/extractor.h"
#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

using Clock = std::chrono::steady_clock;

// Tags at or above this mark robots.txt fetches; below it, the candidate's index.
constexpr std::uint64_t kRobotsTag = 1ULL << 62;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string Origin(const UrlParts& p) {
  return p.scheme + "://" + p.host + ":" + std::to_string(p.port);
}

// Same hash as the crawler's (FNV-1a 64 of the text), so a crawled and a live-fetched copy of
// one page compare equal.
std::string HexHash(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

Result<LiveFetchOptions> LiveFetchOptions::FromConfig(const Config& config) {
  LiveFetchOptions o;
  LUMEN_ASSIGN_OR_RETURN(o.fetcher, FetcherOptions::FromConfig(config));
  o.max_pages = static_cast<int>(config.GetInt("search.live_pages"));
  o.budget_ms = static_cast<int>(config.GetInt("search.live_budget_ms"));
  o.refetch_after_s = config.GetInt("search.refetch_after_s");
  o.chunker.min_words = static_cast<int>(config.GetInt("crawl.passage_min_words"));
  o.chunker.max_words = static_cast<int>(config.GetInt("crawl.passage_max_words"));
  o.robots.ttl = std::chrono::seconds(config.GetInt("fetch.robots_ttl_s"));
  o.robots.unreachable_ttl = std::chrono::seconds(config.GetInt("fetch.robots_unreachable_ttl_s"));
  const std::string& ua = o.fetcher.user_agent;
  o.robots_token = ua.substr(0, ua.find_first_of("/ "));
  if (o.max_pages < 0 || o.max_pages > 50)
    return config.ValueError("search.live_pages", "must be 0..50");
  if (o.budget_ms < 1 || o.budget_ms > 600000)
    return config.ValueError("search.live_budget_ms", "must be 1..600000");
  if (o.refetch_after_s < 0) return config.ValueError("search.refetch_after_s", "must be >= 0");
  return o;
}

LiveFetcher::LiveFetcher(Store& store, LiveFetchOptions options, AddressPolicy policy)
    : store_(store),
      options_(std::move(options)),
      policy_(std::move(policy)),
      robots_(options_.robots) {}

LiveFetchReport LiveFetcher::FetchAndStore(std::span<const SearchHit> hits,
                                           Deadline request_deadline) {
  const Clock::time_point t0 = Clock::now();
  const Deadline deadline = request_deadline.Min(Deadline::AfterMs(options_.budget_ms));
  LiveFetchReport report;
  const std::size_t n = std::min<std::size_t>(hits.size(), std::max(options_.max_pages, 0));
  report.pages.resize(n);
  if (n == 0) return report;

  FetcherOptions fo = options_.fetcher;
  fo.per_host_delay_ms = 0;
  fo.max_per_host = std::max(fo.max_per_host, options_.max_pages);
  Fetcher fetcher(fo, policy_);

  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  auto done = [&](std::size_t i, std::string outcome) {
    report.pages[i].outcome = std::move(outcome);
    report.pages[i].ms = MsSince(t0);
  };
  std::map<std::string, std::vector<std::size_t>> waiting;  // origin -> candidates
  std::map<std::uint64_t, std::string> robots_tags;
  std::uint64_t next_robots_tag = kRobotsTag;

  auto dispatch = [&](std::size_t i, const UrlParts& parts, const RobotsRules& rules) {
    if (!rules.IsAllowed(parts.path)) return done(i, "robots_disallowed");
    fetcher.Add({.url = report.pages[i].url, .deadline = deadline, .tag = i});
  };

  for (std::size_t i = 0; i < n; ++i) {
    LivePage& page = report.pages[i];
    page.url = hits[i].url;
    Result<UrlParts> parts = SplitUrl(page.url);
    if (!parts.ok()) {
      done(i, "bad_url");
      continue;
    }
    Result<std::optional<PageRecord>> stored = store_.FindPageByUrl(page.url);
    if (stored.ok() && stored->has_value() && options_.refetch_after_s > 0 &&
        (*stored)->fetched_at >= now - options_.refetch_after_s) {
      page.page_id = (*stored)->id;
      done(i, "fresh");
      continue;
    }
    const std::string origin = Origin(*parts);
    if (std::optional<RobotsRules> rules = robots_.Find(origin)) {
      dispatch(i, *parts, *rules);
      continue;
    }
    std::vector<std::size_t>& w = waiting[origin];
    w.push_back(i);
    if (w.size() == 1) {
      const std::uint64_t tag = next_robots_tag++;
      robots_tags[tag] = origin;
      fetcher.Add({.url = origin + "/robots.txt",
                   .deadline = deadline,
                   .tag = tag,
                   .any_content_type = true,
                   .max_body_bytes = kMaxRobotsBytes,
                   .keep_truncated = true});
    }
  }

  auto handle_robots = [&](const FetchResult& r) {
    auto it = robots_tags.find(r.tag);
    if (it == robots_tags.end()) return;
    const std::string origin = it->second;
    std::vector<std::size_t> parked = std::move(waiting[origin]);
    waiting.erase(origin);
    if (!r.ok() && deadline.remaining_ms() < 100) {
      // Our own budget ran out: that says nothing about the site, so nothing is cached.
      for (std::size_t i : parked) done(i, "over_budget");
      return;
    }
    if (r.reason == "blocked_address" || r.reason == "blocked_scheme" || r.reason == "bad_url") {
      // The SSRF guard refused the origin itself: its pages are refused for the same reason.
      for (std::size_t i : parked) done(i, r.reason);
      return;
    }
    bool unreachable = false;
    RobotsRules rules = RulesFromFetch({.http_status = r.ok() ? r.http_status : 0, .body = r.body},
                                       options_.robots_token, &unreachable);
    robots_.Put(origin, rules, unreachable);
    for (std::size_t i : parked) {
      if (unreachable) {
        done(i, "robots_unreachable");
        continue;
      }
      Result<UrlParts> parts = SplitUrl(report.pages[i].url);
      dispatch(i, *parts, rules);
    }
  };

  auto handle_page = [&](FetchResult& r) {
    const std::size_t i = static_cast<std::size_t>(r.tag);
    if (i >= n) return;
    if (!r.ok()) {
      // The fetcher ends a transfer at the budget's deadline with "timeout", a hair before the
      // deadline reads as expired here.
      const bool budget =
          deadline.remaining_ms() < 100 &&
          (r.reason == "timeout" || r.reason == "stalled" || r.reason == "cancelled");
      return done(i, budget ? "over_budget" : r.reason);
    }
    Result<ExtractedPage> page = ExtractPage(r.body, r.final_url);
    if (!page.ok()) return done(i, "binary_content");
    if (page->text.empty()) return done(i, "empty_page");
    PageRecord record;
    record.url = report.pages[i].url;
    record.canonical_url = page->canonical_url;
    record.title = !page->title.empty() ? page->title : hits[i].title;
    Result<UrlParts> parts = SplitUrl(r.final_url);
    record.site = !page->site_name.empty() ? page->site_name : parts.ok() ? parts->host : "";
    record.language = page->language;
    record.published = ParseIsoDate(page->published);
    if (record.published == 0) record.published = hits[i].published;
    record.fetched_at = static_cast<std::int64_t>(std::time(nullptr));
    record.content_hash = HexHash(page->text);
    record.text = page->text;
    const std::vector<Passage> passages = ChunkPage(*page, options_.chunker);
    Result<UpsertResult> stored = store_.UpsertPage(record, passages);
    if (!stored.ok()) return done(i, "store_error");
    report.pages[i].page_id = stored->page_id;
    report.pages[i].passages = static_cast<int>(passages.size());
    if (on_stored_ && !on_stored_(*stored).ok()) return done(i, "index_error");
    done(i, "ok");
  };

  auto handle = [&](std::vector<FetchResult> results) {
    for (FetchResult& r : results) {
      if (r.tag >= kRobotsTag) {
        handle_robots(r);
      } else {
        handle_page(r);
      }
    }
  };
  // Requests refused before any transfer (the SSRF guard on an address literal) finish inside
  // Add: the first Poll returns them even though nothing is pending.
  handle(fetcher.Poll(0));
  while (fetcher.pending() > 0) {
    if (deadline.expired()) {
      for (FetchResult& r : fetcher.CancelAll()) {
        if (r.tag >= kRobotsTag) {
          handle_robots(r);
        } else if (r.tag < n) {
          done(static_cast<std::size_t>(r.tag), "over_budget");
        }
      }
      break;
    }
    const int wait = static_cast<int>(std::clamp<long long>(deadline.remaining_ms(), 1, 50));
    handle(fetcher.Poll(wait));
    // Pages dispatched after robots.txt may have been refused at once, as above.
    if (fetcher.pending() == 0) handle(fetcher.Poll(0));
  }
  for (std::size_t i = 0; i < n; ++i)
    if (report.pages[i].outcome.empty()) done(i, "over_budget");
  report.elapsed_ms = MsSince(t0);
  return report;
}

}  // namespace lumen::retrieval
