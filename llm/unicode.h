// UTF-8 and Unicode helpers for the tokenizer: decoding with replacement, character classes as
// the tokenizer regexes see them, NFC. Category data and normalization come from ICU.
//
// All functions are thread-safe (ICU's data and the class table are immutable once built).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lumen::llm::unicode {

inline constexpr char32_t kReplacement = 0xFFFD;

// Returns `text` if it is valid UTF-8, else a copy in which every maximal ill-formed subsequence
// is replaced by U+FFFD (the WHATWG / Unicode "best practice" rule, as TextDecoder and Python's
// errors="replace" do). `scratch` holds the copy when one is needed.
std::string_view SanitizeUtf8(std::string_view text, std::string& scratch);

// Length of the longest prefix of `text` that is valid UTF-8 and ends on a character boundary,
// and whether the rest could still become valid with more bytes (an incomplete final character).
struct Utf8Prefix {
  size_t valid = 0;         // bytes of complete, valid characters
  bool incomplete = false;  // the remainder is a proper prefix of a valid character
};
Utf8Prefix ValidUtf8Prefix(std::string_view text);

// Decodes the character at s[i] of VALID UTF-8 and advances i. Undefined on invalid input.
inline char32_t NextCodePoint(const char* s, size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  if (c < 0xE0) {
    const char32_t cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    i += 2;
    return cp;
  }
  if (c < 0xF0) {
    const char32_t cp = ((c & 0x0Fu) << 12) |
                        ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                        (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    i += 3;
    return cp;
  }
  const char32_t cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
                      ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
                      (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
  i += 4;
  return cp;
}

void AppendUtf8(char32_t cp, std::string& out);

// Character classes used by the pre-tokenizer regexes (bit flags; a character may have several).
enum CharClass : uint8_t {
  kLetter = 1,    // \p{L}
  kNumber = 2,    // \p{N}
  kMark = 4,      // \p{M}
  kPunct = 8,     // \p{P}
  kSymbol = 16,   // \p{S}
  kSpace = 32,    // \s as ECMAScript defines it: Zs, \t \n \v \f \r, U+2028, U+2029, U+FEFF
  kNewline = 64,  // \r or \n
};

namespace internal {
extern const uint8_t* const kBmpClasses;  // 65536 entries, built from ICU at start-up
uint8_t SupplementaryClass(char32_t cp);
}  // namespace internal

inline uint8_t ClassOf(char32_t cp) {
  if (cp < 0x10000) return internal::kBmpClasses[cp];
  return internal::SupplementaryClass(cp);
}

// True when ICU was available at build time. Without it the class table is empty and
// NormalizeNfc returns its input unchanged; Tokenizer::Load refuses to load.
bool HaveIcu();

// NFC of valid UTF-8 `text`. Returns `text` itself when it is already NFC (the common case, checked
// quickly), else writes the normalized text into `scratch` and returns that. A text over 2 GiB
// (beyond ICU's int32_t lengths) is returned unchanged.
std::string_view NormalizeNfc(std::string_view text, std::string& scratch);

}  // namespace lumen::llm::unicode
