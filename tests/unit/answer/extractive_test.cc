#include "llm/answer/extractive.h"

#include <gtest/gtest.h>

#include "llm/answer/citations.h"
#include "llm/answer/support.h"

namespace lumen::answer {
namespace {

SourceList Corpus() {
  return {
      {.n = 1,
       .title = "csv — CSV File Reading and Writing",
       .text = "The csv module implements classes to read and write tabular data in CSV format. "
               "It allows programmers to say write this data in the format preferred by Excel. "
               "The reader function returns a reader object which will iterate over lines in the "
               "given csvfile."},
      {.n = 2,
       .title = "Reading and Writing Files",
       .text = "open() returns a file object, and is most commonly used with two arguments. "
               "It is good practice to use the with keyword when dealing with file objects. "
               "The advantage is that the file is properly closed after its suite finishes."},
      {.n = 3,
       .title = "json — JSON encoder and decoder",
       .text = "JSON is a lightweight data interchange format inspired by JavaScript object "
               "literal syntax. Use json.dumps to serialize obj to a JSON formatted str."},
  };
}

TEST(ExtractiveTest, AnswersFromRelevantSentencesEachCitedToItsSource) {
  const SourceList sources = Corpus();
  const ExtractiveAnswer a = ExtractiveWriter().Write("How do I read a CSV file?", sources);
  ASSERT_GE(a.sentences.size(), 2u);
  EXPECT_LE(a.sentences.size(), 6u);
  // The csv module's sentences lead; the JSON page has nothing to say about CSV files.
  EXPECT_EQ(a.sentences.front().n, 1);
  for (const ExtractedSentence& s : a.sentences) EXPECT_NE(s.n, 3) << s.text;
  // Each sentence is verbatim from the source it cites.
  for (const ExtractedSentence& s : a.sentences) {
    const std::string& src = sources[static_cast<std::size_t>(s.n - 1)].text;
    EXPECT_EQ(StripCitationMarkers(s.span.In(src)), s.text);
  }
  // The written answer parses back to the same citations, all supported.
  const auto parsed = ParseCitedAnswer(a.text, 3);
  ASSERT_EQ(parsed.size(), a.sentences.size()) << a.text;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    EXPECT_EQ(parsed[i].cited, std::vector<int>{a.sentences[i].n}) << a.text;
  }
  const AnswerCheck check = CheckCitations(parsed, sources, SupportScorer());
  EXPECT_DOUBLE_EQ(check.citation_recall, 1.0) << a.text;
  EXPECT_DOUBLE_EQ(check.citation_precision, 1.0) << a.text;
}

TEST(ExtractiveTest, RespectsTheWordBudget) {
  ExtractiveOptions options;
  options.max_words = 25;
  const ExtractiveAnswer a =
      ExtractiveWriter(options).Write("read write CSV file object", Corpus());
  int words = 0;
  for (const ExtractedSentence& s : a.sentences) {
    for (std::size_t i = 0; i < s.text.size(); ++i) {
      if (s.text[i] != ' ' && (i == 0 || s.text[i - 1] == ' ')) ++words;
    }
  }
  EXPECT_LE(words, 25);
  EXPECT_FALSE(a.sentences.empty());
}

TEST(ExtractiveTest, NoAnswerWhenNothingIsRelevant) {
  EXPECT_TRUE(ExtractiveWriter().Write("zebra migration patterns", Corpus()).text.empty());
  EXPECT_TRUE(ExtractiveWriter().Write("the of and", Corpus()).text.empty());
  EXPECT_TRUE(ExtractiveWriter().Write("csv", {}).text.empty());
}

TEST(ExtractiveTest, NearDuplicateSentencesAreNotRepeated) {
  SourceList sources = {
      {.n = 1, .text = "The csv reader iterates over lines in the CSV file."},
      {.n = 2, .text = "The csv reader iterates over the lines in a CSV file."},
      {.n = 3, .text = "A CSV file holds rows of comma separated values for the reader."}};
  const ExtractiveAnswer a = ExtractiveWriter().Write("csv reader lines file", sources);
  int from_dupes = 0;
  for (const ExtractedSentence& s : a.sentences) from_dupes += (s.n == 1 || s.n == 2) ? 1 : 0;
  EXPECT_EQ(from_dupes, 1) << a.text;
}

TEST(ExtractiveTest, FlattenedCodeSamplesAreNotSentences) {
  const SourceList sources = {
      {.n = 1,
       .text = "Each row read from the csv file is returned as a list of strings. import csv, sys "
               "filename = 'some.csv' with open(filename, newline='') as f: reader = "
               "csv.reader(f) try: for row in reader: print(row) except csv.Error as e: "
               "sys.exit(e). Since open() is used to open a CSV file for reading, the file is "
               "decoded into unicode using the system default encoding."}};
  const ExtractiveAnswer a = ExtractiveWriter().Write("How do I read a CSV file?", sources);
  ASSERT_FALSE(a.sentences.empty());
  for (const ExtractedSentence& s : a.sentences) {
    EXPECT_EQ(s.text.find("csv.reader(f)"), std::string::npos) << s.text;
  }
  // Prose that mentions a call or two is still prose.
  EXPECT_NE(a.text.find("Since open() is used"), std::string::npos) << a.text;
}

TEST(ExtractiveTest, HostileTextIsCopiedNotInterpreted) {
  SourceList sources = {{.n = 1,
                         .text = "The <script>alert(1)</script> csv reader parses CSV files [9]. "
                                 "Another CSV reader sentence is here for the reader."}};
  const ExtractiveAnswer a = ExtractiveWriter().Write("csv reader", sources);
  ASSERT_FALSE(a.sentences.empty());
  // A bracketed number inside a source sentence would be read as a citation: the writer's own
  // markers must be the only valid ones.
  for (const CitedSentence& s : ParseCitedAnswer(a.text, 1)) {
    EXPECT_EQ(s.cited, std::vector<int>{1}) << a.text;
    EXPECT_TRUE(s.invalid.empty()) << a.text;
  }
  EXPECT_NE(a.text.find("<script>"), std::string::npos);  // escaping is the page's job
}

}  // namespace
}  // namespace lumen::answer
