// Passages: sizes, boundaries, heading paths and offsets.
#include "retrieval/chunker.h"

#include <gtest/gtest.h>

#include "retrieval/words.h"

namespace lumen::retrieval {
namespace {

// A page built from blocks, the way the extractor lays out its text.
ExtractedPage MakePage(const std::vector<std::pair<Block::Kind, std::string>>& blocks) {
  ExtractedPage page;
  std::vector<std::pair<int, std::string>> headings;
  for (const auto& [kind, text] : blocks) {
    Block b;
    b.kind = kind;
    b.text = text;
    if (kind == Block::Kind::kHeading) {
      b.level = 2;
      b.heading_path = "";
    } else if (!headings.empty()) {
      b.heading_path = headings.back().second;
    }
    if (kind == Block::Kind::kHeading) headings.push_back({2, text});
    if (!page.text.empty()) page.text += "\n\n";
    b.begin = page.text.size();
    page.text += text;
    b.end = page.text.size();
    page.blocks.push_back(b);
  }
  return page;
}

std::string Sentence(int words, int seed) {
  std::string s;
  for (int i = 0; i < words; ++i) s += (i ? " w" : "W") + std::to_string(seed * 1000 + i);
  return s + ".";
}

TEST(ChunkerTest, PacksBlocksUpToTheMaximumAndStartsNewPassagesAtHeadings) {
  std::vector<std::pair<Block::Kind, std::string>> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back({Block::Kind::kParagraph, Sentence(50, i)});
  blocks.push_back({Block::Kind::kHeading, "Second part"});
  for (int i = 6; i < 9; ++i) blocks.push_back({Block::Kind::kParagraph, Sentence(40, i)});
  const ExtractedPage page = MakePage(blocks);
  const std::vector<Passage> passages = ChunkPage(page, {.min_words = 60, .max_words = 200});
  ASSERT_GE(passages.size(), 3u);
  for (std::size_t i = 0; i < passages.size(); ++i) {
    const Passage& p = passages[i];
    EXPECT_EQ(p.ordinal, static_cast<int>(i));
    EXPECT_EQ(page.text.substr(p.begin, p.end - p.begin), p.text);
    EXPECT_LE(p.word_count, 250);
    EXPECT_EQ(static_cast<int>(CountWords(p.text)), p.word_count);
  }
  EXPECT_EQ(passages.back().text.rfind("Second part", 0), 0u) << passages.back().text;
  EXPECT_EQ(passages.back().heading_path, "Second part");
  EXPECT_EQ(passages.front().heading_path, "");
}

TEST(ChunkerTest, SplitsLongBlocksBetweenSentencesOnly) {
  std::string para;
  for (int i = 0; i < 20; ++i) para += (i ? " " : "") + Sentence(30, i);
  const ExtractedPage page = MakePage({{Block::Kind::kParagraph, para}});
  const std::vector<Passage> passages = ChunkPage(page, {.min_words = 60, .max_words = 200});
  ASSERT_GT(passages.size(), 1u);
  for (const Passage& p : passages) {
    EXPECT_LE(p.word_count, 250);
    EXPECT_EQ(p.text.back(), '.') << p.text;  // ends at a sentence end
    EXPECT_EQ(page.text.substr(p.begin, p.end - p.begin), p.text);
  }
}

TEST(ChunkerTest, RunOnTextWithoutSentencesIsStillBounded) {
  std::string words;
  for (int i = 0; i < 5000; ++i) words += "word" + std::to_string(i) + " ";
  const ExtractedPage page = MakePage({{Block::Kind::kCode, words}});
  const std::vector<Passage> passages = ChunkPage(page);
  ASSERT_GT(passages.size(), 1u);
  for (const Passage& p : passages) EXPECT_LE(p.word_count, 4 * 200);
}

TEST(ChunkerTest, ShortTailJoinsThePreviousPassageAndEmptyPageHasNone) {
  const ExtractedPage page =
      MakePage({{Block::Kind::kParagraph, Sentence(150, 1)}, {Block::Kind::kParagraph, "Bye."}});
  const std::vector<Passage> passages = ChunkPage(page);
  ASSERT_EQ(passages.size(), 1u);
  EXPECT_EQ(passages[0].end, page.text.size());
  EXPECT_TRUE(ChunkPage(ExtractedPage{}).empty());
}

}  // namespace
}  // namespace lumen::retrieval
