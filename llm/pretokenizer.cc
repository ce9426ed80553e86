#include "llm/pretokenizer.h"

#include <string>

#include "llm/unicode.h"

namespace lumen::llm {

namespace {

using unicode::ClassOf;
using unicode::kLetter;
using unicode::kMark;
using unicode::kNewline;
using unicode::kNumber;
using unicode::kPunct;
using unicode::kSpace;
using unicode::kSymbol;
using unicode::NextCodePoint;

// The regexes exactly as tokenizer.json spells them (after JSON unescaping).
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kDigitsRegex = R"(\p{N}{1,3})";
// DeepSeek-V3 writes \r and \n inside its character classes as the raw characters.
constexpr std::string_view kDeepSeekRegex =
    "[!\"#$%&'()*+,\\-./"
    ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

std::string CjkRegex() {
  std::string r = "[";
  const char32_t ranges[][2] = {{0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF}};
  for (const auto& range : ranges) {
    unicode::AppendUtf8(range[0], r);
    r += '-';
    unicode::AppendUtf8(range[1], r);
  }
  r += "]+";
  return r;
}

inline bool IsCjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x309F) ||
         (c >= 0x30A0 && c <= 0x30FF);
}

inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
}
inline bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Class of the character at i (i < n), with its end in *next.
inline uint8_t ClassAt(const char* s, size_t i, size_t* next) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *next = i + 1;
    return unicode::internal::kBmpClasses[c];
  }
  *next = i;
  return ClassOf(NextCodePoint(s, *next));
}

// End of the run of characters having any of `mask`, starting at i.
inline size_t RunOf(uint8_t mask, const char* s, size_t i, size_t n) {
  while (i < n) {
    size_t next;
    if (!(ClassAt(s, i, &next) & mask)) break;
    i = next;
  }
  return i;
}

// End of the run of characters having none of `mask`, starting at i.
inline size_t RunOfNot(uint8_t mask, const char* s, size_t i, size_t n) {
  while (i < n) {
    size_t next;
    if (ClassAt(s, i, &next) & mask) break;
    i = next;
  }
  return i;
}

inline size_t RunOfNewlines(const char* s, size_t i, size_t n) {
  while (i < n && (s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// `\s*[\r\n]+|\s+(?!\S)|\s+` at i, where the character at i is whitespace.
inline size_t MatchWhitespace(const char* s, size_t i, size_t n, bool newline_alternative) {
  size_t j = i;
  size_t last_start = i;     // start of the last whitespace character of the run
  size_t after_newline = 0;  // end of the last \r or \n in the run (0: none)
  while (j < n) {
    size_t next;
    const uint8_t k = ClassAt(s, j, &next);
    if (!(k & kSpace)) break;
    if (k & kNewline) after_newline = next;
    last_start = j;
    j = next;
  }
  if (newline_alternative && after_newline != 0) return after_newline;  // \s*[\r\n]+
  if (j == n) return j;                                                 // \s+(?!\S) at the end
  if (last_start > i) return last_start;  // \s+(?!\S): all but the last, which precedes \S
  return j;                               // \s+
}

// Apostrophe contractions at i (s[i] == '\''); returns i when none.
inline size_t MatchContraction(const char* s, size_t i, size_t n, bool ignore_case) {
  const size_t k = i + 1;
  if (k >= n) return i;
  const char a = ignore_case ? AsciiLower(s[k]) : s[k];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return k + 1;
  if (k + 1 < n) {
    const char b = ignore_case ? AsciiLower(s[k + 1]) : s[k + 1];
    if ((a == 'r' || a == 'v') && b == 'e') return k + 2;
    if (a == 'l' && b == 'l') return k + 2;
  }
  return i;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
template <int kMaxDigits>
size_t MatchQwen(const char* s, size_t i, size_t n) {
  if (s[i] == '\'') {
    const size_t e = MatchContraction(s, i, n, /*ignore_case=*/true);
    if (e > i) return e;
  }
  size_t i1;
  const uint8_t k0 = ClassAt(s, i, &i1);
  if (!(k0 & (kLetter | kNumber | kNewline)) && i1 < n) {
    size_t i2;
    if (ClassAt(s, i1, &i2) & kLetter) return RunOf(kLetter, s, i2, n);
  }
  if (k0 & kLetter) return RunOf(kLetter, s, i1, n);
  if (k0 & kNumber) {
    size_t e = i1;
    for (int d = 1; d < kMaxDigits && e < n; ++d) {
      size_t next;
      if (!(ClassAt(s, e, &next) & kNumber)) break;
      e = next;
    }
    return e;
  }
  constexpr uint8_t kNotOther = kSpace | kLetter | kNumber;
  if (s[i] == ' ' && i1 < n) {
    size_t i2;
    if (!(ClassAt(s, i1, &i2) & kNotOther)) {
      return RunOfNewlines(s, RunOfNot(kNotOther, s, i2, n), n);
    }
  }
  if (!(k0 & kNotOther)) return RunOfNewlines(s, RunOfNot(kNotOther, s, i1, n), n);
  return MatchWhitespace(s, i, n, /*newline_alternative=*/true);
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t MatchGpt2(const char* s, size_t i, size_t n) {
  if (s[i] == '\'') {
    const size_t e = MatchContraction(s, i, n, /*ignore_case=*/false);
    if (e > i) return e;
  }
  size_t i1;
  const uint8_t k0 = ClassAt(s, i, &i1);
  constexpr uint8_t kNotOther = kSpace | kLetter | kNumber;
  if (s[i] == ' ' && i1 < n) {
    size_t i2;
    const uint8_t k1 = ClassAt(s, i1, &i2);
    if (k1 & kLetter) return RunOf(kLetter, s, i2, n);
    if (k1 & kNumber) return RunOf(kNumber, s, i2, n);
    if (!(k1 & kNotOther)) return RunOfNot(kNotOther, s, i2, n);
  }
  if (k0 & kLetter) return RunOf(kLetter, s, i1, n);
  if (k0 & kNumber) return RunOf(kNumber, s, i1, n);
  if (!(k0 & kNotOther)) return RunOfNot(kNotOther, s, i1, n);
  return MatchWhitespace(s, i, n, /*newline_alternative=*/false);
}

// \p{N}{1,3}
size_t MatchDigits(const char* s, size_t i, size_t n) {
  size_t e = i;
  for (int d = 0; d < 3 && e < n; ++d) {
    size_t next;
    if (!(ClassAt(s, e, &next) & kNumber)) break;
    e = next;
  }
  return e;
}

// [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+
size_t MatchCjk(const char* s, size_t i, size_t n) {
  size_t e = i;
  while (e < n) {
    size_t next = e;
    if (!IsCjk(NextCodePoint(s, next))) break;
    e = next;
  }
  return e;
}

inline bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

// [!-/:-@[-`{-~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
size_t MatchDeepSeek(const char* s, size_t i, size_t n) {
  if (IsAsciiPunct(s[i]) && i + 1 < n && IsAsciiLetter(s[i + 1])) {
    size_t e = i + 1;
    while (e < n && IsAsciiLetter(s[e])) ++e;
    return e;
  }
  size_t i1;
  const uint8_t k0 = ClassAt(s, i, &i1);
  if (!(k0 & (kLetter | kPunct | kSymbol | kNewline)) && i1 < n) {
    size_t i2;
    if (ClassAt(s, i1, &i2) & (kLetter | kMark)) return RunOf(kLetter | kMark, s, i2, n);
  }
  if (k0 & (kLetter | kMark)) return RunOf(kLetter | kMark, s, i1, n);
  if (s[i] == ' ' && i1 < n) {
    size_t i2;
    if (ClassAt(s, i1, &i2) & (kPunct | kSymbol)) {
      return RunOfNewlines(s, RunOf(kPunct | kSymbol, s, i2, n), n);
    }
  }
  if (k0 & (kPunct | kSymbol)) return RunOfNewlines(s, RunOf(kPunct | kSymbol, s, i1, n), n);
  if (k0 & kSpace) return MatchWhitespace(s, i, n, /*newline_alternative=*/true);
  return i;
}

template <size_t (*Match)(const char*, size_t, size_t)>
void SplitWith(std::string_view text, size_t base, std::vector<size_t>& ends) {
  const char* s = text.data();
  const size_t n = text.size();
  size_t i = 0;
  size_t gap = 0;  // start of the unmatched stretch before i
  while (i < n) {
    const size_t e = Match(s, i, n);
    if (e > i) {
      if (gap < i) ends.push_back(base + i);
      ends.push_back(base + e);
      i = e;
      gap = e;
    } else {
      NextCodePoint(s, i);
    }
  }
  if (gap < n) ends.push_back(base + n);
}

}  // namespace

Result<SplitPattern> RecognizeSplitRegex(std::string_view regex) {
  if (regex == kQwen2Regex) return SplitPattern::kQwen2;
  if (regex == kLlama3Regex) return SplitPattern::kLlama3;
  if (regex == kGpt2Regex) return SplitPattern::kGpt2;
  if (regex == kDigitsRegex) return SplitPattern::kDigits1to3;
  if (regex == kDeepSeekRegex) return SplitPattern::kDeepSeekV3;
  if (regex == CjkRegex()) return SplitPattern::kCjkRun;
  return Unimplemented("unsupported Split regex \"" + std::string(regex.substr(0, 200)) +
                       "\" (Lumen implements the GPT-2, Qwen2/3, Llama-3 and DeepSeek-V3 ones)");
}

void SplitIsolated(SplitPattern pattern, std::string_view text, size_t base,
                   std::vector<size_t>& ends) {
  switch (pattern) {
    case SplitPattern::kQwen2: return SplitWith<MatchQwen<1>>(text, base, ends);
    case SplitPattern::kLlama3: return SplitWith<MatchQwen<3>>(text, base, ends);
    case SplitPattern::kGpt2: return SplitWith<MatchGpt2>(text, base, ends);
    case SplitPattern::kDigits1to3: return SplitWith<MatchDigits>(text, base, ends);
    case SplitPattern::kCjkRun: return SplitWith<MatchCjk>(text, base, ends);
    case SplitPattern::kDeepSeekV3: return SplitWith<MatchDeepSeek>(text, base, ends);
  }
}

}  // namespace lumen::llm
