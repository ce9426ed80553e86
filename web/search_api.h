// The JSON search API (docs/API.md, /api/openapi.json):
//
//   GET  /api/v1/search?q=...[&thread_id=...][&max_sources=N][&stream=true]
//   POST /api/v1/search   {"query": "...", "thread_id": "...", "max_sources": N, "stream": bool}
//        stream=true or "Accept: text/event-stream" -> server-sent events:
//        sources, delta, citations, sponsored, done (or error)
//   GET  /api/v1/impression?t=TOKEN   the sponsored slot's begin-to-render beacon (idempotent)
//   GET  /api/v1/click?t=TOKEN        counts the click, redirects to the advertiser's page
//   GET  /api/openapi.json            the OpenAPI 3 description
//
// Errors are {"error": {"code", "message"}} with the matching status; each client (by address)
// has a token bucket (429 with Retry-After when empty).
#pragma once

#include <nlohmann/json.hpp>

#include "web/http_server.h"
#include "web/query_service.h"
#include "web/rate_limiter.h"

namespace lumen::web {

struct SearchApiOptions {
  double rate_per_second = 5;  // per client; <= 0 disables limiting
  double burst = 20;
};

// The response document of /api/v1/search (also what the search page renders).
nlohmann::json SearchResponseJson(const SearchResponse& response);
nlohmann::json SourcesJson(const SearchResult& result);
nlohmann::json CitationsJson(const SearchResult& result);
nlohmann::json SponsoredJson(const SearchResponse& response);

// Registers the routes above. `service` and `ads` (may be null) must outlive the server.
void RegisterSearchApi(HttpServer& server, QueryService& service, ads::AdServer* ads,
                       RateLimiter& limiter);

}  // namespace lumen::web
