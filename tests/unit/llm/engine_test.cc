// The CPU engine against an independent float64 reference (engine_reference.h) on tiny models
// that Lumen writes itself, plus determinism and thread/ISA agreement.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "llm/causal_lm.h"
#include "llm/cpu/simd.h"
#include "llm/generator.h"
#include "llm/quantize.h"
#include "llm/tiny_model.h"
#include "tests/unit/llm/engine_reference.h"

namespace lumen::llm {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path p =
      fs::temp_directory_path() / ("lumen_engine_" + std::string(info->test_suite_name()) + "_" +
                                   info->name() + "_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

TinyModelSpec SmallSpec(Architecture arch, bool fp8) {
  TinyModelSpec s;
  s.arch = arch;
  s.fp8 = fp8;
  s.vocab = 320;
  s.seed = fp8 ? 7 : 3;
  return s;
}

EngineOptions Exact(int threads = 2) {
  return {.threads = threads, .isa = "auto", .kv_dtype = KvDType::kF32, .verify_weights = true};
}

double MaxAbs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

// max |engine - reference| <= 1e-3 × max |reference|.
void ExpectClose(const std::vector<float>& got, const std::vector<double>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  const double scale = MaxAbs(want);
  EXPECT_GT(scale, 0.5) << what << ": degenerate logits";
  EXPECT_LE(worst, 1e-3 * scale) << what << ": max |delta| " << worst << " vs max |logit| "
                                 << scale;
}

struct Case {
  const char* name;
  TinyModelSpec spec;
};

class EngineParityTest : public ::testing::TestWithParam<int> {};

std::vector<Case> ParityCases() {
  std::vector<Case> cases;
  cases.push_back({"moe_bf16", SmallSpec(Architecture::kQwen3Moe, false)});
  cases.push_back({"moe_fp8", SmallSpec(Architecture::kQwen3Moe, true)});
  cases.push_back({"dense_bf16", SmallSpec(Architecture::kQwen3, false)});
  cases.push_back({"dense_fp8", SmallSpec(Architecture::kQwen3, true)});
  Case mixed{"moe_fp8_mixed_layers_bf16_scales_tied_sharded",
             SmallSpec(Architecture::kQwen3Moe, true)};
  mixed.spec.layers = 3;
  mixed.spec.mlp_only_layers = {1};
  mixed.spec.scale_dtype = DType::kBF16;
  mixed.spec.tie_embeddings = true;
  mixed.spec.shards = 3;
  mixed.spec.block = 16;
  cases.push_back(mixed);
  Case wide{"moe_fp8_block128_8experts_top3", SmallSpec(Architecture::kQwen3Moe, true)};
  wide.spec.hidden = 160;  // two 128-wide blocks, the second partial
  wide.spec.heads = 4;
  wide.spec.kv_heads = 1;
  wide.spec.head_dim = 32;
  wide.spec.block = 128;
  wide.spec.experts_per_tok = 3;
  cases.push_back(wide);
  return cases;
}

const std::vector<std::vector<int>> kPrompts = {
    {5},
    {1, 2, 3},
    {17, 300, 4, 4, 99, 250, 12},
    {0, 319, 42, 7, 7, 7, 100, 200, 31, 64, 128, 255, 3}};

TEST_P(EngineParityTest, PrefillAndDecodeMatchTheFloat64Reference) {
  const Case c = ParityCases()[static_cast<std::size_t>(GetParam())];
  const fs::path dir = TempDir(c.name);
  ASSERT_TRUE(WriteTinyModel(dir.string(), c.spec).ok());
  Result<std::unique_ptr<CausalLM>> model = LoadCausalLM(dir.string(), Exact());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const reference::Model ref(dir.string());
  std::vector<float> logits(static_cast<std::size_t>(c.spec.vocab));
  for (const std::vector<int>& prompt : kPrompts) {
    const std::vector<reference::Vec> want = ref.AllLogits(prompt);
    // Prefill: the whole prompt in one call.
    auto seq = (*model)->NewSequence(64);
    ASSERT_TRUE(seq.ok());
    ASSERT_TRUE((*model)->Forward(**seq, prompt, logits).ok());
    ExpectClose(logits, want.back(),
                std::string(c.name) + " prefill of " + std::to_string(prompt.size()));
    // Decode: one token at a time, every step checked.
    auto step = (*model)->NewSequence(64);
    ASSERT_TRUE(step.ok());
    for (std::size_t t = 0; t < prompt.size(); ++t) {
      ASSERT_TRUE((*model)->Forward(**step, {&prompt[t], 1}, logits).ok());
      ExpectClose(logits, want[t], std::string(c.name) + " decode step " + std::to_string(t));
    }
    // Prefill then decode: the last two tokens after a prefill of the rest.
    if (prompt.size() >= 3) {
      auto mixed = (*model)->NewSequence(64);
      ASSERT_TRUE(mixed.ok());
      const std::size_t split = prompt.size() - 2;
      ASSERT_TRUE((*model)->Forward(**mixed, {prompt.data(), split}, logits).ok());
      ASSERT_TRUE((*model)->Forward(**mixed, {prompt.data() + split, 2}, logits).ok());
      ExpectClose(logits, want.back(), std::string(c.name) + " prefill+chunk");
    }
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Models, EngineParityTest,
                         ::testing::Range(0, static_cast<int>(ParityCases().size())),
                         [](const auto& info) {
                           return std::string(ParityCases()[info.param].name);
                         });

TEST(EngineTest, EveryInstructionSetAndThreadCountAgrees) {
  const fs::path dir = TempDir("isa");
  TinyModelSpec spec = SmallSpec(Architecture::kQwen3Moe, true);
  spec.block = 64;  // scale blocks of whole 64-column groups, so that `amx` takes the prompt
  ASSERT_TRUE(WriteTinyModel(dir.string(), spec).ok());
  const std::vector<int> prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
  std::vector<float> base;
  for (const char* isa : {"scalar", "avx2", "avx512", "avx512vbmi", "amx"}) {
    Result<cpu::Isa> parsed = cpu::ParseIsa(isa);
    if (!parsed.ok()) continue;  // this CPU lacks it
    for (int threads : {1, 3}) {
      EngineOptions o = Exact(threads);
      o.isa = isa;
      auto model = LoadCausalLM(dir.string(), o);
      ASSERT_TRUE(model.ok()) << model.status().ToString();
      auto seq = (*model)->NewSequence(32);
      ASSERT_TRUE(seq.ok());
      std::vector<float> logits(320);
      ASSERT_TRUE((*model)->Forward(**seq, prompt, logits).ok());
      if (base.empty()) {
        base = logits;
        continue;
      }
      double worst = 0, scale = 0;
      for (std::size_t i = 0; i < logits.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(logits[i] - base[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(base[i])));
      }
      EXPECT_LE(worst, 1e-4 * scale) << isa << " x " << threads;
    }
  }
  fs::remove_all(dir);
}

TEST(EngineTest, PromptsLongerThanOnePrefillChunkMatchTheReference) {
  const fs::path dir = TempDir("long");
  TinyModelSpec spec = SmallSpec(Architecture::kQwen3Moe, true);
  spec.layers = 1;
  ASSERT_TRUE(WriteTinyModel(dir.string(), spec).ok());
  auto model = LoadCausalLM(dir.string(), Exact());
  ASSERT_TRUE(model.ok());
  std::vector<int> prompt(700);  // the engine runs 512 + 188
  for (std::size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int>((i * 97 + 13) % 320);
  auto seq = (*model)->NewSequence(701);
  ASSERT_TRUE(seq.ok());
  std::vector<float> logits(320);
  ASSERT_TRUE((*model)->Forward(**seq, prompt, logits).ok());
  EXPECT_EQ((*seq)->length(), 700);
  ExpectClose(logits, reference::Model(dir.string()).AllLogits(prompt).back(), "700-token prefill");
  fs::remove_all(dir);
}

TEST(EngineTest, GreedyGenerationIsDeterministicAndThreadIndependent) {
  const fs::path dir = TempDir("greedy");
  ASSERT_TRUE(WriteTinyModel(dir.string(), SmallSpec(Architecture::kQwen3Moe, true)).ok());
  GenerationOptions g;
  g.max_tokens = 12;
  const std::vector<int> prompt = {10, 20, 30};
  std::vector<std::vector<int>> runs;
  for (int threads : {1, 2, 2}) {
    auto model = LoadCausalLM(dir.string(), Exact(threads));
    ASSERT_TRUE(model.ok());
    Result<GenerationResult> r = Generate(**model, prompt, g);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->stop_reason, "length");
    runs.push_back(r->tokens);
  }
  EXPECT_EQ(runs[0].size(), 12u);
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[1], runs[2]);
  // Greedy decoding equals the argmax of the reference at every step.
  const reference::Model ref(dir.string());
  std::vector<int> all = prompt;
  all.insert(all.end(), runs[0].begin(), runs[0].end() - 1);
  const auto want = ref.AllLogits(all);
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    const auto& l = want[prompt.size() - 1 + i];
    const int argmax = static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin());
    EXPECT_EQ(runs[0][i], argmax) << "step " << i;
  }
  fs::remove_all(dir);
}

TEST(EngineTest, SampledGenerationRepeatsWithTheSameSeed) {
  const fs::path dir = TempDir("seed");
  ASSERT_TRUE(WriteTinyModel(dir.string(), SmallSpec(Architecture::kQwen3, false)).ok());
  auto model = LoadCausalLM(dir.string(), Exact());
  ASSERT_TRUE(model.ok());
  GenerationOptions g;
  g.max_tokens = 16;
  g.sampling = {.temperature = 1.0,
                .top_k = 50,
                .top_p = 0.9,
                .min_p = 0.01,
                .repetition_penalty = 1.1,
                .seed = 42};
  auto a = Generate(**model, std::vector<int>{1, 2}, g);
  auto b = Generate(**model, std::vector<int>{1, 2}, g);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  g.sampling.seed = 43;
  auto c = Generate(**model, std::vector<int>{1, 2}, g);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->tokens, c->tokens);
  fs::remove_all(dir);
}

TEST(EngineTest, GenerationStopsAtAStopId) {
  const fs::path dir = TempDir("stop");
  ASSERT_TRUE(WriteTinyModel(dir.string(), SmallSpec(Architecture::kQwen3, false)).ok());
  auto model = LoadCausalLM(dir.string(), Exact());
  ASSERT_TRUE(model.ok());
  GenerationOptions g;
  g.max_tokens = 8;
  auto free_run = Generate(**model, std::vector<int>{4, 5}, g);
  ASSERT_TRUE(free_run.ok());
  ASSERT_GE(free_run->tokens.size(), 3u);
  g.stop_ids = {free_run->tokens[2]};
  auto stopped = Generate(**model, std::vector<int>{4, 5}, g);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->stop_reason, "stop");
  const auto first = std::find(free_run->tokens.begin(), free_run->tokens.end(), g.stop_ids[0]);
  EXPECT_EQ(stopped->tokens, std::vector<int>(free_run->tokens.begin(), first));
  fs::remove_all(dir);
}

TEST(EngineTest, Bf16KvCacheStaysCloseToTheReference) {
  const fs::path dir = TempDir("kv16");
  ASSERT_TRUE(WriteTinyModel(dir.string(), SmallSpec(Architecture::kQwen3Moe, false)).ok());
  // Nine positions: attention reads the bf16 keys four positions at a time plus a remainder.
  const std::vector<int> prompt = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  const auto want = reference::Model(dir.string()).AllLogits(prompt);
  for (const char* isa : {"scalar", "avx2", "avx512", "avx512vbmi", "amx"}) {
    if (!cpu::ParseIsa(isa).ok()) continue;  // not on this CPU
    EngineOptions o = Exact();
    o.kv_dtype = KvDType::kBF16;
    o.isa = isa;
    auto model = LoadCausalLM(dir.string(), o);
    ASSERT_TRUE(model.ok());
    // The prompt's first five tokens in one call, then one token per call (decode).
    auto seq = (*model)->NewSequence(16);
    std::vector<float> logits(320);
    for (std::size_t done = 0, n = 5; done < prompt.size(); done += n, n = 1) {
      ASSERT_TRUE((*model)->Forward(**seq, std::span(prompt).subspan(done, n), logits).ok());
      double worst = 0;
      const std::vector<double>& w = want[done + n - 1];
      for (std::size_t i = 0; i < logits.size(); ++i)
        worst = std::max(worst, std::fabs(logits[i] - w[i]));
      EXPECT_LE(worst, 2e-2 * MaxAbs(w)) << isa << " at position " << done + n - 1;
    }
  }
  fs::remove_all(dir);
}

TEST(EngineTest, QuantizedCheckpointLoadsAndTracksTheOriginal) {
  const fs::path src = TempDir("src"), dst = TempDir("dst");
  TinyModelSpec s = SmallSpec(Architecture::kQwen3Moe, false);
  s.hidden = 128;
  s.head_dim = 32;
  ASSERT_TRUE(WriteTinyModel(src.string(), s).ok());
  Status st = QuantizeCheckpoint(src.string(), dst.string());
  ASSERT_TRUE(st.ok()) << st.ToString();
  Result<Checkpoint> ck = Checkpoint::Open(dst.string());
  ASSERT_TRUE(ck.ok());
  EXPECT_EQ(ck->Find("model.layers.0.self_attn.q_proj.weight")->dtype, DType::kF8E4M3);
  EXPECT_EQ(ck->Find("model.layers.0.mlp.experts.3.down_proj.weight_scale_inv")->shape,
            (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(ck->Find("model.layers.0.mlp.gate.weight")->dtype, DType::kBF16);
  EXPECT_EQ(ck->Find("model.embed_tokens.weight")->dtype, DType::kBF16);
  EXPECT_EQ(ck->Find("lm_head.weight")->dtype, DType::kBF16);
  EXPECT_EQ(ck->Find("model.norm.weight")->dtype, DType::kBF16);

  const std::vector<int> prompt = {11, 22, 33, 44};
  auto original = LoadCausalLM(src.string(), Exact());
  auto quantized = LoadCausalLM(dst.string(), Exact());
  ASSERT_TRUE(original.ok() && quantized.ok()) << quantized.status().ToString();
  std::vector<float> a(320), b(320);
  auto sa = (*original)->NewSequence(8);
  auto sb = (*quantized)->NewSequence(8);
  ASSERT_TRUE((*original)->Forward(**sa, prompt, a).ok());
  ASSERT_TRUE((*quantized)->Forward(**sb, prompt, b).ok());
  // FP8 keeps about two significant digits: the logits move (and in a random MoE the router
  // may pick other experts), but stay strongly correlated with the original's.
  double ab = 0, aa = 0, bb = 0, ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i] / a.size();
    mb += b[i] / b.size();
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  const double correlation = ab / std::sqrt(aa * bb);
  EXPECT_GT(correlation, 0.95);
  EXPECT_LT(correlation, 1.0);
  // And the quantized model is computed exactly as its own reference says.
  ExpectClose(b, reference::Model(dst.string()).AllLogits(prompt).back(), "quantized");
  fs::remove_all(src);
  fs::remove_all(dst);
}

}  // namespace
}  // namespace lumen::llm
