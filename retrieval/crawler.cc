#include "retrieval/crawler.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <thread>

#include "retrieval/extractor.h"
#include "retrieval/frontier.h"
#include "retrieval/simhash.h"
#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

using Clock = std::chrono::steady_clock;

// Tags above this mark robots.txt fetches; the entry id is below it.
constexpr std::uint64_t kRobotsTag = 1ULL << 62;

std::string Origin(const UrlParts& p) {
  return p.scheme + "://" + p.host + ":" + std::to_string(p.port);
}

std::string HexHash(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Outcomes that are a policy's "no" rather than an error.
bool IsSkipReason(const std::string& reason) {
  return reason == "robots_disallowed" || reason == "unsupported_content_type" ||
         reason == "binary_content" || reason == "near_duplicate" || reason == "blocked_address" ||
         reason == "blocked_scheme" || reason == "empty_page";
}

}  // namespace

std::int64_t ParseIsoDate(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const std::string t(text.substr(0, 64));
  const int n = std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s);
  if (n < 3 || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = n >= 4 ? h : 0;
  tm.tm_min = n >= 5 ? mi : 0;
  tm.tm_sec = n >= 6 ? s : 0;
  std::int64_t secs = static_cast<std::int64_t>(timegm(&tm));
  // A trailing offset "+02:00" / "-0500".
  if (n >= 5 && t.size() > 19) {
    const std::size_t sign = t.find_first_of("+-", 19);
    if (sign != std::string::npos) {
      int oh = 0, om = 0;
      if (std::sscanf(t.c_str() + sign + 1, "%2d:%2d", &oh, &om) >= 1 ||
          std::sscanf(t.c_str() + sign + 1, "%2d%2d", &oh, &om) >= 1) {
        const int offset = oh * 3600 + om * 60;
        secs += t[sign] == '+' ? -offset : offset;
      }
    }
  }
  return secs > 0 ? secs : 0;
}

Result<CrawlOptions> CrawlOptions::FromConfig(const Config& config) {
  CrawlOptions o;
  o.max_pages = static_cast<int>(config.GetInt("crawl.max_pages"));
  o.max_depth = static_cast<int>(config.GetInt("crawl.max_depth"));
  o.concurrency = static_cast<int>(config.GetInt("crawl.concurrency"));
  o.near_duplicate_bits = static_cast<int>(config.GetInt("crawl.near_duplicate_bits"));
  o.chunker.min_words = static_cast<int>(config.GetInt("crawl.passage_min_words"));
  o.chunker.max_words = static_cast<int>(config.GetInt("crawl.passage_max_words"));
  o.retry_delay_s = static_cast<int>(config.GetInt("crawl.retry_delay_s"));
  o.max_retries = static_cast<int>(config.GetInt("crawl.max_retries"));
  o.robots.ttl = std::chrono::seconds(config.GetInt("fetch.robots_ttl_s"));
  o.robots.unreachable_ttl = std::chrono::seconds(config.GetInt("fetch.robots_unreachable_ttl_s"));
  const std::string ua = config.GetString("fetch.user_agent");
  o.robots_token = ua.substr(0, ua.find_first_of("/ "));
  if (o.max_pages < 1) return config.ValueError("crawl.max_pages", "must be >= 1");
  if (o.max_depth < 0) return config.ValueError("crawl.max_depth", "must be >= 0");
  if (o.concurrency < 1) return config.ValueError("crawl.concurrency", "must be >= 1");
  if (o.chunker.max_words < 10)
    return config.ValueError("crawl.passage_max_words", "must be >= 10");
  if (o.chunker.min_words < 0 || o.chunker.min_words > o.chunker.max_words) {
    return config.ValueError("crawl.passage_min_words", "must be between 0 and passage_max_words");
  }
  return o;
}

Crawler::Crawler(Store& store, Fetcher& fetcher, CrawlOptions options, Logger& log)
    : store_(store), fetcher_(fetcher), options_(std::move(options)), log_(log) {}

Result<CrawlSummary> Crawler::Run(const std::vector<std::string>& seeds,
                                  const std::atomic<bool>& stop,
                                  const std::function<void(const CrawlProgress&)>& on_progress) {
  const auto started = Clock::now();
  std::set<std::string> hosts(options_.allow_hosts.begin(), options_.allow_hosts.end());
  std::vector<std::string> normalized;
  for (const std::string& s : seeds) {
    Result<UrlParts> p = SplitUrl(s);
    if (!p.ok()) return p.status();
    LUMEN_ASSIGN_OR_RETURN(std::string n, NormalizeUrl(s));
    normalized.push_back(n);
    if (options_.same_host) hosts.insert(p->host);
  }
  const bool any_host = !options_.same_host && options_.allow_hosts.empty();

  LUMEN_ASSIGN_OR_RETURN(Frontier frontier, Frontier::Open(store_));
  LUMEN_ASSIGN_OR_RETURN(int recovered, frontier.RecoverInterrupted());
  if (recovered > 0) log_.Info("resuming interrupted fetches", {{"count", recovered}});
  if (options_.refresh) {
    LUMEN_ASSIGN_OR_RETURN(int again, frontier.RequeueFinished());
    log_.Info("refresh: finished pages queued again", {{"count", again}});
  }
  for (const std::string& n : normalized) {
    LUMEN_ASSIGN_OR_RETURN(bool added, frontier.Add(n, 0));
    (void)added;
  }

  CrawlSummary summary;
  CrawlProgress& progress = summary.progress;
  RobotsCache robots(options_.robots);
  std::map<std::string, std::vector<FrontierEntry>> waiting_robots;  // origin -> entries
  std::set<std::string> robots_in_flight;
  std::map<std::uint64_t, FrontierEntry> in_flight;  // entry id -> entry
  std::map<std::uint64_t, std::string> robots_tags;  // tag -> origin
  std::vector<std::uint64_t> fingerprints;
  std::uint64_t next_robots_tag = kRobotsTag;
  int finished = 0;

  auto report = [&](const std::string& url, const std::string& reason) {
    progress.last_url = url;
    progress.last_reason = reason;
    progress.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
    progress.in_flight = static_cast<std::int64_t>(fetcher_.pending());
    if (on_progress) on_progress(progress);
  };
  auto finish = [&](const FrontierEntry& e, const std::string& state,
                    const std::string& reason) -> Status {
    LUMEN_RETURN_IF_ERROR(frontier.Finish(e.id, state, reason));
    ++finished;
    if (state == "done") {
      ++progress.done;
    } else if (state == "skipped") {
      ++progress.skipped;
      ++summary.skipped_by_reason[reason];
    } else {
      ++progress.failed;
      ++summary.failed_by_reason[reason];
    }
    if (progress.queued > 0) --progress.queued;
    log_.Debug("crawled", {{"url", e.url}, {"state", state}, {"reason", reason}});
    report(e.url, reason);
    return Status::Ok();
  };
  auto host_allowed = [&](const UrlParts& p) { return any_host || hosts.count(p.host) > 0; };
  // Sends an entry to the fetcher once its origin's robots.txt is known.
  auto dispatch = [&](const FrontierEntry& e) -> Status {
    Result<UrlParts> parts = SplitUrl(e.url);
    if (!parts.ok()) return finish(e, "failed", "bad_url");
    const std::string origin = Origin(*parts);
    std::optional<RobotsRules> rules = robots.Find(origin);
    if (!rules) {
      waiting_robots[origin].push_back(e);
      if (robots_in_flight.insert(origin).second) {
        const std::uint64_t tag = next_robots_tag++;
        robots_tags[tag] = origin;
        fetcher_.Add({.url = parts->scheme + "://" + parts->host + ":" +
                             std::to_string(parts->port) + "/robots.txt",
                      .tag = tag,
                      .any_content_type = true,
                      .max_body_bytes = kMaxRobotsBytes,
                      .keep_truncated = true});
      }
      return Status::Ok();
    }
    if (!rules->IsAllowed(parts->path)) return finish(e, "skipped", "robots_disallowed");
    in_flight[static_cast<std::uint64_t>(e.id)] = e;
    fetcher_.Add({.url = e.url, .tag = static_cast<std::uint64_t>(e.id)});
    return Status::Ok();
  };

  auto handle_page = [&](const FrontierEntry& e, FetchResult& r) -> Status {
    progress.bytes += r.bytes_received;
    if (!r.ok()) {
      if ((r.http_status == 429 || r.http_status == 503) && e.attempts < options_.max_retries) {
        const int after = r.retry_after_s.value_or(options_.retry_delay_s);
        LUMEN_RETURN_IF_ERROR(frontier.Retry(e.id, std::time(nullptr) + after, r.reason));
        ++progress.queued;
        report(e.url, r.reason + " (retry in " + std::to_string(after) + " s)");
        return Status::Ok();
      }
      return finish(e, IsSkipReason(r.reason) ? "skipped" : "failed", r.reason);
    }
    Result<ExtractedPage> page = ExtractPage(r.body, r.final_url);
    if (!page.ok()) return finish(e, "skipped", "binary_content");
    // Links first: even a duplicate or empty page leads somewhere.
    if (e.depth < options_.max_depth) {
      for (const Link& l : page->links) {
        Result<UrlParts> lp = SplitUrl(l.url);
        if (!lp.ok() || !host_allowed(*lp)) continue;
        LUMEN_ASSIGN_OR_RETURN(bool added, frontier.Add(l.url, e.depth + 1));
        if (added) ++progress.queued;
      }
    }
    if (page->text.empty()) return finish(e, "skipped", "empty_page");
    if (options_.near_duplicate_bits >= 0) {
      const std::uint64_t fp = SimHash(page->text);
      for (std::uint64_t other : fingerprints) {
        if (NearDuplicate(fp, other, options_.near_duplicate_bits)) {
          return finish(e, "skipped", "near_duplicate");
        }
      }
      fingerprints.push_back(fp);
    }
    PageRecord record;
    record.url = e.url;
    record.canonical_url = page->canonical_url;
    record.title = page->title;
    Result<UrlParts> parts = SplitUrl(r.final_url);
    record.site = !page->site_name.empty() ? page->site_name : parts.ok() ? parts->host : "";
    record.language = page->language;
    record.published = ParseIsoDate(page->published);
    record.fetched_at = static_cast<std::int64_t>(std::time(nullptr));
    record.content_hash = HexHash(page->text);
    record.text = page->text;
    const std::vector<Passage> passages = ChunkPage(*page, options_.chunker);
    Result<UpsertResult> stored = store_.UpsertPage(record, passages);
    if (!stored.ok()) return stored.status();
    if (stored->unchanged) ++summary.unchanged;
    summary.passages += static_cast<std::int64_t>(stored->added_passage_ids.size());
    return finish(e, "done", "ok");
  };

  auto handle_robots = [&](const std::string& origin, FetchResult& r) -> Status {
    robots_in_flight.erase(origin);
    bool unreachable = false;
    RobotsRules rules = RulesFromFetch(
        {.http_status = r.reason == "ok" || r.reason.rfind("http_", 0) == 0 ? r.http_status : 0,
         .body = r.body},
        options_.robots_token, &unreachable);
    if (rules.crawl_delay_seconds()) {
      Result<UrlParts> p = SplitUrl(origin + "/");
      if (p.ok()) {
        fetcher_.SetHostDelay(p->host + ":" + std::to_string(p->port),
                              static_cast<int>(*rules.crawl_delay_seconds() * 1000));
      }
    }
    if (unreachable)
      log_.Warn("robots.txt unreachable: host paused", {{"origin", origin}, {"reason", r.reason}});
    robots.Put(origin, std::move(rules), unreachable);
    std::vector<FrontierEntry> parked = std::move(waiting_robots[origin]);
    waiting_robots.erase(origin);
    for (const FrontierEntry& e : parked) {
      // Unreachable robots.txt: the host is off limits for now; retry the URLs later.
      if (unreachable && e.attempts < options_.max_retries) {
        LUMEN_RETURN_IF_ERROR(
            frontier.Retry(e.id, std::time(nullptr) + options_.robots.unreachable_ttl.count(),
                           "robots_unreachable"));
        continue;
      }
      if (unreachable) {
        LUMEN_RETURN_IF_ERROR(finish(e, "failed", "robots_unreachable"));
        continue;
      }
      LUMEN_RETURN_IF_ERROR(dispatch(e));
    }
    return Status::Ok();
  };

  {
    LUMEN_ASSIGN_OR_RETURN(auto counts, frontier.CountByState());
    progress.queued = counts["queued"];
  }
  while (!stop.load()) {
    // Fill the pipeline.
    const std::size_t want = static_cast<std::size_t>(options_.concurrency);
    std::size_t busy = in_flight.size();
    for (const auto& [o, v] : waiting_robots) busy += v.size();
    if (busy < want && finished + static_cast<int>(busy) < options_.max_pages) {
      const std::size_t room = std::min<std::size_t>(
          want - busy, static_cast<std::size_t>(options_.max_pages - finished) - busy);
      LUMEN_ASSIGN_OR_RETURN(std::vector<FrontierEntry> ready,
                             frontier.Take(room, static_cast<std::int64_t>(std::time(nullptr))));
      for (const FrontierEntry& e : ready) LUMEN_RETURN_IF_ERROR(dispatch(e));
      busy = in_flight.size();
      for (const auto& [o, v] : waiting_robots) busy += v.size();
    }
    if (finished >= options_.max_pages && busy == 0) break;
    if (fetcher_.pending() == 0 && busy == 0) {
      // Nothing running: either done, or waiting for a retry time.
      LUMEN_ASSIGN_OR_RETURN(std::int64_t next, frontier.NextNotBefore());
      if (next == 0) break;
      const std::int64_t wait = next - static_cast<std::int64_t>(std::time(nullptr));
      // Retries far in the future are left for a later run rather than waited for.
      if (wait > options_.max_retry_wait_s) break;
      if (wait > 0)
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::min<std::int64_t>(wait * 1000, 200)));
      continue;
    }
    for (FetchResult& r : fetcher_.Poll(100)) {
      if (r.tag >= kRobotsTag) {
        auto it = robots_tags.find(r.tag);
        if (it == robots_tags.end()) continue;
        const std::string origin = it->second;
        robots_tags.erase(it);
        LUMEN_RETURN_IF_ERROR(handle_robots(origin, r));
        continue;
      }
      auto it = in_flight.find(r.tag);
      if (it == in_flight.end()) continue;
      const FrontierEntry e = it->second;
      in_flight.erase(it);
      LUMEN_RETURN_IF_ERROR(handle_page(e, r));
    }
  }
  if (stop.load()) {
    summary.interrupted = true;
    fetcher_.CancelAll();
    for (const auto& [id, e] : in_flight) LUMEN_RETURN_IF_ERROR(frontier.Requeue(e.id));
    for (const auto& [origin, entries] : waiting_robots) {
      for (const FrontierEntry& e : entries) LUMEN_RETURN_IF_ERROR(frontier.Requeue(e.id));
    }
  }
  {
    LUMEN_ASSIGN_OR_RETURN(auto counts, frontier.CountByState());
    progress.queued = counts["queued"];
  }
  progress.in_flight = 0;
  progress.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  return summary;
}

}  // namespace lumen::retrieval
