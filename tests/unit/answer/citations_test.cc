#include "llm/answer/citations.h"

#include <gtest/gtest.h>

namespace lumen::answer {
namespace {

using Ids = std::vector<int>;

TEST(CitationsTest, FindsSingleAdjacentListAndRangeMarkers) {
  const auto m = FindCitationMarkers("a [1][2] b [1, 3] c [2-4] d [5–6] e [7,8]");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[0].ids, Ids{1});
  EXPECT_EQ(m[1].ids, Ids{2});
  EXPECT_EQ(m[2].ids, (Ids{1, 3}));
  EXPECT_EQ(m[3].ids, (Ids{2, 3, 4}));
  EXPECT_EQ(m[4].ids, (Ids{5, 6}));
  EXPECT_EQ(m[5].ids, (Ids{7, 8}));
}

TEST(CitationsTest, IgnoresLinksFootnotesCodeAndNonNumericBrackets) {
  const std::string text =
      "See [the docs](https://x/[1]) and [^1] and `a[0]` and\n```\nx = y[2]\n```\n"
      "[a, b] [] [1-100] [3]";
  const auto m = FindCitationMarkers(text);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].ids, Ids{3});
}

TEST(CitationsTest, ParsesSentencesWithTheirCitations) {
  const auto s = ParseCitedAnswer(
      "Use the csv module [1]. It reads files row by row.[2][3] Writers exist too [1-2].", 3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].text, "Use the csv module.");
  EXPECT_EQ(s[0].cited, Ids{1});
  EXPECT_EQ(s[1].text, "It reads files row by row.");
  EXPECT_EQ(s[1].cited, (Ids{2, 3}));
  EXPECT_EQ(s[2].cited, (Ids{1, 2}));
}

TEST(CitationsTest, OutOfRangeNumbersAreReportedAsInvalid) {
  const auto s = ParseCitedAnswer("A claim [0][2][9].", 2);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].cited, Ids{2});
  EXPECT_EQ(s[0].invalid, (Ids{0, 9}));
}

TEST(CitationsTest, MarkdownListsAndHeadingsParse) {
  const auto s = ParseCitedAnswer("## Reading\n\n- Open the file [1]\n- Iterate rows [2]\n", 2);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].text, "Open the file");
  EXPECT_EQ(s[0].cited, Ids{1});
  EXPECT_EQ(s[1].cited, Ids{2});
}

TEST(CitationsTest, UncitedSentenceHasNoIds) {
  const auto s = ParseCitedAnswer("No sources here.", 3);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].cited.empty());
  EXPECT_TRUE(s[0].invalid.empty());
}

TEST(CitationsTest, StripRemovesMarkersAndTidiesPunctuation) {
  EXPECT_EQ(StripCitationMarkers("Rows are lists [1]. Also [2, 3] here."),
            "Rows are lists. Also here.");
}

}  // namespace
}  // namespace lumen::answer
