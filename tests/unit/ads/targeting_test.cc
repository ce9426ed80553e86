#include "ads/targeting.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

std::int64_t Rel(const char* keyword, MatchType m, const char* question) {
  return KeywordRelevance({keyword, m}, NormalizeQuestion(question));
}

TEST(Targeting, WordsAreLowerCasedAndSplitOnPunctuation) {
  EXPECT_EQ(Words("What are the BEST running-shoes?"),
            (std::vector<std::string>{"what", "are", "the", "best", "running", "shoes"}));
  EXPECT_EQ(Stem("shoes"), "shoe");
  EXPECT_EQ(Stem("cities"), "city");
  EXPECT_EQ(Stem("boxes"), "box");
  EXPECT_EQ(Stem("glass"), "glass");
}

TEST(Targeting, ExactMatchesOnlyTheSameQuestionIgnoringStopWords) {
  EXPECT_EQ(Rel("running shoes", MatchType::kExact, "running shoes?"), kRelevanceScale);
  EXPECT_EQ(Rel("running shoes", MatchType::kExact, "what are the running shoes"), kRelevanceScale);
  EXPECT_EQ(Rel("running shoes", MatchType::kExact, "cheap running shoes"), 0);
}

TEST(Targeting, PhraseNeedsTheWordsContiguousAndInOrder) {
  EXPECT_GT(Rel("running shoes", MatchType::kPhrase, "best running shoes for flat feet"), 0);
  EXPECT_EQ(Rel("running shoes", MatchType::kPhrase, "shoes for running"), 0);
  // Covering more of the question is more relevant.
  EXPECT_GT(Rel("running shoes", MatchType::kPhrase, "running shoes"),
            Rel("running shoes", MatchType::kPhrase, "running shoes for trail marathon races"));
}

TEST(Targeting, BroadNeedsEveryWordInAnyOrderWithPluralsFolded) {
  EXPECT_GT(Rel("running shoe", MatchType::kBroad, "shoes for running"), 0);
  EXPECT_EQ(Rel("running shoe", MatchType::kBroad, "shoes for hiking"), 0);
  EXPECT_LT(Rel("running shoe", MatchType::kBroad, "shoes for running"),
            Rel("running shoe", MatchType::kPhrase, "running shoe"));
}

TEST(Targeting, NegativeKeywordsAndLanguagesExclude) {
  Targeting t;
  t.keywords = {{"shoes", MatchType::kBroad}};
  t.negative_keywords = {"free", "second hand"};
  EXPECT_GT(CampaignRelevance(t, NormalizeQuestion("running shoes"), ""), 0);
  EXPECT_EQ(CampaignRelevance(t, NormalizeQuestion("free running shoes"), ""), 0);
  EXPECT_EQ(CampaignRelevance(t, NormalizeQuestion("second hand shoes"), ""), 0);
  EXPECT_GT(CampaignRelevance(t, NormalizeQuestion("hand made shoes"), ""), 0);
  t.languages = {"en"};
  EXPECT_GT(CampaignRelevance(t, NormalizeQuestion("shoes"), "en-GB"), 0);
  EXPECT_EQ(CampaignRelevance(t, NormalizeQuestion("shoes"), "de"), 0);
  EXPECT_EQ(CampaignRelevance(t, NormalizeQuestion("shoes"), ""), 0);
}

TEST(Targeting, HugeQuestionsAreBounded) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "word ";
  EXPECT_EQ(NormalizeQuestion(big).words.size(), 256u);
}

}  // namespace
}  // namespace lumen::ads
