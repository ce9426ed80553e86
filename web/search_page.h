// The search page: GET / (the search box) and GET /search?q=... (the answer page).
//
// Until the query pipeline is wired in (web issue), /search shows the escaped question and says
// that this server has no index to answer from yet.
#pragma once

#include <string>
#include <string_view>

#include "web/http_server.h"

namespace lumen::web {

// Fills {{name}} placeholders of an embedded template. Values are inserted verbatim: callers
// pass HTML they have escaped (HtmlEscape) or built themselves.
std::string RenderTemplate(std::string_view tmpl,
                           std::initializer_list<std::pair<std::string_view, std::string>> values);

void RegisterSearchPage(HttpServer& server);

}  // namespace lumen::web
