#include "llm/answer/answer_writer.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace lumen::answer {
namespace {

SourceList Sources() {
  return {{.n = 1,
           .title = "csv — CSV File Reading and Writing — Python 3.11 documentation",
           .heading_path = "Module Contents > csv.writer",
           .text = "The csv module reads and writes CSV files. The reader object iterates over "
                   "lines in the given CSV file."},
          {.n = 2, .title = "json — JSON encoder and decoder", .text = "JSON is a format."}};
}

TEST(AnswerWriterTest, WithoutABackendTheAnswerIsExtractive) {
  std::string streamed;
  const Answer a = AnswerWriter(nullptr).Write({.question = "How do I read a CSV file?",
                                                .sources = Sources(),
                                                .on_delta = [&](std::string_view d) {
                                                  streamed += d;
                                                  return true;
                                                }});
  EXPECT_EQ(a.mode, "extractive");
  EXPECT_TRUE(a.fallback_reason.empty());
  EXPECT_EQ(streamed, a.text);
  EXPECT_FALSE(a.sentences.empty());
  EXPECT_DOUBLE_EQ(a.check.citation_recall, 1.0);
}

// A backend that fails by throwing — the one failure a real backend cannot be made to show on
// demand (local and remote backends are tested against real models and servers elsewhere).
class ThrowingBackend final : public ModelBackend {
 public:
  Result<GenerateResult> Generate(const GenerateRequest&) override {
    throw std::runtime_error("tensor shapes disagree");
  }
  std::string name() const override { return "throwing"; }
};

TEST(AnswerWriterTest, ABackendThatThrowsFallsBackToAnExtractiveAnswerWithTheReason) {
  ThrowingBackend backend;
  std::string streamed;
  const Answer a = AnswerWriter(&backend).Write({.question = "How do I read a CSV file?",
                                                 .sources = Sources(),
                                                 .on_delta = [&](std::string_view d) {
                                                   streamed += d;
                                                   return true;
                                                 }});
  EXPECT_EQ(a.mode, "extractive");
  EXPECT_EQ(a.backend, "throwing");
  EXPECT_EQ(a.fallback_reason, "internal: the model backend threw: tensor shapes disagree");
  EXPECT_EQ(streamed, a.text);
  EXPECT_DOUBLE_EQ(a.check.citation_recall, 1.0);
}

TEST(AnswerWriterTest, NoRelevantSourceSaysSoPlainly) {
  const Answer a =
      AnswerWriter(nullptr).Write({.question = "zebra migration", .sources = Sources()});
  EXPECT_EQ(a.text, "The sources found do not answer this question.");
  EXPECT_DOUBLE_EQ(a.check.citation_recall, 0.0);
}

TEST(AnswerWriterTest, PromptNumbersSourcesAndCarriesTheThread) {
  AnswerWriter writer(nullptr, {.max_source_chars = 20});
  const auto messages = writer.BuildPrompt({.question = "and writing?",
                                            .thread = {{"How do I read CSV?", "Use csv [1]."}},
                                            .sources = Sources()});
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].role, "system");
  EXPECT_EQ(messages[1].content, "How do I read CSV?");
  EXPECT_EQ(messages[2].role, "assistant");
  EXPECT_NE(messages[3].content.find("[2] json — JSON encoder and decoder\nJSON is a format."),
            std::string::npos);
  EXPECT_NE(messages[3].content.find("The csv module reads …"), std::string::npos);  // cut
}

TEST(AnswerWriterTest, DropInvalidCitationsRewritesMixedMarkers) {
  int removed = 0;
  EXPECT_EQ(DropInvalidCitations("A [1][7]. B [2, 9]. C [0].", 2, &removed), "A [1]. B [2]. C.");
  EXPECT_EQ(removed, 3);
}

TEST(FollowUpTest, ShortOrPronounQuestionsBorrowThePreviousTopic) {
  const std::vector<Turn> thread = {{"How do I read a CSV file?", "..."}};
  EXPECT_EQ(StandaloneQuery("and how do I write one?", thread),
            "and how do I write one? read CSV file");
  EXPECT_EQ(StandaloneQuery("What is the difference between lists and tuples in Python?", thread),
            "What is the difference between lists and tuples in Python?");
  EXPECT_EQ(StandaloneQuery("and writing?", {}), "and writing?");
}

TEST(RelatedTest, SuggestsTopicsFromHeadingsAndTitlesNotAlreadyAsked) {
  const auto related = SuggestRelated("How do I read a CSV file?", Sources(), 3);
  EXPECT_EQ(related, (std::vector<std::string>{"How do I use csv.writer?",
                                               "Tell me more about CSV File Reading and Writing",
                                               "Tell me more about JSON encoder and decoder"}));
  // A question that already covers every topic gets no suggestion about it.
  const auto none =
      SuggestRelated("csv writer json encoder decoder reading writing file", Sources(), 3);
  EXPECT_TRUE(none.empty()) << none.size();
}

TEST(RelatedTest, GenericSectionHeadingsAskAboutThePageSubject) {
  const SourceList sources = {
      {.n = 1,
       .title = "csv \u2014 CSV File Reading and Writing \u2014 Python 3.11 documentation",
       .heading_path = "csv \u2014 CSV File Reading and Writing > Examples",
       .text = "The simplest example of reading a CSV file."},
      {.n = 2,
       .title = "json \u2014 JSON encoder and decoder",
       .heading_path = "json \u2014 JSON encoder and decoder > Module Contents",
       .text = "Serialize obj as a JSON formatted stream."},
      {.n = 3, .title = "Footnotes page", .heading_path = "Notes", .text = "A note."}};
  const auto related = SuggestRelated("How do I read a CSV file?", sources, 3);
  ASSERT_GE(related.size(), 2u);
  EXPECT_EQ(related[0], "Show me an example of csv");
  EXPECT_EQ(related[1], "What does json provide?");
  for (const std::string& r : related) {
    EXPECT_EQ(r.find("Tell me more about Examples"), std::string::npos);
    EXPECT_EQ(r.find("Notes"), std::string::npos);
  }
}

}  // namespace
}  // namespace lumen::answer
