// The search page: GET / (the search box) and GET /search?q=...[&thread_id=...] (the answer
// page, rendered on the server: the cited answer with [n] links to its sources, the source
// cards, related questions, a follow-up box that keeps the thread, and the sponsored slot —
// visually distinct, labelled "Sponsored" before its content, never among the sources). The
// slot's impression beacon is sent by /assets/search.js only when the slot is at least half
// visible (IntersectionObserver); serving it bills nothing.
// With JavaScript, questions asked from an answer page (the top box, the follow-up box) stream in
// place from POST /api/v1/search's server-sent events (search.js); the home page's question
// loads /search?...&stream=1, a shell with an empty answer that the script streams into (only
// the script adds stream=1). This server-rendered page is the fallback without script.
//
// Everything from users and crawled pages is HTML-escaped; the page runs no inline script (the
// server's Content-Security-Policy forbids it).
#pragma once

#include <string>
#include <string_view>

#include "web/http_server.h"
#include "web/query_service.h"

namespace lumen::web {

// Fills {{name}} placeholders of an embedded template. Values are inserted verbatim: callers
// pass HTML they have escaped (HtmlEscape) or built themselves.
std::string RenderTemplate(std::string_view tmpl,
                           std::initializer_list<std::pair<std::string_view, std::string>> values);

// The answer's markdown as HTML: escaped text, paragraphs, `code`, and each [n] marker as a link
// to source card n whose title shows the source's snippet.
std::string AnswerHtml(const SearchResult& result);

// `service` may be null: the page then says there is nothing to answer from.
void RegisterSearchPage(HttpServer& server, QueryService* service);

}  // namespace lumen::web
