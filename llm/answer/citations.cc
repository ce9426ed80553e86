#include "llm/answer/citations.h"

#include <algorithm>
#include <cctype>

#include "llm/answer/sentences.h"

namespace lumen::answer {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Parses the inside of a bracket ("1, 2", "1-3"); false when it is not a citation list.
bool ParseIds(std::string_view inside, std::vector<int>& ids) {
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < inside.size() && inside[i] == ' ') ++i;
  };
  auto number = [&](int& out) {
    skip_spaces();
    const std::size_t b = i;
    while (i < inside.size() && IsDigit(inside[i]) && i - b < 4) ++i;
    if (i == b || i - b > 3) return false;
    out = std::stoi(std::string(inside.substr(b, i - b)));
    return out >= 0;
  };
  for (;;) {
    int a = 0;
    if (!number(a)) return false;
    skip_spaces();
    int b = a;
    if (i < inside.size() && inside[i] == '-') {
      ++i;
      if (!number(b)) return false;
      skip_spaces();
    } else if (inside.substr(i, 3) == "\xE2\x80\x93") {  // en dash
      i += 3;
      if (!number(b)) return false;
      skip_spaces();
    }
    if (b < a || b - a > 20) return false;
    for (int v = a; v <= b; ++v) {
      if (std::find(ids.begin(), ids.end(), v) == ids.end()) ids.push_back(v);
    }
    if (i == inside.size()) return true;
    if (inside[i] != ',') return false;
    ++i;
  }
}

// Byte ranges of code (inline `spans` and ``` fences) where markers are not looked for.
std::vector<TextSpan> CodeRanges(std::string_view text) {
  std::vector<TextSpan> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "```") == 0) {
      const std::size_t close = text.find("```", i + 3);
      const std::size_t end = close == std::string_view::npos ? text.size() : close + 3;
      out.push_back({i, end});
      i = end;
    } else if (text[i] == '`') {
      const std::size_t close = text.find('`', i + 1);
      const std::size_t nl = text.find('\n', i + 1);
      if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close)) {
        ++i;  // an unmatched backtick is just a character
        continue;
      }
      out.push_back({i, close + 1});
      i = close + 1;
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace

std::vector<CitationMarker> FindCitationMarkers(std::string_view text) {
  std::vector<CitationMarker> out;
  const std::vector<TextSpan> code = CodeRanges(text);
  std::size_t code_index = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    while (code_index < code.size() && code[code_index].end <= i) ++code_index;
    if (code_index < code.size() && code[code_index].begin <= i) {
      i = code[code_index].end - 1;
      continue;
    }
    if (text[i] != '[') continue;
    const std::size_t close = text.find(']', i + 1);
    if (close == std::string_view::npos || close - i > 64) continue;
    if (close + 1 < text.size() && text[close + 1] == '(') {  // markdown link: skip its target
      const std::size_t end = text.find(')', close + 2);
      if (end != std::string_view::npos) i = end;
      continue;
    }
    std::vector<int> ids;
    if (!ParseIds(text.substr(i + 1, close - i - 1), ids)) continue;
    out.push_back({{i, close + 1}, std::move(ids)});
    i = close;
  }
  return out;
}

std::string StripCitationMarkers(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  for (const CitationMarker& m : FindCitationMarkers(text)) {
    std::string_view before = text.substr(pos, m.span.begin - pos);
    out.append(before);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    pos = m.span.end;
  }
  out.append(text.substr(pos));
  // Tidy "word ." left behind by "word [1]." and trim.
  std::string tidy;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ' ' && i + 1 < out.size() &&
        (out[i + 1] == '.' || out[i + 1] == ',' || out[i + 1] == ';' || out[i + 1] == ':')) {
      continue;
    }
    tidy += out[i];
  }
  const std::size_t b = tidy.find_first_not_of(" \n\t");
  const std::size_t e = tidy.find_last_not_of(" \n\t");
  return b == std::string::npos ? "" : tidy.substr(b, e - b + 1);
}

std::vector<CitedSentence> ParseCitedAnswer(std::string_view answer, int max_source) {
  const std::vector<CitationMarker> markers = FindCitationMarkers(answer);
  std::vector<CitedSentence> out;
  for (const TextSpan& s : SplitSentences(answer)) {
    CitedSentence cs;
    cs.span = s;
    std::string_view body = s.In(answer);
    // Markdown headings are not claims.
    if (!body.empty() && body[0] == '#') continue;
    for (const CitationMarker& m : markers) {
      if (m.span.begin < s.begin || m.span.end > s.end) continue;
      for (int id : m.ids) {
        std::vector<int>& into = (id >= 1 && id <= max_source) ? cs.cited : cs.invalid;
        if (std::find(into.begin(), into.end(), id) == into.end()) into.push_back(id);
      }
    }
    cs.text = StripCitationMarkers(body);
    // Strip list bullets from the claim text.
    if (cs.text.size() > 2 && (cs.text[0] == '-' || cs.text[0] == '*') && cs.text[1] == ' ') {
      cs.text.erase(0, 2);
    }
    if (cs.text.empty()) {
      // A line holding only markers cites for the sentence before it.
      if (!out.empty()) {
        for (int id : cs.cited) {
          if (std::find(out.back().cited.begin(), out.back().cited.end(), id) ==
              out.back().cited.end()) {
            out.back().cited.push_back(id);
          }
        }
      }
      continue;
    }
    out.push_back(std::move(cs));
  }
  return out;
}

}  // namespace lumen::answer
