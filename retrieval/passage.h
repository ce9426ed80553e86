// Passage: one retrievable, citable span of a page's main text — the unit the store indexes
// (FTS5 + vectors) and an answer cites. Produced by the chunker (retrieval/chunker.h) from the
// extractor's blocks; stored by retrieval/store.h.
//
// Offsets: `begin`/`end` are BYTE offsets into the page's main text (ExtractedPage::text, UTF-8),
// half-open, always on UTF-8 character boundaries, so `page_text.substr(begin, end - begin)`
// is exactly the cited span. `text` is that span with inner whitespace as in the page text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lumen::retrieval {

struct Passage {
  std::int64_t page_id = 0;  // the store's id of the page; 0 until the page is stored
  int ordinal = 0;           // 0-based position of the passage within its page
  // Headings the passage sits under, outermost first, joined by " > " ("Install > On Linux");
  // empty when the passage precedes every heading.
  std::string heading_path;
  std::size_t begin = 0;  // byte offset of the first character in the page text
  std::size_t end = 0;    // byte offset one past the last character
  std::string text;
  int word_count = 0;  // \w+ runs in `text`
};

}  // namespace lumen::retrieval
