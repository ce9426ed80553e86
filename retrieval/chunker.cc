#include "retrieval/chunker.h"

#include <algorithm>

#include "retrieval/words.h"

namespace lumen::retrieval {
namespace {

// A span of page text that the packer treats as a unit: a whole block or a run of sentences.
struct Piece {
  std::size_t begin = 0, end = 0;
  int words = 0;
  bool heading = false;
  std::string heading_path;  // the path a passage starting here carries
};

// Sentence ends inside [begin, end) of `text`: offsets just after ". ", "! ", "? ".
std::vector<std::size_t> SentenceEnds(std::string_view text, std::size_t begin, std::size_t end) {
  std::vector<std::size_t> out;
  for (std::size_t i = begin; i + 1 < end; ++i) {
    const char c = text[i];
    if ((c == '.' || c == '!' || c == '?') && (text[i + 1] == ' ' || text[i + 1] == '\n')) {
      out.push_back(i + 1);
    }
  }
  return out;
}

int WordsIn(std::string_view text, std::size_t b, std::size_t e) {
  return static_cast<int>(CountWords(text.substr(b, e - b)));
}

// Splits one long block into pieces of at most max_words, between sentences where possible.
void SplitBlock(std::string_view text, const Block& block, const std::string& path, int max_words,
                std::vector<Piece>& out) {
  std::vector<std::size_t> cuts = SentenceEnds(text, block.begin, block.end);
  cuts.push_back(block.end);
  std::size_t start = block.begin;
  std::size_t last_cut = block.begin;
  int words_since_start = 0;
  std::size_t prev = block.begin;
  auto emit = [&](std::size_t e) {
    // Skip the leading space of the next piece.
    std::size_t b = start;
    while (b < e && (text[b] == ' ' || text[b] == '\n')) ++b;
    if (b < e) out.push_back({b, e, WordsIn(text, b, e), false, path});
    start = e;
  };
  for (std::size_t cut : cuts) {
    const int w = WordsIn(text, prev, cut);
    if (words_since_start + w > max_words && last_cut > start) {
      emit(last_cut);
      words_since_start = WordsIn(text, start, cut);
    } else {
      words_since_start += w;
    }
    prev = cut;
    last_cut = cut;
    // A run-on sentence far beyond the limit is cut at a word boundary.
    while (words_since_start > 4 * max_words) {
      int seen = 0;
      std::size_t cut_at = start;
      ForEachWord(text.substr(start, cut - start), [&](std::size_t, std::size_t e) {
        if (++seen == max_words) cut_at = start + e;
      });
      if (cut_at <= start) break;
      emit(cut_at);
      words_since_start = WordsIn(text, start, cut);
    }
  }
  if (start < block.end) emit(block.end);
}

}  // namespace

std::vector<Passage> ChunkPage(const ExtractedPage& page, const ChunkerOptions& options) {
  const std::string_view text = page.text;
  const int max_words = std::max(1, options.max_words);
  const int min_words = std::clamp(options.min_words, 0, max_words);
  std::vector<Piece> pieces;
  for (const Block& b : page.blocks) {
    if (b.end > text.size() || b.begin >= b.end) continue;
    std::string path = b.heading_path;
    if (b.kind == Block::Kind::kHeading) path = path.empty() ? b.text : path + " > " + b.text;
    const int words = WordsIn(text, b.begin, b.end);
    if (words > max_words && b.kind != Block::Kind::kHeading) {
      SplitBlock(text, b, path, max_words, pieces);
    } else {
      pieces.push_back({b.begin, b.end, words, b.kind == Block::Kind::kHeading, path});
    }
  }
  std::vector<Passage> out;
  std::size_t i = 0;
  while (i < pieces.size()) {
    Passage p;
    p.begin = pieces[i].begin;
    p.end = pieces[i].end;
    p.heading_path = pieces[i].heading_path;
    int words = pieces[i].words;
    bool only_headings = pieces[i].heading;
    std::size_t j = i + 1;
    while (j < pieces.size()) {
      const Piece& next = pieces[j];
      if (next.heading && words >= min_words && !only_headings) break;
      if (words + next.words > max_words && !only_headings) break;
      words += next.words;
      p.end = next.end;
      if (only_headings && !next.heading) p.heading_path = next.heading_path;
      only_headings = only_headings && next.heading;
      ++j;
    }
    p.word_count = words;
    out.push_back(std::move(p));
    i = j;
  }
  // A short tail joins its predecessor.
  if (out.size() >= 2 && out.back().word_count < min_words &&
      out[out.size() - 2].word_count + out.back().word_count <= max_words * 5 / 4) {
    out[out.size() - 2].end = out.back().end;
    out[out.size() - 2].word_count += out.back().word_count;
    out.pop_back();
  }
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k].ordinal = static_cast<int>(k);
    out[k].text = std::string(text.substr(out[k].begin, out[k].end - out[k].begin));
  }
  return out;
}

}  // namespace lumen::retrieval
