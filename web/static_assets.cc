#include "web/static_assets.h"

#include <cstdio>
#include <functional>
#include <string>

namespace lumen::web {

std::string_view ContentTypeFor(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

void RegisterStaticAssets(HttpServer& server) {
  server.Get(
      R"(/assets/(.+))", "/assets/*", [](const httplib::Request& req, httplib::Response& res) {
        const std::string name = req.matches[1];
        const EmbeddedFile* f = FindEmbedded(WebAssets(), name);
        if (f == nullptr) {
          res.status = 404;
          return;
        }
        char etag[32];
        std::snprintf(etag, sizeof etag, "\"%016zx\"", std::hash<std::string_view>{}(f->data));
        res.set_header("ETag", etag);
        res.set_header("Cache-Control", "public, max-age=3600");
        if (req.get_header_value("If-None-Match") == etag) {
          res.status = 304;
          return;
        }
        res.set_content(f->data.data(), f->data.size(), std::string(ContentTypeFor(name)));
      });
}

}  // namespace lumen::web
