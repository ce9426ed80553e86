// SimHash near-duplicate detection and the extraction metric.
#include "retrieval/simhash.h"

#include <gtest/gtest.h>

#include "retrieval/extraction_metric.h"
#include "retrieval/words.h"

namespace lumen::retrieval {
namespace {

// n words; different multipliers give texts with different word sequences.
std::string Text(int n, int multiplier) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "token" + std::to_string((i * multiplier) % 2003) + " ";
  return s;
}

TEST(SimHashTest, NearDuplicatesAreCloseAndDifferentTextsAreFar) {
  const std::string a = Text(2000, 37);
  std::string b = a;
  b.replace(b.find("token37 "), 8, "changed ");  // one word of 2000 differs
  const std::string c = Text(2000, 53);
  const int near = HammingDistance(SimHash(a), SimHash(b));
  const int far = HammingDistance(SimHash(a), SimHash(c));
  EXPECT_LE(near, 4);
  EXPECT_GT(far, 16);
  EXPECT_TRUE(NearDuplicate(SimHash(a), SimHash(a), 0));
  EXPECT_EQ(SimHash("Hello World"), SimHash("hello   world!"));
  EXPECT_EQ(SimHash(""), 0u);
}

TEST(WordsTest, WordsFollowPythonBackslashW) {
  EXPECT_EQ(Words("Hello, wörld_1 — 東京 café2"),
            (std::vector<std::string_view>{"Hello", "wörld_1", "東京", "café2"}));
  EXPECT_EQ(CountWords("a\xFF"
                       "b"),
            2u);  // invalid UTF-8 separates words
}

TEST(ExtractionMetricTest, PerfectPartialAndEmptyPredictions) {
  const std::string truth = "one two three four five six seven eight";
  const ShingleMatch perfect = MatchShingles(truth, truth);
  EXPECT_DOUBLE_EQ(DocumentPrecision(perfect), 1.0);
  EXPECT_DOUBLE_EQ(DocumentRecall(perfect), 1.0);
  // Half the truth: 5 shingles, 2 predicted and correct.
  const ShingleMatch half = MatchShingles(truth, "one two three four five");
  EXPECT_DOUBLE_EQ(DocumentPrecision(half), 1.0);
  EXPECT_DOUBLE_EQ(DocumentRecall(half), 2.0 / 5.0);
  const ShingleMatch none = MatchShingles(truth, "");
  const ExtractionScore s = ScoreExtraction({perfect, half, none});
  // Precision averages documents with tp+fp > 0 only (the empty prediction has none).
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, (1.0 + 0.4 + 0.0) / 3);
  EXPECT_NEAR(s.f1, 2 * s.precision * s.recall / (s.precision + s.recall), 1e-12);
  // Fewer than four tokens make one shingle.
  EXPECT_DOUBLE_EQ(DocumentRecall(MatchShingles("a b", "a b")), 1.0);
}

}  // namespace
}  // namespace lumen::retrieval
