#include "llm/answer/sentences.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace lumen::answer {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Words after which a period never ends a sentence (lowercase, without the final dot).
constexpr std::array<std::string_view, 16> kNeverEnd = {"e.g", "i.e", "cf",     "vs", "mr",  "mrs",
                                                        "ms",  "dr",  "prof",   "st", "fig", "no",
                                                        "vol", "pp",  "approx", "ch"};
// Words after which a period ends a sentence only when a capitalised word follows.
constexpr std::array<std::string_view, 10> kAbbreviations = {"etc", "al", "jr",   "sr",   "inc",
                                                             "ltd", "co", "corp", "dept", "sec"};

// The word (letters and inner dots) ending just before position `dot`.
std::string WordBefore(std::string_view text, std::size_t dot) {
  std::size_t b = dot;
  while (b > 0) {
    const char c = text[b - 1];
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') {
      --b;
    } else {
      break;
    }
  }
  std::string w(text.substr(b, dot - b));
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w;
}

// True when a list item starts at `i` (the first non-blank of a line): "- ", "* ", "+ ", "1. ".
bool ListItemAt(std::string_view text, std::size_t i) {
  if (i + 1 < text.size() && (text[i] == '-' || text[i] == '*' || text[i] == '+') &&
      text[i + 1] == ' ') {
    return true;
  }
  std::size_t j = i;
  while (j < text.size() && j - i < 4 && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  return j > i && j + 1 < text.size() && (text[j] == '.' || text[j] == ')') && text[j + 1] == ' ';
}

// Skips a run of citation markers "[1]", "[1, 2]", "[1-3]" starting at i; returns the end.
std::size_t SkipCitations(std::string_view text, std::size_t i) {
  for (;;) {
    std::size_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    if (j >= text.size() || text[j] != '[') return i;
    std::size_t k = j + 1;
    bool digit = false;
    while (k < text.size() && (std::isdigit(static_cast<unsigned char>(text[k])) ||
                               text[k] == ',' || text[k] == ' ' || text[k] == '-')) {
      digit |= std::isdigit(static_cast<unsigned char>(text[k])) != 0;
      ++k;
    }
    if (!digit || k >= text.size() || text[k] != ']') return i;
    i = k + 1;
  }
}

void Push(std::string_view text, std::size_t b, std::size_t e, std::vector<TextSpan>& out) {
  while (b < e && IsSpace(text[b])) ++b;
  while (e > b && IsSpace(text[e - 1])) --e;
  if (e > b) out.push_back({b, e});
}

}  // namespace

std::vector<TextSpan> SplitSentences(std::string_view text) {
  std::vector<TextSpan> out;
  std::size_t start = 0;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    // Line structure: a blank line or a list item starts a new sentence.
    if (c == '\n') {
      std::size_t j = i + 1;
      while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) ++j;
      if (j < n && (text[j] == '\n' || ListItemAt(text, j))) {
        Push(text, start, i, out);
        start = j;
        i = j;
        continue;
      }
      ++i;
      continue;
    }
    // CJK full stops (3-byte UTF-8: 。 E3 80 82, ！ EF BC 81, ？ EF BC 9F) end a sentence at once.
    if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < n &&
        static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        static_cast<unsigned char>(text[i + 2]) == 0x82) {
      const std::size_t e = SkipCitations(text, i + 3);
      Push(text, start, e, out);
      start = i = e;
      continue;
    }
    if (static_cast<unsigned char>(c) == 0xEF && i + 2 < n &&
        static_cast<unsigned char>(text[i + 1]) == 0xBC &&
        (static_cast<unsigned char>(text[i + 2]) == 0x81 ||
         static_cast<unsigned char>(text[i + 2]) == 0x9F)) {
      const std::size_t e = SkipCitations(text, i + 3);
      Push(text, start, e, out);
      start = i = e;
      continue;
    }
    const bool ellipsis = static_cast<unsigned char>(c) == 0xE2 && i + 2 < n &&
                          static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                          static_cast<unsigned char>(text[i + 2]) == 0xA6;
    if (c != '.' && c != '!' && c != '?' && !ellipsis) {
      ++i;
      continue;
    }
    std::size_t e = i + (ellipsis ? 3 : 1);
    while (e < n && (text[e] == '.' || text[e] == '!' || text[e] == '?')) ++e;
    while (e < n && (text[e] == '"' || text[e] == '\'' || text[e] == ')' || text[e] == ']')) {
      if (text[e] == ']') break;  // could be a citation marker: handled below
      ++e;
    }
    e = SkipCitations(text, e);
    // Must be followed by whitespace (or the end).
    if (e < n && !IsSpace(text[e])) {
      i = e;
      continue;
    }
    std::size_t next = e;
    while (next < n && IsSpace(text[next]) && text[next] != '\n') ++next;
    if (c == '.' && !ellipsis && e == i + 1) {
      const std::string word = WordBefore(text, i);
      const bool initial = word.size() == 1 && std::isalpha(static_cast<unsigned char>(word[0]));
      if (std::find(kNeverEnd.begin(), kNeverEnd.end(), word) != kNeverEnd.end()) {
        i = e;
        continue;
      }
      const bool abbreviation =
          std::find(kAbbreviations.begin(), kAbbreviations.end(), word) != kAbbreviations.end() ||
          word.find('.') != std::string::npos;  // "e.g", "u.s"
      const bool lower_next = next < n && std::islower(static_cast<unsigned char>(text[next])) != 0;
      if ((abbreviation || initial) && (lower_next || next >= n || initial)) {
        i = e;
        continue;
      }
    }
    Push(text, start, e, out);
    start = e;
    i = e;
  }
  Push(text, start, n, out);
  return out;
}

}  // namespace lumen::answer
