// Character sets: which encoding a fetched page uses, and its conversion to UTF-8.
//
// Detection follows the HTML standard's order: a byte-order mark, then the charset parameter of
// the HTTP Content-Type, then <meta charset> / <meta http-equiv="Content-Type"> in the first
// 4 KiB, else UTF-8 when the bytes are valid UTF-8, else windows-1252. Labels are normalized as
// browsers do ("latin1", "iso-8859-1" and "us-ascii" mean windows-1252). One correction for
// servers that lie: a page declared as windows-1252 whose bytes are valid UTF-8 with non-ASCII
// sequences is read as UTF-8.
//
// Conversion uses iconv; invalid or truncated sequences become U+FFFD and never fail the page.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace lumen::retrieval {

struct CharsetGuess {
  std::string charset;  // canonical lower-case label: "utf-8", "windows-1252", "shift_jis", ...
  std::string source;   // "bom", "http", "meta", "utf8-valid", "default", "utf8-override"
};

// `content_type` is the HTTP Content-Type header value (may be empty).
CharsetGuess DetectCharset(std::string_view body, std::string_view content_type);

// `body` converted from `charset` to UTF-8 (a BOM is dropped). An unknown charset is read as
// UTF-8. Invalid sequences become U+FFFD. The result is always valid UTF-8.
std::string ConvertToUtf8(std::string_view body, std::string_view charset);

// Detects and converts in one step; `guess` (optional) receives what was detected.
std::string DecodeToUtf8(std::string_view body, std::string_view content_type,
                         CharsetGuess* guess = nullptr);

// True when every byte sequence in `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);
// `s` with invalid UTF-8 sequences replaced by U+FFFD.
std::string SanitizeUtf8(std::string_view s);

// The charset parameter of a Content-Type value ("text/html; charset=UTF-8" -> "UTF-8"), or "".
std::string CharsetParameter(std::string_view content_type);

// A charset label as browsers canonicalize it (lower-case; latin1 -> windows-1252, ...).
std::string CanonicalCharset(std::string_view label);

}  // namespace lumen::retrieval
