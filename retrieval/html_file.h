// Saved pages on disk: reads a `.html` or gzip-compressed `.html.gz` file (as in the extraction
// benchmark) and decodes it to UTF-8 (retrieval/charset.h rules, no HTTP header). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lumen::retrieval {

// The raw bytes of `path`, gunzipped when they start with the gzip magic (whatever the name).
// NotFound / IoError when the file cannot be read; Corruption for a damaged gzip stream;
// ResourceExhausted beyond `max_bytes` (decompressed).
Result<std::string> ReadPageFile(const std::string& path, std::size_t max_bytes = 64 << 20);

// Gunzips `data` (gzip or zlib framing). Errors as ReadPageFile.
Result<std::string> Gunzip(std::string_view data, std::size_t max_bytes = 64 << 20);

}  // namespace lumen::retrieval
