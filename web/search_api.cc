#include "web/search_api.h"

#include <algorithm>
#include <cmath>

#include "web/query_params.h"
#include "web/static_assets.h"

namespace lumen::web {
namespace {

using Json = nlohmann::json;

ads::ClientInfo ClientOf(const httplib::Request& req) {
  return {req.get_header_value("User-Agent"), req.remote_addr};
}

bool WantsStream(const httplib::Request& req, const Json* body) {
  if (req.get_header_value("Accept").find("text/event-stream") != std::string::npos) return true;
  if (QueryParam(req, "stream") == "true" || QueryParam(req, "stream") == "1") return true;
  return body != nullptr && body->contains("stream") && (*body)["stream"].is_boolean() &&
         (*body)["stream"].get<bool>();
}

std::string SseEvent(std::string_view event, const Json& data) {
  return "event: " + std::string(event) +
         "\ndata: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

bool RateLimited(RateLimiter& limiter, const httplib::Request& req, httplib::Response& res) {
  const RateLimiter::Decision d = limiter.Take(req.remote_addr);
  if (d.allowed) return false;
  res.set_header("Retry-After",
                 std::to_string(static_cast<long long>(std::ceil(d.retry_after_seconds))));
  SetJsonError(res, 429, "rate_limited", "too many requests; retry after the Retry-After delay");
  return true;
}

// Fills sr.filter from the recency and domains options; on bad input answers 400 and returns
// false.
bool ParseFilter(const std::string& recency, const std::vector<std::string>& domains,
                 SearchRequest& sr, httplib::Response& res) {
  Result<retrieval::Recency> r = retrieval::ParseRecency(recency);
  if (!r.ok()) {
    SetJsonError(res, 400, "invalid_request", r.status().message());
    return false;
  }
  Result<retrieval::SourceFilter> f = retrieval::SourceFilter::Parse(*r, domains);
  if (!f.ok()) {
    SetJsonError(res, 400, "invalid_request", f.status().message());
    return false;
  }
  sr.filter = std::move(*f);
  return true;
}

}  // namespace

Json SourcesJson(const SearchResult& result) {
  Json sources = Json::array();
  for (const ShownSource& s : result.sources) {
    sources.push_back({{"n", s.source.n},
                       {"url", s.source.url},
                       {"title", s.source.title},
                       {"site", s.source.site},
                       {"heading", s.source.heading_path},
                       {"snippet", s.snippet},
                       {"published", s.source.published > 0 ? Json(s.source.published) : Json()},
                       {"fetched_at", s.fetched_at > 0 ? Json(s.fetched_at) : Json()}});
  }
  return sources;
}

Json CitationsJson(const SearchResult& result) {
  const answer::AnswerCheck& check = result.answer.check;
  Json citations = Json::array();
  for (std::size_t i = 0; i < check.sentences.size(); ++i) {
    for (const answer::CitationCheck& c : check.sentences[i].citations) {
      citations.push_back({{"n", c.n},
                           {"sentence", i},
                           {"supported", c.supported},
                           {"score", std::round(c.score * 1000) / 1000}});
    }
  }
  return {{"citations", citations},
          {"citation_recall", check.citation_recall},
          {"citation_precision", check.citation_precision},
          {"invalid_citations", check.invalid_citations}};
}

namespace {

Json LiveJson(const SearchResult& r) {
  if (!r.live) return nullptr;
  const retrieval::LiveSearchReport& live = *r.live;
  Json results = Json::array();
  for (std::size_t i = 0; i < live.hits.size(); ++i) {
    const retrieval::SearchHit& h = live.hits[i];
    const bool read = i < live.pages.size() && live.pages[i].read();
    results.push_back({{"url", h.url},
                       {"title", h.title},
                       {"snippet", h.snippet},
                       {"published", h.published > 0 ? Json(h.published) : Json()},
                       {"engine", h.engine},
                       {"read", read}});
  }
  return {{"provider", live.provider},
          {"provider_failed", live.provider_failed},
          {"notes", live.notes},
          {"results", results}};
}

// Each live page's outcome and when it came (ms from the start of fetching).
Json LivePagesJson(const SearchResult& r) {
  Json pages = Json::array();
  if (!r.live) return pages;
  for (const retrieval::LivePage& p : r.live->pages) {
    pages.push_back({{"url", p.url},
                     {"outcome", p.outcome},
                     {"ms", std::round(p.ms * 10) / 10},
                     {"passages", p.passages}});
  }
  return pages;
}

}  // namespace

Json SponsoredJson(const SearchResponse& response) {
  Json slots = Json::array();
  for (const ads::SponsoredSlot& s : response.sponsored) {
    slots.push_back({{"slot", s.slot},
                     {"label", s.label},
                     {"title", s.title},
                     {"body", s.body},
                     {"display_url", s.display_url},
                     {"advertiser", s.display_url},
                     {"click_url", "/api/v1/click?t=" + s.click_token},
                     {"impression_url", "/api/v1/impression?t=" + s.impression_token}});
  }
  return slots;
}

Json SearchResponseJson(const SearchResponse& response) {
  const SearchResult& r = *response.result;
  Json answer = CitationsJson(r);
  answer["text"] = r.answer.text;
  answer["mode"] = r.answer.mode;
  if (!r.answer.fallback_reason.empty()) answer["fallback_reason"] = r.answer.fallback_reason;
  Json errors = Json::array();
  for (const std::string& e : r.stage_errors) errors.push_back(e);
  for (const std::string& e : response.stage_errors) errors.push_back(e);
  return {
      {"id", response.id},
      {"thread_id", response.thread_id},
      {"query", r.query},
      {"answer", answer},
      {"sources", SourcesJson(r)},
      {"sponsored", SponsoredJson(response)},
      {"related", r.answer.related},
      {"cached", response.cached},
      {"stage_errors", errors},
      {"live", LiveJson(r)},
      {"timings_ms",
       {{"search_provider",
         response.cached || !r.live ? 0.0 : std::round(r.live->provider_ms * 10) / 10},
        {"live_fetch", response.cached || !r.live ? 0.0 : std::round(r.live->fetch_ms * 10) / 10},
        {"live_pages", response.cached ? Json::array() : LivePagesJson(r)},
        {"retrieval", response.cached ? 0.0 : std::round(r.retrieval_ms * 10) / 10},
        {"answer", response.cached ? 0.0 : std::round(r.answer_ms * 10) / 10},
        {"sponsored", std::round(response.sponsored_ms * 10) / 10},
        {"total", std::round(response.total_ms * 10) / 10}}}};
}

void RegisterSearchApi(HttpServer& server, QueryService& service, ads::AdServer* ads,
                       RateLimiter& limiter) {
  auto search = [&service, &limiter](const httplib::Request& req, httplib::Response& res) {
    if (RateLimited(limiter, req, res)) return;
    SearchRequest sr;
    Json body;
    const bool post = req.method == "POST";
    if (post) {
      body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded() || !body.is_object()) {
        SetJsonError(res, 400, "invalid_json", "the request body must be a JSON object");
        return;
      }
      if (!body.contains("query") || !body["query"].is_string()) {
        SetJsonError(res, 400, "invalid_request", "\"query\" (a string) is required");
        return;
      }
      sr.query = body["query"].get<std::string>();
      if (body.contains("thread_id") && body["thread_id"].is_string()) {
        sr.thread_id = body["thread_id"].get<std::string>();
      }
      if (body.contains("max_sources")) {
        if (!body["max_sources"].is_number_integer() || body["max_sources"].get<long long>() < 1 ||
            body["max_sources"].get<long long>() > 20) {
          SetJsonError(res, 400, "invalid_request", "\"max_sources\" must be an integer 1..20");
          return;
        }
        sr.max_sources = body["max_sources"].get<int>();
      }
      std::string recency;
      if (body.contains("recency")) {
        if (!body["recency"].is_string()) {
          SetJsonError(res, 400, "invalid_request",
                       "\"recency\" must be one of \"day\", \"week\", \"month\", \"year\"");
          return;
        }
        recency = body["recency"].get<std::string>();
      }
      std::vector<std::string> domains;
      if (body.contains("domains")) {
        const Json& d = body["domains"];
        const bool strings = d.is_array() && std::all_of(d.begin(), d.end(), [](const Json& x) {
                               return x.is_string();
                             });
        if (!strings) {
          SetJsonError(res, 400, "invalid_request",
                       "\"domains\" must be an array of host names (\"-host\" excludes one)");
          return;
        }
        for (const Json& x : d) domains.push_back(x.get<std::string>());
      }
      if (!ParseFilter(recency, domains, sr, res)) return;
    } else {
      sr.query = QueryParam(req, "q");
      sr.thread_id = QueryParam(req, "thread_id");
      const std::string ms = QueryParam(req, "max_sources");
      if (!ms.empty()) {
        char* end = nullptr;
        const long v = std::strtol(ms.c_str(), &end, 10);
        if (*end != '\0' || v < 1 || v > 20) {
          SetJsonError(res, 400, "invalid_request", "max_sources must be an integer 1..20");
          return;
        }
        sr.max_sources = static_cast<int>(v);
      }
      // domains=a.com,-b.com (comma-separated, as the JSON body's array).
      std::vector<std::string> domains;
      const std::string d = QueryParam(req, "domains");
      for (std::size_t start = 0; !d.empty() && start <= d.size();) {
        std::size_t comma = d.find(',', start);
        if (comma == std::string::npos) comma = d.size();
        if (comma > start) domains.push_back(d.substr(start, comma - start));
        start = comma + 1;
      }
      if (!ParseFilter(QueryParam(req, "recency"), domains, sr, res)) return;
    }
    if (sr.thread_id.size() > 64) {
      SetJsonError(res, 400, "invalid_request", "thread_id is longer than 64 characters");
      return;
    }
    sr.ad_context.client = ClientOf(req);
    sr.ad_context.session_id = sr.thread_id;
    sr.ad_context.language = req.get_header_value("Accept-Language").substr(0, 2);

    if (!WantsStream(req, post ? &body : nullptr)) {
      Result<SearchResponse> r = service.Search(sr);
      if (!r.ok()) {
        SetJsonError(res, 400, "invalid_request", r.status().message());
        return;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(
          SearchResponseJson(*r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          "application/json");
      return;
    }
    // Server-sent events: the search runs inside the content provider, writing events as they
    // happen.
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider("text/event-stream", [&service, sr](std::size_t,
                                                                         httplib::DataSink& sink) {
      auto write = [&sink](const std::string& s) { return sink.write(s.data(), s.size()); };
      Result<SearchResponse> r = service.Search(sr, [&](const SearchEvent& e) {
        switch (e.kind) {
          case SearchEvent::kSources: write(SseEvent("sources", SourcesJson(*e.result))); break;
          case SearchEvent::kDelta: write(SseEvent("delta", {{"text", e.delta}})); break;
          case SearchEvent::kCitations: {
            Json c = CitationsJson(*e.result);
            c["text"] = e.result->answer.text;
            c["mode"] = e.result->answer.mode;
            c["related"] = e.result->answer.related;
            write(SseEvent("citations", c));
            break;
          }
          case SearchEvent::kSponsored:
            write(SseEvent("sponsored", SponsoredJson(*e.response)));
            break;
          case SearchEvent::kDone:
            write(SseEvent("done", {{"id", e.response->id},
                                    {"thread_id", e.response->thread_id},
                                    {"cached", e.response->cached},
                                    {"total_ms", std::round(e.response->total_ms * 10) / 10}}));
            break;
          case SearchEvent::kError:
            write(SseEvent("error", {{"code", "internal"}, {"message", e.error.message()}}));
            break;
        }
      });
      if (!r.ok()) {
        write(SseEvent("error", {{"code", "invalid_request"}, {"message", r.status().message()}}));
      }
      sink.done();
      return true;
    });
  };
  server.Get("/api/v1/search", "/api/v1/search", search);
  server.Post("/api/v1/search", "/api/v1/search", search);

  server.Get("/api/openapi.json", "/api/openapi.json",
             [](const httplib::Request&, httplib::Response& res) {
               const EmbeddedFile* f = FindEmbedded(WebAssets(), "openapi.json");
               if (f == nullptr) {
                 res.status = 404;
                 return;
               }
               res.set_content(std::string(f->data), "application/json");
             });

  auto impression = [ads](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    if (ads == nullptr) {
      SetJsonError(res, 404, "not_found", "sponsored slots are not enabled");
      return;
    }
    const ads::BeaconResult r = ads->RecordImpression(QueryParam(req, "t"), ClientOf(req));
    res.status = r.http_status;
    if (r.http_status == 200) {
      res.set_content(Json{{"outcome", std::string(ads::Name(r.outcome))}}.dump(
                          -1, ' ', false, nlohmann::json::error_handler_t::replace),
                      "application/json");
    } else if (r.http_status == 400) {
      SetJsonError(res, 400, "invalid_token", "not an impression token");
    } else {
      SetJsonError(res, r.http_status, "unavailable", "could not record; retry");
    }
  };
  server.Get("/api/v1/impression", "/api/v1/impression", impression);
  server.Post("/api/v1/impression", "/api/v1/impression", impression);
  server.Get(
      "/api/v1/click", "/api/v1/click", [ads](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Cache-Control", "no-store");
        if (ads == nullptr) {
          SetJsonError(res, 404, "not_found", "sponsored slots are not enabled");
          return;
        }
        const ads::ClickResult r = ads->RecordClick(QueryParam(req, "t"), ClientOf(req));
        if (!r.landing_url.empty()) {
          res.status = 302;
          res.set_header("Location", r.landing_url);
          return;
        }
        SetJsonError(res, r.http_status == 404 ? 404 : 400, "invalid_token", "not a click token");
      });
}

}  // namespace lumen::web
