// The chunker: splits a page's main text into passages (retrieval/passage.h) of about
// min_words..max_words words along block boundaries, for indexing and citation.
//
// Rules: consecutive blocks are packed into one passage while it stays within max_words; a
// heading starts a new passage once the current one has min_words, and then opens the next
// passage (so a passage carries the heading it sits under). A block longer than max_words is
// split between sentences (after '.', '!' or '?' followed by a space), never inside one; only
// a single "sentence" longer than 4 * max_words (a run-on list, a code dump) is cut at a word
// boundary. A short last passage joins the previous one when that stays within
// max_words * 5 / 4. Every passage's [begin, end) is a span of ExtractedPage::text and its
// `text` is exactly that span. Pure function, thread-safe.
#pragma once

#include <vector>

#include "retrieval/extractor.h"
#include "retrieval/passage.h"

namespace lumen::retrieval {

struct ChunkerOptions {
  int min_words = 60;
  int max_words = 200;
};

// Passages of `page` in order, with ordinal set and page_id 0 (the store assigns it).
std::vector<Passage> ChunkPage(const ExtractedPage& page, const ChunkerOptions& options = {});

}  // namespace lumen::retrieval
