#include "llm/answer/support.h"

#include <gtest/gtest.h>

#include "llm/answer/terms.h"

namespace lumen::answer {
namespace {

SourceList Sources() {
  return {{.n = 1, .text = "The csv module's reader object iterates over lines in a CSV file."},
          {.n = 2, .text = "Use json.dumps to serialize an object to a JSON formatted string."},
          {.n = 3, .text = "The reader returns each row as a list of strings."}};
}

TEST(TermsTest, LowercasesStemsAndDropsStopWords) {
  EXPECT_EQ(ContentTerms("How do I read the CSV files? It's reading libraries' rows"),
            (std::vector<std::string>{"read", "csv", "file", "read", "library", "row"}));
  EXPECT_EQ(StemTerm("running"), "run");
  EXPECT_EQ(StemTerm("classes"), "class");
  EXPECT_EQ(StemTerm("status"), "status");
}

TEST(SupportTest, OverlapScoresSupportingAboveUnrelatedEvidence) {
  SupportScorer scorer;
  const std::string claim = "The csv reader iterates over the lines of a CSV file.";
  EXPECT_GE(scorer.Score(claim, Sources()[0].text), 0.8);
  EXPECT_LT(scorer.Score(claim, Sources()[1].text), 0.2);
  EXPECT_EQ(scorer.Score("", Sources()[0].text), 0);
}

TEST(SupportTest, EmbeddingSimilarityIsBlendedIn) {
  // An embedder that says every pair of texts is identical lifts an unrelated pair's score to
  // exactly the embedding weight.
  SupportScorer scorer({.threshold = 0.5, .embedding_weight = 0.4}, [](std::string_view) {
    return std::vector<float>{1.0f, 0.0f};
  });
  EXPECT_NEAR(scorer.Score("zebras gallop", "quantum physics"), 0.4, 1e-9);
}

TEST(SupportTest, AlceRecallAndPrecision) {
  // Sentence 1: supported by [1] alone; [2] is irrelevant.
  // Sentence 2: supported by [1] and [3] only together (at this threshold); both relevant.
  // Sentence 3: cites [2] but [2] does not support it.
  // Sentence 4: cites nothing.
  const auto sentences = ParseCitedAnswer(
      "The csv reader iterates over lines in a CSV file [1][2]. "
      "The csv reader iterates over lines and returns rows as lists [1][3]. "
      "Rows can be written with writerows [2]. "
      "Everything is fine.",
      3);
  ASSERT_EQ(sentences.size(), 4u);
  const SupportScorer scorer({.threshold = 0.7});
  const SourceList sources = Sources();
  ASSERT_LT(scorer.Score(sentences[1].text, sources[0].text), 0.7);
  ASSERT_LT(scorer.Score(sentences[1].text, sources[2].text), 0.7);
  const AnswerCheck check = CheckCitations(sentences, sources, scorer);
  ASSERT_EQ(check.sentences.size(), 4u);
  EXPECT_TRUE(check.sentences[0].supported);
  EXPECT_TRUE(check.sentences[0].citations[0].supported);
  EXPECT_FALSE(check.sentences[0].citations[1].supported);
  EXPECT_TRUE(check.sentences[1].supported);
  EXPECT_FALSE(check.sentences[2].supported);
  EXPECT_FALSE(check.sentences[3].supported);
  EXPECT_DOUBLE_EQ(check.citation_recall, 2.0 / 4.0);
  EXPECT_EQ(check.citations, 5);
  EXPECT_EQ(check.supported_citations, 3);  // [1] of s1, [1] and [3] of s2
  EXPECT_DOUBLE_EQ(check.citation_precision, 3.0 / 5.0);
}

TEST(SupportTest, InvalidCitationsCountAgainstPrecision) {
  const auto sentences =
      ParseCitedAnswer("The csv reader iterates over lines in a CSV file [1][7].", 3);
  const AnswerCheck check = CheckCitations(sentences, Sources(), SupportScorer());
  EXPECT_EQ(check.invalid_citations, 1);
  EXPECT_EQ(check.citations, 2);
  EXPECT_DOUBLE_EQ(check.citation_precision, 0.5);
  EXPECT_DOUBLE_EQ(check.citation_recall, 1.0);
}

}  // namespace
}  // namespace lumen::answer
