#include "web/search_page.h"

#include "web/html.h"
#include "web/static_assets.h"

namespace lumen::web {
namespace {

// Longest question accepted (characters); longer ones are cut, not rejected.
constexpr std::size_t kMaxQueryBytes = 2000;

std::string_view Asset(std::string_view name) {
  const EmbeddedFile* f = FindEmbedded(WebAssets(), name);
  return f == nullptr ? std::string_view() : f->data;
}

}  // namespace

std::string RenderTemplate(std::string_view tmpl,
                           std::initializer_list<std::pair<std::string_view, std::string>> values) {
  std::string out;
  out.reserve(tmpl.size() + 256);
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(pos, open - pos));
    const std::string_view name = tmpl.substr(open + 2, close - open - 2);
    bool found = false;
    for (const auto& [key, value] : values) {
      if (key == name) {
        out += value;
        found = true;
        break;
      }
    }
    if (!found) out.append(tmpl.substr(open, close + 2 - open));
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

void RegisterSearchPage(HttpServer& server) {
  server.Get("/", "/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(Asset("index.html")), "text/html; charset=utf-8");
  });
  server.Get("/search", "/search", [](const httplib::Request& req, httplib::Response& res) {
    std::string q = req.get_param_value("q");
    if (q.size() > kMaxQueryBytes) q.resize(kMaxQueryBytes);
    if (q.empty()) {
      res.status = 303;
      res.set_header("Location", "/");
      return;
    }
    const std::string answer =
        "<p class=\"notice\">This Lumen server has no index to answer from yet. Crawl pages "
        "with <code>lumen crawl URL</code> and build the index with <code>lumen index</code>, "
        "then ask again.</p>";
    res.set_content(
        RenderTemplate(Asset("search.html"), {{"query", HtmlEscape(q)}, {"answer", answer}}),
        "text/html; charset=utf-8");
  });
}

}  // namespace lumen::web
