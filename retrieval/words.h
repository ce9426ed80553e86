// Words: UTF-8 decoding and Unicode word runs, with the semantics of Python's `re` `\w+` on str
// (letters, numbers, underscore). Used by the extraction metric (which is defined on `\w+`
// tokens), the chunker's word counts and SimHash shingles. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lumen::retrieval {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point starting at s[i] and advances i past it. An invalid or truncated
// sequence yields U+FFFD and advances by one byte. Requires i < s.size().
char32_t DecodeUtf8(std::string_view s, std::size_t& i);
// Appends the UTF-8 encoding of `cp` (which must be a valid scalar value).
void AppendUtf8(std::string& out, char32_t cp);

// True for characters Python's `\w` matches (Unicode letters and numbers, and '_').
bool IsWordChar(char32_t c);

// Calls fn(begin, end) with the byte range of each maximal run of word characters, in order.
template <typename Fn>
void ForEachWord(std::string_view text, Fn&& fn) {
  std::size_t i = 0;
  std::size_t start = 0;
  bool in_word = false;
  while (i < text.size()) {
    const std::size_t at = i;
    const auto b = static_cast<unsigned char>(text[i]);
    bool word;
    if (b < 0x80) {
      ++i;
      word = (b >= '0' && b <= '9') || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') || b == '_';
    } else {
      word = IsWordChar(DecodeUtf8(text, i));
    }
    if (word && !in_word) {
      start = at;
      in_word = true;
    } else if (!word && in_word) {
      fn(start, at);
      in_word = false;
    }
  }
  if (in_word) fn(start, text.size());
}

// The word runs of `text`, as views into it.
std::vector<std::string_view> Words(std::string_view text);
std::size_t CountWords(std::string_view text);

}  // namespace lumen::retrieval
