#include "llm/answer/sentences.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lumen::answer {
namespace {

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> out;
  for (const TextSpan& s : SplitSentences(text)) out.emplace_back(s.In(text));
  return out;
}

TEST(SentencesTest, SplitsOnTerminalPunctuationFollowedBySpace) {
  EXPECT_EQ(Split("Python is a language. It is dynamic! Is it fast? Sometimes."),
            (std::vector<std::string>{"Python is a language.", "It is dynamic!", "Is it fast?",
                                      "Sometimes."}));
}

TEST(SentencesTest, DoesNotSplitAbbreviationsNumbersOrDottedNames) {
  EXPECT_EQ(Split("Use a reader, e.g. Csv.reader from the csv module. Version 3.12 added it."),
            (std::vector<std::string>{"Use a reader, e.g. Csv.reader from the csv module.",
                                      "Version 3.12 added it."}));
  EXPECT_EQ(Split("Call os.path.join() to build paths. Dr. Smith agrees."),
            (std::vector<std::string>{"Call os.path.join() to build paths.", "Dr. Smith agrees."}));
  EXPECT_EQ(Split("Lists, tuples, etc. are sequences."),
            (std::vector<std::string>{"Lists, tuples, etc. are sequences."}));
}

TEST(SentencesTest, CitationMarkersStayWithThePrecedingSentence) {
  EXPECT_EQ(Split("It reads rows.[1] It writes rows. [2][3] Done"),
            (std::vector<std::string>{"It reads rows.[1]", "It writes rows. [2][3]", "Done"}));
}

TEST(SentencesTest, BlankLinesAndListItemsStartSentences) {
  EXPECT_EQ(Split("Intro without stop\n\nNext paragraph\n- item one\n- item two"),
            (std::vector<std::string>{"Intro without stop", "Next paragraph", "- item one",
                                      "- item two"}));
}

TEST(SentencesTest, CjkFullStopsSplitWithoutSpaces) {
  EXPECT_EQ(Split("这是第一句。这是第二句！好吗？"),
            (std::vector<std::string>{"这是第一句。", "这是第二句！", "好吗？"}));
}

TEST(SentencesTest, EmptyAndWhitespaceOnlyGiveNothing) {
  EXPECT_TRUE(SplitSentences("").empty());
  EXPECT_TRUE(SplitSentences(" \n\n\t ").empty());
}

TEST(SentencesTest, LongInputWithoutPunctuationIsOneSentenceInLinearTime) {
  const std::string text(2'000'000, 'a');
  const auto spans = SplitSentences(text);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].end, text.size());
}

}  // namespace
}  // namespace lumen::answer
