// Citation-constrained decoding: the marker grammar on its own, then the mask over the real
// Qwen3 vocabulary (the tokenizer from the asset cache: scripts/fetch-asset --all; without it
// these tests FAIL, saying so).
#include "llm/answer/citation_mask.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "llm/tokenizer.h"

namespace lumen::answer {
namespace {

using Phase = CitationState::Phase;

Phase After(int sources, std::string_view text) {
  return CitationGrammar(sources).Run({}, text).phase;
}

TEST(CitationGrammarTest, AcceptsMarkersNamingSourcesOnly) {
  EXPECT_EQ(After(3, "Lists are mutable [2]."), Phase::kProse);
  EXPECT_EQ(After(3, "a [1][3] b [1, 2] c [1,3]"), Phase::kProse);
  EXPECT_EQ(After(12, "[12]"), Phase::kProse);
  EXPECT_EQ(After(3, "see [1"), Phase::kNumber);
  EXPECT_EQ(After(3, "see [1,"), Phase::kComma);
  EXPECT_EQ(After(3, "see [1, "), Phase::kCommaSpace);
  EXPECT_EQ(After(3, "x ["), Phase::kOpen);
  for (const char* bad : {"[4]", "[0]", "[01]", "[]", "[^1]", "[a]", "[1 ]", "[1,,2]", "[1, 4]",
                          "[13]", "[1-3]", "[link](http://x)", "[ 1]"}) {
    EXPECT_EQ(After(3, bad), Phase::kRejected) << bad;
  }
  EXPECT_EQ(After(12, "[13]"), Phase::kRejected);
  EXPECT_EQ(After(0, "[1]"), Phase::kRejected);  // no sources: nothing can be cited
}

TEST(CitationGrammarTest, FencedCodeAtALineStartIsFreeInlineCodeIsNot) {
  EXPECT_EQ(After(2, "Use:\n```python\nx = a[0]\n```\nDone [1]."), Phase::kProse);
  EXPECT_EQ(After(2, "Use:\n  ```\nb[9]"), Phase::kFence);  // indented fences count too
  // Inline code may be left unclosed, when its text is outside code for the parser: constrained.
  EXPECT_EQ(After(2, "Write `a[0]`"), Phase::kRejected);
  // Backticks in the middle of a line do not open a fence here (the parser could be inside
  // inline code there).
  EXPECT_EQ(After(2, "text ```b[9]"), Phase::kRejected);
  // After the fence closes, prose is constrained again.
  EXPECT_EQ(After(2, "```\n[9]\n``` and [9]"), Phase::kRejected);
  EXPECT_EQ(After(2, "````\n[9]"), Phase::kFence);  // four backticks still open a fence
}

TEST(CitationMaskTest, RefusesTokensByWhatTheyContain) {
  // A toy vocabulary: token texts are chosen to hit every case.
  auto vocab = CitationVocabulary::FromTokens({"Hello", " [", "[",  " [1", " [4", "[[", "1",
                                               "2",     "4",  "0",  "]",   "].",  "],", ",",
                                               " ",     " 2", "12", "x",   "",    "[]", "a[2]b"});
  auto id = [&](std::string_view t) {
    for (int i = 0; i < vocab->size(); ++i) {
      if (vocab->bytes(i) == t) return i;
    }
    ADD_FAILURE() << "no token " << t;
    return -1;
  };
  CitationMask mask(vocab, 3);
  std::vector<float> logits(static_cast<std::size_t>(vocab->size()), 1.0f);
  auto allowed = [&] {
    std::vector<std::string> out;
    std::fill(logits.begin(), logits.end(), 1.0f);
    mask.MaskLogits(logits);
    for (int i = 0; i < vocab->size(); ++i) {
      if (std::isfinite(logits[static_cast<std::size_t>(i)])) out.push_back(vocab->bytes(i));
    }
    return out;
  };
  // Prose: everything but tokens that would break a marker.
  std::vector<std::string> prose = allowed();
  for (const char* t : {"Hello", " [", "[", " [1", "]", "", "a[2]b", "12"}) {
    EXPECT_NE(std::find(prose.begin(), prose.end(), t), prose.end()) << t;
  }
  for (const char* t : {" [4", "[[", "[]"}) {
    EXPECT_EQ(std::find(prose.begin(), prose.end(), t), prose.end()) << t;
    EXPECT_FALSE(mask.Allows(id(t))) << t;
  }
  mask.Accept(id(" [1"));
  EXPECT_EQ(mask.state().phase, Phase::kNumber);
  // After "[1" with three sources: no second digit (1x > 3), a close, or a comma.
  EXPECT_EQ(allowed(), (std::vector<std::string>{"]", "].", "],", ","}));
  mask.Accept(id(","));
  EXPECT_EQ(allowed(), (std::vector<std::string>{"1", "2", " ", " 2"}));
  mask.Accept(id(" 2"));
  mask.Accept(id("]."));
  EXPECT_EQ(mask.state().phase, Phase::kProse);
  EXPECT_EQ(mask.violations(), 0);
  // A refused token fed anyway is counted and the grammar goes on in prose.
  mask.Accept(id("[["));
  EXPECT_EQ(mask.violations(), 1);
  EXPECT_EQ(mask.state().phase, Phase::kOpen);
}

TEST(CitationMaskTest, ApplyCatchesUpWithTheGeneratedIdsAndRestartsOnAShorterList) {
  auto vocab = CitationVocabulary::FromTokens({"a", "[", "1", "2", "]"});
  CitationMask mask(vocab, 1);
  std::vector<float> logits(5, 0.0f);
  const std::vector<int> generated = {0, 1};  // "a["
  mask.Apply(generated, logits);
  EXPECT_TRUE(std::isinf(logits[0]) && std::isinf(logits[3]) && std::isinf(logits[4]));
  EXPECT_EQ(logits[2], 0.0f);  // only "1"
  std::fill(logits.begin(), logits.end(), 0.0f);
  mask.Apply({}, logits);  // a new generation
  EXPECT_EQ(mask.state().phase, Phase::kProse);
  EXPECT_TRUE(std::isinf(logits[3]) == false && std::isinf(logits[0]) == false);
}

class QwenCitationMaskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::string> dir = llm::CachedQwen3TokenizerDir();
    if (!dir.ok()) return;
    Result<llm::Tokenizer> t = llm::Tokenizer::Load(*dir);
    if (t.ok()) tokenizer_ = new llm::Tokenizer(std::move(*t));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    tokenizer_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(tokenizer_, nullptr)
        << "the Qwen3 tokenizer is required: " << llm::CachedQwen3TokenizerDir().status().message();
    vocab_ = CitationVocabulary::Build(*tokenizer_, 151936);
  }
  int Id(std::string_view text) const {
    const std::vector<std::int32_t> ids = tokenizer_->Encode(text);
    EXPECT_EQ(ids.size(), 1u) << "\"" << text << "\" is not one Qwen3 token";
    return ids.empty() ? -1 : ids[0];
  }
  // The texts of every allowed id in the mask's state (inside markers the list is short).
  std::vector<std::string> AllowedTexts(CitationMask& mask) const {
    std::vector<float> logits(151936, 0.0f);
    mask.MaskLogits(logits);
    std::vector<std::string> out;
    for (int i = 0; i < 151936; ++i) {
      if (std::isfinite(logits[static_cast<std::size_t>(i)])) out.push_back(vocab_->bytes(i));
    }
    return out;
  }
  static llm::Tokenizer* tokenizer_;
  std::shared_ptr<const CitationVocabulary> vocab_;
};
llm::Tokenizer* QwenCitationMaskTest::tokenizer_ = nullptr;

TEST_F(QwenCitationMaskTest, VocabularyListsBracketTokensAndMarkerContinuations) {
  EXPECT_EQ(vocab_->size(), 151936);
  EXPECT_GT(vocab_->opening().size(), 100u);  // "[", " [", "([", "[\"", ...
  EXPECT_LT(vocab_->opening().size(), 5000u);
  for (int id : vocab_->opening()) EXPECT_NE(vocab_->bytes(id).find('['), std::string::npos);
  // Ids past the tokenizer's vocabulary (151669..151935) stand for no text.
  EXPECT_EQ(vocab_->bytes(151900), "");
  EXPECT_EQ(vocab_->bytes(Id("<|im_end|>")), "<|im_end|>");
}

TEST_F(QwenCitationMaskTest, InsideAMarkerOnlyDigitsOfRealSourcesCommasAndClosesRemain) {
  CitationMask mask(vocab_, 12);
  EXPECT_TRUE(mask.Allows(Id(" [")));
  mask.Accept(Id(" ["));
  std::vector<std::string> open = AllowedTexts(mask);
  // Qwen3 has single-digit tokens only: exactly 1..9 may start a number.
  EXPECT_EQ(open, (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  mask.Accept(Id("1"));
  std::vector<std::string> after1 = AllowedTexts(mask);
  for (const char* t : {"0", "1", "2", "]", "],", "].", ",", "]\n"}) {
    EXPECT_NE(std::find(after1.begin(), after1.end(), t), after1.end()) << t;
  }
  for (const char* t : {"3", "9", ")", " ", "<|im_end|>", "["}) {
    EXPECT_EQ(std::find(after1.begin(), after1.end(), t), after1.end()) << t;
  }
  EXPECT_FALSE(mask.Allows(Id("<|im_end|>")));  // the model cannot stop inside a marker
  EXPECT_FALSE(mask.Allows(151900));            // nor emit an id that stands for no text
  mask.Accept(Id("2"));
  EXPECT_FALSE(mask.Allows(Id("0")));  // 120 > 12
  EXPECT_TRUE(mask.Allows(Id("].")));
  mask.Accept(Id("]."));
  EXPECT_EQ(mask.state().phase, Phase::kProse);
  EXPECT_EQ(mask.violations(), 0);
}

TEST_F(QwenCitationMaskTest, InProseBracketTokensAreJudgedByWhatFollowsTheBracket) {
  CitationMask mask(vocab_, 2);
  // Refused: a bracket followed by anything that is not a source number.
  int refused = 0;
  for (const char* t : {"[\"", " [[", "[]", "[i", " [\"", "[:"}) {
    const std::vector<std::int32_t> ids = tokenizer_->Encode(t);
    if (ids.size() != 1) continue;  // not one token in Qwen3: nothing to check
    EXPECT_FALSE(mask.Allows(ids[0])) << t;
    ++refused;
  }
  EXPECT_GE(refused, 4);
  // Allowed: an open bracket at the end of the token, and ordinary words.
  for (const char* t : {"[", " [", "([", " the", "]"}) EXPECT_TRUE(mask.Allows(Id(t))) << t;
  // Every allowed bracket token leaves the grammar in a live state; every refused one breaks it.
  CitationGrammar grammar(2);
  for (int id : vocab_->opening()) {
    const bool ok = grammar.Run({}, vocab_->bytes(id)).phase != Phase::kRejected;
    EXPECT_EQ(mask.Allows(id), ok) << vocab_->bytes(id);
  }
}

TEST_F(QwenCitationMaskTest, GreedyArgmaxOverMaskedLogitsAlwaysCompletesAValidMarker) {
  // Logits that favour invalid continuations: " [" and "7" most, then "2", then "]".
  CitationMask mask(vocab_, 3);
  const int seven = Id("7"), open = Id(" ["), close = Id("]");
  std::string text;
  for (int step = 0; step < 12; ++step) {
    std::vector<float> logits(151936, 0.0f);
    logits[static_cast<std::size_t>(open)] = 9;
    logits[static_cast<std::size_t>(seven)] = 8;
    logits[static_cast<std::size_t>(Id("2"))] = 3;
    logits[static_cast<std::size_t>(close)] = 2;
    mask.MaskLogits(logits);
    const int next =
        static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    mask.Accept(next);
    text += vocab_->bytes(next);
  }
  EXPECT_EQ(text.substr(0, 12), " [2] [2] [2]");
  EXPECT_EQ(mask.violations(), 0);
}

}  // namespace
}  // namespace lumen::answer
