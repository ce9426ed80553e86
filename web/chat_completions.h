// OpenAI-compatible chat completions with Perplexity's additions, so existing clients (the
// `openai` packages, Perplexity API clients) work unchanged:
//
//   POST /v1/chat/completions  {"model", "messages": [...], "stream": bool}
//        The last user message is the question; earlier user/assistant turns are the thread.
//        Response: chat.completion (or chat.completion.chunk events + "data: [DONE]") with
//        "citations": [url, ...] and "search_results": [{title, url, snippet, date}].
//   GET  /v1/models            {"object": "list", "data": [{"id": "lumen", ...}]}
//
// Sponsored slots never appear here: these responses are consumed by programs, where a label
// cannot be guaranteed to reach a person.
#pragma once

#include "web/http_server.h"
#include "web/query_service.h"
#include "web/rate_limiter.h"

namespace lumen::web {

void RegisterChatCompletions(HttpServer& server, QueryService& service, RateLimiter& limiter);

}  // namespace lumen::web
