// Serves the files embedded from web/assets/ (scripts/embed.cmake) under /assets/. Only names in
// the embedded set are served, so no request path can reach the file system.
#pragma once

#include <span>
#include <string_view>

#include "core/embedded_file.h"
#include "web/http_server.h"

namespace lumen {
// web/assets/, embedded at build time.
std::span<const EmbeddedFile> WebAssets();
}  // namespace lumen

namespace lumen::web {

// Content-Type for a file name by its extension ("application/octet-stream" when unknown).
std::string_view ContentTypeFor(std::string_view path);

// GET /assets/<name> for every embedded file, with a long cache lifetime and an ETag.
void RegisterStaticAssets(HttpServer& server);

}  // namespace lumen::web
