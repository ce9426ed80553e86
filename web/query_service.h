// QueryService: one search request, start to finish —
//
//   question -> [live search: provider + on-demand fetch into the store, when configured] ->
//   retrieval (hybrid BM25 + dense) -> source filters (recency, domains) -> numbered sources ->
//   answer (model or extractive, citations checked) -> sponsored slots (after the answer, from
//   the question alone) -> response with per-stage timings
//
// Each request has a deadline; a stage that fails or runs out of time is reported in
// `stage_errors` and the rest still answers (no sources -> the answer says so; no ads -> no
// slots). Results are cached (LRU + TTL) by normalised question and options, without sponsored
// slots, which are chosen anew for every request. Follow-up questions in a thread are rewritten
// into standalone queries for retrieval and answered with the thread as context.
//
// The answer path never sees the ad server: slots are requested only after the answer is final,
// from the question text and the request context.
//
// Thread-safe: Search may run concurrently (the retriever, writer and ad server are).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ads/ad_server.h"
#include "core/config.h"
#include "core/log.h"
#include "llm/answer/answer_writer.h"
#include "ranking/hybrid.h"
#include "retrieval/live_search.h"
#include "retrieval/source_filter.h"
#include "web/result_cache.h"

namespace lumen::web {

struct QueryServiceOptions {
  int max_sources = 6;             // sources numbered for one answer
  int max_source_chars = 1500;     // each source's text given to the writer
  int max_tokens = 400;            // longest generated answer (answer.max_tokens)
  int source_token_budget = 2000;  // all sources' text together (ranking::SelectSources)
  int max_query_chars = 2000;
  std::int64_t deadline_ms = 10000;  // whole request
  std::int64_t retrieval_budget_ms = 2000;
  std::size_t cache_entries = 1000;
  std::int64_t cache_ttl_s = 300;
  std::size_t max_threads = 10000;  // conversations kept in memory
  int max_thread_turns = 6;

  static Result<QueryServiceOptions> FromConfig(const Config& config);
};

struct SearchRequest {
  std::string query;
  std::string thread_id;           // "" = a new conversation; responses carry the id to continue it
  int max_sources = 0;             // 0 = the configured default
  ads::RequestContext ad_context;  // who is asking (for frequency caps and bot filtering)
  retrieval::SourceFilter filter;  // recency and domains (Perplexity's API options)
};

// A source as shown to the user.
struct ShownSource {
  answer::Source source;
  std::string snippet;          // the first ~240 characters of the passage
  std::int64_t fetched_at = 0;  // when the page was read (Unix seconds; 0 = unknown)
};

// The cacheable part of a response.
struct SearchResult {
  std::string query;
  std::string retrieval_query;  // the standalone query used for retrieval
  answer::Answer answer;
  std::vector<ShownSource> sources;
  std::vector<std::string> stage_errors;  // "retrieval: ...", "answer: ...", "search provider: ..."
  // The live search's report (provider candidates, pages read or skipped), when one ran.
  std::optional<retrieval::LiveSearchReport> live;
  double retrieval_ms = 0;
  double answer_ms = 0;
};

struct SearchResponse {
  std::string id;         // request id
  std::string thread_id;  // to continue the conversation
  std::shared_ptr<const SearchResult> result;
  bool cached = false;
  std::vector<ads::SponsoredSlot> sponsored;
  std::vector<std::string> stage_errors;  // this request's own ("sponsored: ...")
  double sponsored_ms = 0;
  double total_ms = 0;
};

// Streaming events, in order: kSources, kDelta..., kCitations, kSponsored, kDone (or kError).
struct SearchEvent {
  enum Kind { kSources, kDelta, kCitations, kSponsored, kDone, kError } kind;
  std::string delta;                         // kDelta
  const SearchResult* result = nullptr;      // kSources, kCitations
  const SearchResponse* response = nullptr;  // kSponsored, kDone
  Status error;                              // kError
};

class QueryService {
 public:
  // `retriever`, `backend`, `ads`, `live` and `store` are not owned and may be null (no
  // retrieval: the answer says the sources do not answer; no backend: extractive answers; no ads:
  // no slots; no live search: the local index alone; no store: sources carry no fetched_at).
  // `live` writes the pages it reads into the store the retriever searches.
  QueryService(QueryServiceOptions options, const ranking::HybridRetriever* retriever,
               answer::ModelBackend* backend, ads::AdServer* ads, Logger& log,
               retrieval::LiveSearch* live = nullptr, retrieval::Store* store = nullptr);

  // Answers one request. InvalidArgument for an empty or over-long query; otherwise always a
  // response (stage failures are reported inside it). `on_event`, when set, receives the
  // streaming events as they happen (on the calling thread).
  Result<SearchResponse> Search(const SearchRequest& request,
                                const std::function<void(const SearchEvent&)>& on_event = {});

  const QueryServiceOptions& options() const { return options_; }
  std::size_t cache_hits() const { return cache_.hits(); }

 private:
  std::vector<answer::Turn> Thread(const std::string& id);
  void Remember(const std::string& id, answer::Turn turn);

  QueryServiceOptions options_;
  const ranking::HybridRetriever* retriever_;
  answer::ModelBackend* backend_;
  ads::AdServer* ads_;
  Logger& log_;
  retrieval::LiveSearch* live_;
  retrieval::Store* store_;
  answer::AnswerWriter writer_;
  ResultCache<SearchResult> cache_;
  std::mutex threads_mu_;
  std::map<std::string, std::vector<answer::Turn>> threads_;
  std::vector<std::string> thread_order_;  // oldest first, for eviction
};

// Lowercase, whitespace-collapsed form of a question (cache keys).
std::string NormaliseQuery(std::string_view query);

// A random 128-bit identifier as 32 hex digits.
std::string NewRequestId();

}  // namespace lumen::web
