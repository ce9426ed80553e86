// The local engine as an answer backend, on a tiny random Qwen3-MoE model written by
// llm::WriteTinyModel with the real Qwen3 tokenizer (asset cache: scripts/fetch-asset --all;
// without it these tests FAIL, saying so). A random model writes gibberish, but it samples from
// the whole Qwen3 vocabulary, so its text holds brackets, digits and split UTF-8 characters —
// what citation-constrained decoding and streaming have to get right.
#include "llm/answer/local_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <stdexcept>
#include <thread>

#include "llm/answer/answer_writer.h"
#include "llm/answer/citations.h"
#include "llm/generator.h"
#include "llm/tiny_model.h"

namespace lumen::answer {
namespace {

namespace fs = std::filesystem;

// True when `s` is whole, valid UTF-8.
bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xE  ? 3
                  : (c >> 3) == 0x1E ? 4
                                     : 0;
    if (n == 0 || i + static_cast<std::size_t>(n) > s.size()) return false;
    for (int k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += static_cast<std::size_t>(n);
  }
  return true;
}

class LocalBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::string> tokenizer = llm::CachedQwen3TokenizerDir();
    if (!tokenizer.ok()) {
      setup_error_ = new std::string(tokenizer.status().message());
      return;
    }
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("lumen_local_backend_test_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    llm::TinyModelSpec spec;
    spec.hidden = 32;
    spec.layers = 1;
    spec.heads = 2;
    spec.kv_heads = 1;
    spec.head_dim = 16;
    spec.intermediate = 32;
    spec.moe_intermediate = 16;
    spec.experts = 4;
    spec.experts_per_tok = 2;
    spec.tie_embeddings = false;
    spec.seed = 11;
    spec.tokenizer_dir = *tokenizer;
    const Status s = llm::WriteTinyModel(dir_->string(), spec);
    if (!s.ok()) setup_error_ = new std::string(s.ToString());
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    delete setup_error_;
    dir_ = nullptr;
    setup_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << "the Qwen3 tokenizer asset is required: " << *setup_error_;
  }
  static LocalBackendOptions Options() {
    LocalBackendOptions o;
    o.model_dir = dir_->string();
    o.engine.threads = 2;
    o.context_length = 512;
    return o;
  }
  // A backend whose random model opens citation markers often: "[" and " [" are pushed up, and
  // digits and "]" inside them, as a model trained to cite would do.
  static std::unique_ptr<LocalBackend> Citing(bool constrain) {
    LocalBackendOptions o = Options();
    o.constrain_citations = constrain;
    auto plain = LocalBackend::Open(o);
    EXPECT_TRUE(plain.ok()) << plain.status().ToString();
    const llm::Tokenizer& t = (*plain)->tokenizer();
    for (const char* text : {"[", "Ġ[", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {
      o.logit_bias.emplace_back(t.TokenId(text), 16.0f);  // "Ġ[" is " [" in byte-level spelling
    }
    o.logit_bias.emplace_back(t.TokenId("]"), 20.0f);
    o.seed = 1;
    auto b = LocalBackend::Open(o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return std::move(*b);
  }
  static GenerateRequest Request(int max_tokens, double temperature, int num_sources) {
    GenerateRequest r;
    r.messages = {{"user", "Which sources say what?", std::nullopt}};
    r.max_tokens = max_tokens;
    r.temperature = temperature;
    r.top_p = 1.0;
    r.num_sources = num_sources;
    return r;
  }

  static fs::path* dir_;
  static std::string* setup_error_;
};
fs::path* LocalBackendTest::dir_ = nullptr;
std::string* LocalBackendTest::setup_error_ = nullptr;

// Counts of generations holding at least one marker, and at least one invalid id.
struct CitationCounts {
  int with_markers = 0;
  int with_invalid = 0;
  int generations = 0;
};

CitationCounts SampleMany(LocalBackend& backend, int n, int num_sources) {
  CitationCounts c;
  for (int i = 0; i < n; ++i) {
    GenerateRequest r;
    r.messages = {{"user", "Cite.", std::nullopt}};
    r.max_tokens = 6;
    r.temperature = 1.5;
    r.top_p = 1.0;
    r.num_sources = num_sources;
    Result<GenerateResult> g = backend.Generate(r);
    if (!g.ok()) {
      ADD_FAILURE() << g.status().ToString();
      return c;
    }
    ++c.generations;
    const std::vector<CitationMarker> markers = FindCitationMarkers(g->text);
    if (!markers.empty()) ++c.with_markers;
    for (const CitationMarker& m : markers) {
      const bool invalid = std::any_of(m.ids.begin(), m.ids.end(),
                                       [&](int id) { return id < 1 || id > num_sources; });
      if (invalid) {
        ++c.with_invalid;
        break;
      }
    }
  }
  return c;
}

TEST_F(LocalBackendTest, ThousandSampledGenerationsNeverHoldAnInvalidCitation) {
  std::unique_ptr<LocalBackend> constrained = Citing(true);
  const CitationCounts c = SampleMany(*constrained, 1000, 3);
  EXPECT_EQ(c.generations, 1000);
  EXPECT_EQ(c.with_invalid, 0);
  // About 87 % hold a marker: the biased model cites often, or this would prove little.
  EXPECT_GE(c.with_markers, 500);
}

TEST_F(LocalBackendTest, WithoutTheMaskTheSameModelWritesInvalidCitations) {
  // The control: the same biased model and sampling, no mask. If this ever stops producing
  // invalid markers, the test above no longer shows that the mask is what prevents them.
  std::unique_ptr<LocalBackend> free = Citing(false);
  const CitationCounts c = SampleMany(*free, 500, 3);
  EXPECT_GE(c.with_invalid, 10);  // about 7 % of generations when this was written
}

TEST_F(LocalBackendTest, StreamedDeltasAreWholeCharactersAndEqualTheGreedyUnstreamedText) {
  auto backend = LocalBackend::Open(Options());
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  GenerateRequest r = Request(40, 0.0, 3);
  std::vector<std::string> deltas;
  r.on_delta = [&](std::string_view d) {
    deltas.emplace_back(d);
    return true;
  };
  Result<GenerateResult> streamed = (*backend)->Generate(r);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  r.on_delta = nullptr;
  Result<GenerateResult> plain = (*backend)->Generate(r);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(streamed->text, plain->text);
  std::string joined;
  for (const std::string& d : deltas) {
    EXPECT_TRUE(ValidUtf8(d)) << "delta splits a character";
    joined += d;
  }
  EXPECT_EQ(joined, streamed->text);
  EXPECT_GT(deltas.size(), 5u);
  EXPECT_EQ(streamed->completion_tokens, 40);
  EXPECT_EQ(streamed->finish_reason, "length");
  EXPECT_GT(streamed->prompt_tokens, 5);
  EXPECT_GT(streamed->time_to_first_token_ms, 0);
  EXPECT_LE(streamed->time_to_first_token_ms, streamed->total_ms);
}

TEST_F(LocalBackendTest, SampledTextSplitsNoCharacterAcrossDeltas) {
  // Random sampling over the Qwen3 vocabulary draws byte-fragment tokens of CJK characters and
  // emoji; each delta must still be whole UTF-8.
  auto backend = LocalBackend::Open(Options());
  ASSERT_TRUE(backend.ok());
  int deltas = 0;
  for (int i = 0; i < 20; ++i) {
    GenerateRequest r = Request(24, 2.0, 0);
    std::string joined;
    r.on_delta = [&](std::string_view d) {
      EXPECT_TRUE(ValidUtf8(d));
      joined += d;
      ++deltas;
      return true;
    };
    Result<GenerateResult> g = (*backend)->Generate(r);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(joined, g->text);
    EXPECT_TRUE(ValidUtf8(g->text));
  }
  EXPECT_GT(deltas, 100);
}

TEST_F(LocalBackendTest, OpenMarkersAreHeldBackAndAMarkerCutByMaxTokensIsDropped) {
  std::unique_ptr<LocalBackend> backend = Citing(true);
  int held = 0;
  for (int i = 0; i < 200; ++i) {
    GenerateRequest r = Request(5, 1.5, 3);
    std::string joined;
    r.on_delta = [&](std::string_view d) {
      joined += d;
      // What a reader has seen never ends inside a marker.
      const std::size_t open = joined.rfind('[');
      if (open != std::string::npos) {
        EXPECT_NE(joined.find(']', open), std::string::npos) << joined;
      }
      return true;
    };
    Result<GenerateResult> g = backend->Generate(r);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(joined, g->text);
    const std::size_t open = g->text.rfind('[');
    if (open != std::string::npos) {
      EXPECT_NE(g->text.find(']', open), std::string::npos) << g->text;
      ++held;
    }
  }
  EXPECT_GT(held, 20);
}

TEST_F(LocalBackendTest, CallerCancelsAndDeadlinesAreHonoured) {
  auto backend = LocalBackend::Open(Options());
  ASSERT_TRUE(backend.ok());
  GenerateRequest r = Request(100, 1.0, 0);
  int calls = 0;
  r.on_delta = [&](std::string_view) { return ++calls < 3; };
  Result<GenerateResult> cancelled = (*backend)->Generate(r);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->finish_reason, "cancelled");
  EXPECT_EQ(calls, 3);
  EXPECT_LT(cancelled->completion_tokens, 100);

  r.on_delta = nullptr;
  r.deadline = Deadline::AfterMs(-1);
  Result<GenerateResult> late = (*backend)->Generate(r);
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);

  // A deadline passing mid-generation: the callback sleeps past it.
  r.deadline = Deadline::AfterMs(50);
  r.on_delta = [&](std::string_view) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return true;
  };
  Result<GenerateResult> midway = (*backend)->Generate(r);
  EXPECT_EQ(midway.status().code(), StatusCode::kDeadlineExceeded) << midway.status().ToString();
}

TEST_F(LocalBackendTest, BadRequestsAndFoldersAreClearErrors) {
  auto backend = LocalBackend::Open(Options());
  ASSERT_TRUE(backend.ok());
  GenerateRequest r = Request(0, 0.0, 0);
  EXPECT_EQ((*backend)->Generate(r).status().code(), StatusCode::kInvalidArgument);
  r = Request(10, -1.0, 0);
  EXPECT_EQ((*backend)->Generate(r).status().code(), StatusCode::kInvalidArgument);
  r = Request(10, 0.0, 0);
  r.messages[0].content = std::string(5000, 'x') + " y";  // past the 512-token context
  const Status too_long = (*backend)->Generate(r).status();
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("context"), std::string::npos) << too_long.ToString();
  r = Request(10, 0.0, 0);
  r.messages[0].role = "narrator";
  EXPECT_EQ((*backend)->Generate(r).status().code(), StatusCode::kInvalidArgument);

  LocalBackendOptions missing = Options();
  missing.model_dir = (*dir_ / "nowhere").string();
  EXPECT_FALSE(LocalBackend::Open(missing).ok());
  LocalBackendOptions bias = Options();
  bias.logit_bias = {{200000, 1.0f}};
  EXPECT_EQ(LocalBackend::Open(bias).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalBackendTest, AnswerWriterUsesTheLocalModelAndFallsBackWhenItRunsOutOfTime) {
  std::unique_ptr<LocalBackend> backend = Citing(true);
  const SourceList sources = {
      {.n = 1, .title = "csv", .text = "The csv module reads and writes CSV files."},
      {.n = 2, .title = "json", .text = "The json module encodes and decodes JSON."}};
  AnswerWriter writer(backend.get(), {.max_tokens = 30, .temperature = 1.0});
  const Answer a = writer.Write({.question = "How do I read CSV?", .sources = sources});
  EXPECT_EQ(a.mode, "generative");
  EXPECT_EQ(a.backend.rfind("local ", 0), 0u) << a.backend;
  EXPECT_EQ(a.check.invalid_citations, 0);
  EXPECT_GT(a.total_ms, 0);

  const Answer late = writer.Write(
      {.question = "How do I read CSV?", .sources = sources, .deadline = Deadline::AfterMs(-1)});
  EXPECT_EQ(late.mode, "extractive");
  EXPECT_EQ(late.fallback_reason.rfind("deadline_exceeded: ", 0), 0u) << late.fallback_reason;
  EXPECT_FALSE(late.sentences.empty());
}

TEST_F(LocalBackendTest, GeneratorLogitProcessorSteersEveryStepAndMayNotRefuseAll) {
  // The hook the citation mask uses, on the engine directly.
  auto model = llm::LoadCausalLM(dir_->string(), {.threads = 2});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::vector<int> prompt = {9707, 11, 1879};
  llm::GenerationOptions o;
  o.max_tokens = 5;
  o.sampling.temperature = 1.0;
  std::vector<std::size_t> seen_lengths;
  o.logit_processor = [&](std::span<const int> generated, std::span<float> logits) {
    seen_lengths.push_back(generated.size());
    for (float& l : logits) l = -std::numeric_limits<float>::infinity();
    logits[static_cast<std::size_t>(1000 + generated.size())] = 0.0f;  // only this id may come
  };
  Result<llm::GenerationResult> r = llm::Generate(**model, prompt, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tokens, (std::vector<int>{1000, 1001, 1002, 1003, 1004}));
  EXPECT_EQ(seen_lengths, (std::vector<std::size_t>{0, 1, 2, 3, 4}));

  o.logit_processor = [](std::span<const int>, std::span<float> logits) {
    for (float& l : logits) l = -std::numeric_limits<float>::infinity();
  };
  EXPECT_EQ(llm::Generate(**model, prompt, o).status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace lumen::answer
