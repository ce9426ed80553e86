#include "web/search_page.h"

#include "llm/answer/citations.h"
#include "web/html.h"
#include "web/query_params.h"
#include "web/static_assets.h"

namespace lumen::web {
namespace {

std::string_view Asset(std::string_view name) {
  const EmbeddedFile* f = FindEmbedded(WebAssets(), name);
  return f == nullptr ? std::string_view() : f->data;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Escaped text with `code` spans and paragraph breaks.
std::string InlineHtml(std::string_view text) {
  std::string out;
  bool in_code = false;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '`') {
      out += in_code ? "</code>" : "<code>";
      in_code = !in_code;
      ++i;
      continue;
    }
    if (text.compare(i, 2, "\n\n") == 0 && !in_code) {
      out += "</p><p>";
      while (i < text.size() && text[i] == '\n') ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] != '`' && !(text.compare(j, 2, "\n\n") == 0)) ++j;
    out += HtmlEscape(text.substr(i, j - i));
    i = j;
  }
  if (in_code) out += "</code>";
  return out;
}

std::string Host(std::string_view url) {
  std::size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  const std::size_t end = url.find_first_of("/?#", start);
  return std::string(
      url.substr(start, end == std::string_view::npos ? url.size() - start : end - start));
}

std::string SourcesHtml(const SearchResult& r) {
  if (r.sources.empty()) return "";
  std::string out = "<section class=\"sources\" aria-label=\"Sources\"><h2>Sources</h2><ol>";
  for (const ShownSource& s : r.sources) {
    const std::string site = s.source.site.empty() ? Host(s.source.url) : s.source.site;
    // The avatar shows the first letter of the title (or site): "C" for "csv — CSV File ...".
    std::string letter = "?";
    for (char c : s.source.title.empty() ? site : s.source.title) {
      if (std::isalpha(static_cast<unsigned char>(c))) {
        letter = std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        break;
      }
    }
    out += "<li class=\"source\" id=\"source-" + std::to_string(s.source.n) + "\">";
    out += "<span class=\"avatar\" aria-hidden=\"true\">" + HtmlEscape(letter) + "</span>";
    out += "<div><a href=\"" + HtmlEscape(s.source.url) + "\" rel=\"noopener\">" +
           HtmlEscape(s.source.title.empty() ? s.source.url : s.source.title) + "</a>";
    out += "<div class=\"site\">" + HtmlEscape(site) +
           (s.source.heading_path.empty() ? "" : " · " + HtmlEscape(s.source.heading_path)) +
           "</div>";
    out += "<p class=\"snippet\">" + HtmlEscape(s.snippet) + "</p></div></li>";
  }
  return out + "</ol></section>";
}

std::string SponsoredHtml(const SearchResponse& response) {
  std::string out;
  for (const ads::SponsoredSlot& s : response.sponsored) {
    out +=
        "<aside class=\"sponsored\" aria-label=\"Sponsored\" "
        "data-impression=\"/api/v1/impression?t=" +
        HtmlEscape(UrlEncode(s.impression_token)) + "\">";
    out += "<div class=\"sponsored-label\">" + HtmlEscape(s.label.empty() ? "Sponsored" : s.label) +
           "</div>";
    out += "<a class=\"sponsored-title\" rel=\"sponsored noopener\" href=\"/api/v1/click?t=" +
           HtmlEscape(UrlEncode(s.click_token)) + "\">" + HtmlEscape(s.title) + "</a>";
    out += "<p>" + HtmlEscape(s.body) + "</p><div class=\"site\">" + HtmlEscape(s.display_url) +
           "</div>";
    out += "</aside>";
  }
  return out;
}

std::string RelatedHtml(const SearchResponse& response) {
  const auto& related = response.result->answer.related;
  if (related.empty()) return "";
  std::string out = "<section class=\"related\" aria-label=\"Related\"><h2>Related</h2><ul>";
  for (const std::string& q : related) {
    out += "<li><a href=\"/search?q=" + HtmlEscape(UrlEncode(q)) +
           "&amp;thread_id=" + HtmlEscape(UrlEncode(response.thread_id)) + "\">" + HtmlEscape(q) +
           "</a></li>";
  }
  return out + "</ul></section>";
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

std::string AnswerHtml(const SearchResult& result) {
  const std::string& text = result.answer.text;
  std::string out = "<p>";
  std::size_t pos = 0;
  for (const answer::CitationMarker& m : answer::FindCitationMarkers(text)) {
    out += InlineHtml(std::string_view(text).substr(pos, m.span.begin - pos));
    out += "<sup class=\"cites\">";
    for (int n : m.ids) {
      std::string snippet;
      for (const ShownSource& s : result.sources) {
        if (s.source.n == n) snippet = s.source.title + " — " + s.snippet;
      }
      out += "<a class=\"cite\" href=\"#source-" + std::to_string(n) + "\" title=\"" +
             HtmlEscape(snippet) + "\" aria-label=\"Source " + std::to_string(n) + "\">[" +
             std::to_string(n) + "]</a>";
    }
    out += "</sup>";
    pos = m.span.end;
  }
  out += InlineHtml(std::string_view(text).substr(pos));
  return out + "</p>";
}

void RegisterSearchPage(HttpServer& server, QueryService* service) {
  server.Get("/", "/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(Asset("index.html")), "text/html; charset=utf-8");
  });
  server.Get("/search", "/search", [service](const httplib::Request& req, httplib::Response& res) {
    std::string q = QueryParam(req, "q");
    if (q.find_first_not_of(" \t\r\n") == std::string::npos) {
      res.status = 303;
      res.set_header("Location", "/");
      return;
    }
    if (q.size() > 2000) q.resize(2000);
    std::string answer, sources, sponsored, related, meta, thread_id = QueryParam(req, "thread_id");
    if (thread_id.size() > 64) thread_id.clear();
    if (service != nullptr && QueryParam(req, "stream") == "1") {
      // Only search.js asks for this (it adds stream=1 to the home page's form): the page goes
      // out at once with an empty answer, which the script fills from the SSE stream. Without
      // script (a shared link), the <noscript> link loads the server-rendered answer.
      std::string plain = "/search?q=" + UrlEncode(q);
      if (!thread_id.empty()) plain += "&thread_id=" + UrlEncode(thread_id);
      answer =
          "<div class=\"answer-text\" data-stream=\"1\"><p class=\"notice\">Answering…</p>"
          "</div><noscript><p class=\"notice\"><a href=\"" +
          HtmlEscape(plain) +
          "\">Show the answer</a> (this page streams it with "
          "JavaScript).</p></noscript>";
    } else if (service == nullptr) {
      answer =
          "<p class=\"notice\">This Lumen server has no index to answer from yet. Crawl pages "
          "with <code>lumen crawl URL</code> and build the index with <code>lumen index</code>, "
          "then ask again.</p>";
    } else {
      SearchRequest sr;
      sr.query = q;
      sr.thread_id = thread_id;
      sr.ad_context.client = {req.get_header_value("User-Agent"), req.remote_addr};
      sr.ad_context.session_id = thread_id;
      Result<SearchResponse> r = service->Search(sr);
      if (!r.ok()) {
        answer = "<p class=\"notice\">" + HtmlEscape(r.status().message()) + "</p>";
      } else {
        thread_id = r->thread_id;
        answer = AnswerHtml(*r->result);
        sources = SourcesHtml(*r->result);
        sponsored = SponsoredHtml(*r);
        related = RelatedHtml(*r);
        meta =
            "<p class=\"meta\">" + HtmlEscape(r->result->answer.mode) +
            " answer · citation recall " +
            std::to_string(static_cast<int>(r->result->answer.check.citation_recall * 100 + 0.5)) +
            "% · precision " +
            std::to_string(
                static_cast<int>(r->result->answer.check.citation_precision * 100 + 0.5)) +
            "%</p>";
      }
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(RenderTemplate(Asset("search.html"), {{"query", HtmlEscape(q)},
                                                          {"thread_id", HtmlEscape(thread_id)},
                                                          {"answer", answer},
                                                          {"meta", meta},
                                                          {"sponsored", sponsored},
                                                          {"sources", sources},
                                                          {"related", related}}),
                    "text/html; charset=utf-8");
  });
}

}  // namespace lumen::web
