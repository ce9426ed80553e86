#include "web/query_service.h"

#include "ranking/sources.h"
#include "web/query_params.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <random>

namespace lumen::web {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string Snippet(std::string_view text, std::size_t max = 240) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= max) break;
  }
  if (out.size() >= max) {
    std::size_t end = out.size();
    while (end > 0 && (static_cast<unsigned char>(out[end - 1]) & 0xC0) == 0x80) --end;
    if (end > 0 && static_cast<unsigned char>(out[end - 1]) >= 0xC0) --end;  // cut lead byte
    out.resize(end);
    const std::size_t space_at = out.rfind(' ');
    if (space_at != std::string::npos && space_at > max / 2) out.resize(space_at);
    out += "…";
  }
  return out;
}

}  // namespace

std::string NormaliseQuery(std::string_view query) {
  std::string out;
  bool space = false;
  for (char c : query) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 2; ++i) {
    std::uint64_t v = rng();
    for (int j = 0; j < 16; ++j) {
      id += kHex[v & 15];
      v >>= 4;
    }
  }
  return id;
}

Result<QueryServiceOptions> QueryServiceOptions::FromConfig(const Config& config) {
  QueryServiceOptions o;
  auto positive = [&](const char* key, std::int64_t lo, std::int64_t hi, auto& out) -> Status {
    const std::int64_t v = config.GetInt(key);
    if (v < lo || v > hi) {
      return config.ValueError(key, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
    return Status::Ok();
  };
  LUMEN_RETURN_IF_ERROR(positive("search.max_sources", 1, 20, o.max_sources));
  LUMEN_RETURN_IF_ERROR(positive("search.max_source_chars", 200, 20000, o.max_source_chars));
  LUMEN_RETURN_IF_ERROR(
      positive("ranking.source_token_budget", 50, 1'000'000, o.source_token_budget));
  LUMEN_RETURN_IF_ERROR(positive("search.max_query_chars", 16, 100000, o.max_query_chars));
  LUMEN_RETURN_IF_ERROR(positive("search.deadline_ms", 100, 600000, o.deadline_ms));
  LUMEN_RETURN_IF_ERROR(positive("search.retrieval_budget_ms", 10, 600000, o.retrieval_budget_ms));
  LUMEN_RETURN_IF_ERROR(positive("search.cache_entries", 0, 10'000'000, o.cache_entries));
  LUMEN_RETURN_IF_ERROR(positive("search.cache_ttl_s", 0, 86400 * 7, o.cache_ttl_s));
  LUMEN_RETURN_IF_ERROR(positive("answer.max_tokens", 1, 32768, o.max_tokens));
  return o;
}

QueryService::QueryService(QueryServiceOptions options, const ranking::HybridRetriever* retriever,
                           answer::ModelBackend* backend, ads::AdServer* ads, Logger& log,
                           retrieval::LiveSearch* live, retrieval::Store* store)
    : options_(options),
      retriever_(retriever),
      backend_(backend),
      ads_(ads),
      log_(log),
      live_(live),
      store_(store),
      writer_(backend, answer::AnswerOptions{.max_tokens = options.max_tokens,
                                             .max_source_chars = options.max_source_chars}),
      cache_(options.cache_entries, std::chrono::seconds(options.cache_ttl_s)) {}

std::vector<answer::Turn> QueryService::Thread(const std::string& id) {
  std::lock_guard<std::mutex> lock(threads_mu_);
  auto it = threads_.find(id);
  return it == threads_.end() ? std::vector<answer::Turn>{} : it->second;
}

void QueryService::Remember(const std::string& id, answer::Turn turn) {
  std::lock_guard<std::mutex> lock(threads_mu_);
  auto it = threads_.find(id);
  if (it == threads_.end()) {
    if (threads_.size() >= options_.max_threads && !thread_order_.empty()) {
      threads_.erase(thread_order_.front());
      thread_order_.erase(thread_order_.begin());
    }
    thread_order_.push_back(id);
    it = threads_.emplace(id, std::vector<answer::Turn>{}).first;
  }
  it->second.push_back(std::move(turn));
  if (static_cast<int>(it->second.size()) > options_.max_thread_turns) {
    it->second.erase(it->second.begin());
  }
}

Result<SearchResponse> QueryService::Search(
    const SearchRequest& raw_request, const std::function<void(const SearchEvent&)>& on_event) {
  const Clock::time_point t0 = Clock::now();
  // Invalid UTF-8 from clients is replaced, never passed on (JSON output must be valid UTF-8).
  SearchRequest request = raw_request;
  request.query = ValidUtf8(request.query);
  request.thread_id = ValidUtf8(request.thread_id);
  const std::string query = NormaliseQuery(request.query).empty() ? "" : request.query;
  if (query.empty()) return InvalidArgument("the query is empty");
  if (static_cast<int>(request.query.size()) > options_.max_query_chars) {
    return InvalidArgument("the query is longer than " + std::to_string(options_.max_query_chars) +
                           " bytes");
  }
  const Deadline deadline = Deadline::AfterMs(options_.deadline_ms);
  const int max_sources =
      request.max_sources > 0 ? std::min(request.max_sources, 20) : options_.max_sources;

  SearchResponse response;
  response.id =
      request.ad_context.request_id.empty() ? NewRequestId() : request.ad_context.request_id;
  response.thread_id = request.thread_id.empty() ? NewRequestId() : request.thread_id;
  const std::vector<answer::Turn> thread =
      request.thread_id.empty() ? std::vector<answer::Turn>{} : Thread(request.thread_id);

  auto emit = [&](SearchEvent e) {
    if (on_event) on_event(e);
  };

  const std::string cache_key =
      NormaliseQuery(query) + "\x1f" + std::to_string(max_sources) + "\x1f" + request.filter.Key();
  std::shared_ptr<const SearchResult> result;
  if (thread.empty()) result = cache_.Get(cache_key);
  if (result) {
    response.cached = true;
    emit({SearchEvent::kSources, "", result.get()});
    emit({SearchEvent::kDelta, result->answer.text});
    emit({SearchEvent::kCitations, "", result.get()});
  } else {
    auto fresh = std::make_shared<SearchResult>();
    fresh->query = query;
    fresh->retrieval_query = answer::StandaloneQuery(query, thread);

    // Live search: the provider's best pages are read into the store now, so the ranking below
    // sees them with the local passages. A provider failure leaves the local index to answer.
    if (live_ != nullptr) {
      fresh->live = live_->Run(fresh->retrieval_query, request.filter, deadline);
      for (const std::string& note : fresh->live->notes) {
        fresh->stage_errors.push_back(
            "search provider: " + note +
            (fresh->live->provider_failed ? " (answered from the local index only)" : ""));
      }
      if (fresh->live->provider_failed) {
        log_.Warn("search provider failed", {{"error", fresh->live->notes.front()}});
      }
    }

    // Retrieval, within its own budget.
    const Clock::time_point tr = Clock::now();
    answer::SourceList sources;
    if (retriever_ == nullptr) {
      fresh->stage_errors.push_back("retrieval: no index is configured");
    } else {
      // Filters drop candidates after ranking, so more are ranked when filters are set.
      const int depth = request.filter.empty() ? max_sources * 2 : max_sources * 10;
      Result<std::vector<ranking::RankedPassage>> ranked =
          retriever_->Search(fresh->retrieval_query, depth);
      if (ranked.ok() && !request.filter.empty()) {
        const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
        std::erase_if(*ranked, [&](const ranking::RankedPassage& p) {
          return !request.filter.AllowsUrl(p.view.url) ||
                 !request.filter.AllowsDate(p.view.published, now);
        });
      }
      if (!ranked.ok()) {
        fresh->stage_errors.push_back("retrieval: " + ranked.status().ToString());
        log_.Warn("retrieval failed", {{"error", ranked.status().ToString()}});
      } else {
        // The numbered sources: best first, within the prompt's token budget.
        std::map<std::int64_t, const ranking::RankedPassage*> by_id;
        for (const ranking::RankedPassage& p : *ranked) by_id[p.view.id] = &p;
        for (const ranking::Source& chosen :
             ranking::SelectSources(*ranked, options_.source_token_budget, max_sources)) {
          const ranking::RankedPassage& p = *by_id.at(chosen.passage_id);
          answer::Source s;
          s.n = chosen.number;
          s.url = p.view.url;
          s.title = p.view.title;
          s.site = p.view.site;
          s.heading_path = p.view.passage.heading_path;
          s.text = p.view.passage.text;
          s.passage_id = p.view.id;
          s.published = p.view.published;
          std::int64_t fetched_at = 0;
          if (store_ != nullptr) {
            Result<std::optional<retrieval::PageRecord>> page =
                store_->FindPageById(p.view.passage.page_id);
            if (page.ok() && page->has_value()) fetched_at = (*page)->fetched_at;
          }
          fresh->sources.push_back({s, Snippet(s.text), fetched_at});
          sources.push_back(std::move(s));
        }
      }
    }
    fresh->retrieval_ms = MsSince(tr);
    if (MsSince(tr) > static_cast<double>(options_.retrieval_budget_ms)) {
      fresh->stage_errors.push_back("retrieval: over its budget of " +
                                    std::to_string(options_.retrieval_budget_ms) + " ms");
    }
    emit({SearchEvent::kSources, "", fresh.get()});

    // The answer (model or extractive; the writer falls back by itself).
    const Clock::time_point ta = Clock::now();
    answer::AnswerRequest ar;
    ar.question = query;
    ar.thread = thread;
    ar.sources = std::move(sources);
    ar.deadline = deadline;
    ar.on_delta = [&](std::string_view d) {
      emit({SearchEvent::kDelta, std::string(d)});
      return true;
    };
    fresh->answer = writer_.Write(ar);
    if (!fresh->answer.fallback_reason.empty() && backend_ != nullptr) {
      fresh->stage_errors.push_back("answer: model not used (" + fresh->answer.fallback_reason +
                                    ")");
    }
    fresh->answer_ms = MsSince(ta);
    emit({SearchEvent::kCitations, "", fresh.get()});
    const bool cacheable =
        thread.empty() && fresh->answer.fallback_reason.empty() && fresh->stage_errors.empty();
    result = fresh;
    if (cacheable) cache_.Put(cache_key, result);
  }
  response.result = result;
  Remember(response.thread_id, {query, result->answer.text});

  // Sponsored slots: after the answer is final, from the question alone.
  const Clock::time_point ts = Clock::now();
  if (ads_ != nullptr) {
    ads::RequestContext ctx = request.ad_context;
    ctx.request_id = response.id;
    ads::ServeResult served = ads_->Serve(query, ctx);
    response.sponsored = std::move(served.slots);
  }
  response.sponsored_ms = MsSince(ts);
  emit({SearchEvent::kSponsored, "", nullptr, &response});
  response.total_ms = MsSince(t0);
  emit({SearchEvent::kDone, "", nullptr, &response});
  return response;
}

}  // namespace lumen::web
