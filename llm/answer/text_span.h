// Byte spans into UTF-8 text, shared by the sentence splitter and the citation parser.
#pragma once

#include <cstddef>
#include <string_view>

namespace lumen::answer {

struct TextSpan {
  std::size_t begin = 0;  // byte offset of the first character
  std::size_t end = 0;    // one past the last byte
  std::string_view In(std::string_view text) const { return text.substr(begin, end - begin); }
  friend bool operator==(const TextSpan&, const TextSpan&) = default;
};

}  // namespace lumen::answer
