// A numbered source of an answer: the passage the ranking stage chose, with what the answer
// writer and the citation checker need from its page. Sources are numbered 1..n in the order
// they are shown; an answer cites them as [n].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lumen::answer {

struct Source {
  int n = 0;  // 1-based number shown as [n]
  std::string url;
  std::string title;
  std::string site;
  std::string heading_path;  // "Tutorial > Classes", may be empty
  std::string text;          // the passage text the answer may use
  std::int64_t passage_id = 0;
  std::int64_t published = 0;  // Unix seconds, 0 = unknown
};

using SourceList = std::vector<Source>;

}  // namespace lumen::answer
