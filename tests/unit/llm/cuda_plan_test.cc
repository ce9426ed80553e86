// The CUDA engine's host-side planning (llm/cuda/plan/), which runs on every machine: expert
// segments and their inverse, launch shapes, decode-graph bookkeeping, backend choice.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <vector>

#include "llm/causal_lm.h"
#include "llm/cuda/plan/backend_choice.h"
#include "llm/cuda/plan/launch_plan.h"
#include "llm/cuda/plan/moe_plan.h"
#include "llm/cuda/plan/online_softmax.h"
#include "llm/device.h"
#include "llm/tiny_model.h"

namespace lumen::llm::cuda {
namespace {

// Every property the grouped kernels rely on, checked from scratch.
void ExpectValidPlan(const MoePlan& p, const std::vector<int>& expert, int experts) {
  const int A = static_cast<int>(expert.size()), tile = p.tile;
  ASSERT_EQ(p.offsets.size(), static_cast<std::size_t>(experts) + 1);
  EXPECT_EQ(p.offsets[0], 0);
  for (int e = 0; e < experts; ++e) {
    EXPECT_EQ(p.counts[e], std::count(expert.begin(), expert.end(), e));
    const int len = p.offsets[e + 1] - p.offsets[e];
    EXPECT_EQ(len % tile, 0) << "segment " << e << " not padded to the tile";
    EXPECT_GE(len, p.counts[e]);
    EXPECT_LT(len - p.counts[e], tile) << "more padding than needed for expert " << e;
    int prev = -1;
    for (int r = p.offsets[e]; r < p.offsets[e + 1]; ++r) {
      const int a = p.rows[r];
      if (r - p.offsets[e] < p.counts[e]) {
        ASSERT_GE(a, 0);
        EXPECT_EQ(expert[a], e);
        EXPECT_GT(a, prev) << "assignments out of order in segment " << e;
        prev = a;
      } else {
        EXPECT_EQ(a, -1) << "padding row " << r << " holds an assignment";
      }
    }
    for (int t = p.offsets[e] / tile; t < p.offsets[e + 1] / tile; ++t)
      EXPECT_EQ(p.tile_expert[t], e);
  }
  EXPECT_LE(p.offsets[experts], MoePaddedCapacity(A, experts, tile));
  for (int a = 0; a < A; ++a) EXPECT_EQ(p.rows[p.slot[a]], a) << "slot is not the inverse";
  for (std::size_t t = static_cast<std::size_t>(p.offsets[experts] / tile);
       t < p.tile_expert.size(); ++t)
    EXPECT_EQ(p.tile_expert[t], -1);
}

TEST(MoePlan, SortsAssignmentsByExpertPadsToTileAndInverts) {
  // 3 tokens × top-2 over 4 experts: (2,0) (2,3) (0,2).
  const std::vector<int> expert = {2, 0, 2, 3, 0, 2};
  auto p = PlanMoe(expert, 4, 4);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->counts, (std::vector<int>{2, 0, 3, 1}));
  EXPECT_EQ(p->offsets, (std::vector<int>{0, 4, 4, 8, 12}));
  EXPECT_EQ(std::vector<int>(p->rows.begin(), p->rows.begin() + 12),
            (std::vector<int>{1, 4, -1, -1, 0, 2, 5, -1, 3, -1, -1, -1}));
  EXPECT_EQ(p->slot, (std::vector<int>{4, 0, 5, 8, 1, 6}));
  EXPECT_EQ(std::vector<int>(p->tile_expert.begin(), p->tile_expert.begin() + 3),
            (std::vector<int>{0, 2, 3}));
  ExpectValidPlan(*p, expert, 4);
}

TEST(MoePlan, RandomRoutingsAtDecodeAndPrefillTilesAreValid) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const int experts = 1 + static_cast<int>(rng() % 160);
    const int k = 1 + static_cast<int>(rng() % std::min(8, experts));
    const int tokens = 1 + static_cast<int>(rng() % 300);
    std::vector<int> expert;
    for (int t = 0; t < tokens; ++t) {
      std::set<int> chosen;
      while (static_cast<int>(chosen.size()) < k) chosen.insert(static_cast<int>(rng() % experts));
      std::vector<int> order(chosen.begin(), chosen.end());
      std::shuffle(order.begin(), order.end(), rng);
      expert.insert(expert.end(), order.begin(), order.end());
    }
    for (int tile : {1, 8, 64}) {
      auto p = PlanMoe(expert, experts, tile);
      ASSERT_TRUE(p.ok());
      ExpectValidPlan(*p, expert, experts);
    }
  }
}

TEST(MoePlan, AllTokensOnOneExpertFillWholeTiles) {
  const std::vector<int> expert(130, 5);
  auto p = PlanMoe(expert, 8, 64);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->offsets[5], 0);
  EXPECT_EQ(p->offsets[8], 192);  // 130 rounded up to 3 tiles
  ExpectValidPlan(*p, expert, 8);
}

TEST(MoePlan, DecodeTileOfEightGivesOneTilePerDistinctExpert) {
  // Batch 8 × top-8 over 128 experts: every chosen expert holds ≤ 8 rows, so one GEMV tile each
  // and each expert's weights are read once per step.
  std::vector<int> expert;
  for (int t = 0; t < 8; ++t)
    for (int j = 0; j < 8; ++j) expert.push_back((t * 3 + j * 5) % 128);
  auto p = PlanMoe(expert, 128, 8);
  ASSERT_TRUE(p.ok());
  const std::set<int> distinct(expert.begin(), expert.end());
  const int used = static_cast<int>(
      std::count_if(p->tile_expert.begin(), p->tile_expert.end(), [](int e) { return e >= 0; }));
  EXPECT_EQ(used, static_cast<int>(distinct.size()));
  EXPECT_LE(static_cast<int>(p->tile_expert.size()), MoeTileCapacity(64, 128, 8));
  ExpectValidPlan(*p, expert, 128);
}

TEST(MoePlan, RejectsBadInput) {
  EXPECT_FALSE(PlanMoe({0, 4}, 4, 8).ok());   // expert out of range
  EXPECT_FALSE(PlanMoe({0, -1}, 4, 8).ok());  // negative expert
  EXPECT_FALSE(PlanMoe({0}, 4, 0).ok());      // tile 0
  EXPECT_FALSE(PlanMoe({0}, 0, 8).ok());      // no experts
  auto empty = PlanMoe({}, 4, 8);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->offsets.back(), 0);
}

TEST(GemvLaunch, QwenShapesUseSixteenByteLoads) {
  // Qwen3-30B-A3B expert gate: 768 × 2048 FP8, 128 × 128 blocks.
  const GemvLaunch g = PlanGemv(768, 2048, WeightFormat::kFp8, 128, 1, 8, 132);
  EXPECT_TRUE(g.vectorized);
  EXPECT_EQ(g.vectors, 1);
  EXPECT_EQ(g.grid_y, 8);
  EXPECT_EQ(g.threads, 256);
  EXPECT_EQ(g.rows_per_warp, GemvLaunch::kRowsPerWarp);
  EXPECT_EQ(g.rows_per_block * g.warps_per_row, 8 * g.rows_per_warp);
  EXPECT_GE(static_cast<long>(g.grid_x) * g.rows_per_block, 768);
  // bf16 lm_head: many rows, one warp per row is enough.
  const GemvLaunch head = PlanGemv(151936, 2048, WeightFormat::kBf16, 1, 8, 1, 132);
  EXPECT_TRUE(head.vectorized);
  EXPECT_EQ(head.warps_per_row, 1);
  EXPECT_EQ(head.vectors, 8);
  EXPECT_EQ(head.grid_x, 151936 / (8 * GemvLaunch::kRowsPerWarp));
}

TEST(GemvLaunch, UnalignedShapesFallBackToElementLoads) {
  EXPECT_FALSE(PlanGemv(64, 40, WeightFormat::kFp8, 32, 1, 1, 132).vectorized);  // 40 bytes/row
  EXPECT_EQ(PlanGemv(64, 40, WeightFormat::kFp8, 32, 1, 1, 132).rows_per_warp, 1);
  EXPECT_FALSE(PlanGemv(64, 64, WeightFormat::kFp8, 24, 1, 1, 132).vectorized);  // 24-col blocks
  EXPECT_TRUE(PlanGemv(64, 64, WeightFormat::kFp8, 32, 1, 1, 132).vectorized);
  EXPECT_FALSE(PlanGemv(64, 6, WeightFormat::kF32, 1, 1, 1, 132).vectorized);  // 24 bytes/row
  EXPECT_TRUE(PlanGemv(64, 8, WeightFormat::kBf16, 1, 1, 1, 132).vectorized);
  // Input vectors that would not fit in the vectorized form's shared memory take the element
  // form, with one row per warp (its blocks cover rows_per_block rows).
  const GemvLaunch wide = PlanGemv(4096, 8192, WeightFormat::kFp8, 128, 8, 1, 132);
  EXPECT_GT(4 * 8 * 8192, GemvLaunch::kMaxSharedBytes);
  EXPECT_FALSE(wide.vectorized);
  EXPECT_EQ(wide.rows_per_warp, 1);
  EXPECT_EQ(wide.rows_per_block * wide.warps_per_row, 8);
  EXPECT_TRUE(PlanGemv(4096, 8192, WeightFormat::kFp8, 128, 4, 1, 132).vectorized);
}

TEST(GemvLaunch, FewRowsAreSplitAcrossWarpsToFillTheGpu) {
  // k_proj of Qwen3-30B-A3B: 512 rows × 2048 FP8 = 128 chunks per row.
  const GemvLaunch k = PlanGemv(512, 2048, WeightFormat::kFp8, 128, 1, 1, 132);
  // Split until a lane gets one chunk of each row: 4 warps share a group of rows.
  EXPECT_EQ(k.warps_per_row, 4);
  EXPECT_EQ(k.rows_per_block, 2 * GemvLaunch::kRowsPerWarp);
  EXPECT_EQ(static_cast<long>(k.grid_x), 512 / k.rows_per_block);
  // A 16-row router cannot reach two blocks per SM: the split stops at 8 warps per row.
  EXPECT_EQ(PlanGemv(16, 2048, WeightFormat::kBf16, 1, 1, 1, 132).warps_per_row, 8);
  // Short rows are not split below one chunk per lane.
  EXPECT_EQ(PlanGemv(16, 64, WeightFormat::kF32, 1, 1, 1, 132).warps_per_row, 1);
  for (int v : {1, 2, 3, 5, 8}) {
    const int got = PlanGemv(64, 64, WeightFormat::kF32, 1, v, 1, 132).vectors;
    EXPECT_GE(got, v);
    EXPECT_TRUE(got == 1 || got == 2 || got == 4 || got == 8);
  }
}

TEST(GemvLaunch, SegmentsSplitOneGridBetweenMatrices) {
  // q/k/v of Qwen3-30B-A3B in one launch: 4096 + 512 + 512 rows of 2048 FP8 columns.
  const std::int64_t rows[] = {4096, 512, 512};
  const GemvSegments s = PlanGemvSegments(rows, 3, 2048, WeightFormat::kFp8, 128, 1, 1, 132);
  ASSERT_EQ(s.count, 3);
  int begin = 0;
  for (int i = 0; i < 3; ++i) {
    const int blocks = s.blocks_end[i] - begin;
    EXPECT_GE(static_cast<std::int64_t>(blocks) * s.launch.rows_per_block, rows[i]) << i;
    EXPECT_LT(static_cast<std::int64_t>(blocks - 1) * s.launch.rows_per_block, rows[i]) << i;
    begin = s.blocks_end[i];
  }
  EXPECT_EQ(s.launch.grid_x, s.blocks_end[2]);
  EXPECT_TRUE(s.launch.vectorized);
  // One segment is the plain launch.
  const std::int64_t one[] = {768};
  const GemvSegments single = PlanGemvSegments(one, 1, 2048, WeightFormat::kFp8, 128, 1, 8, 132);
  const GemvLaunch plain = PlanGemv(768, 2048, WeightFormat::kFp8, 128, 1, 8, 132);
  EXPECT_EQ(single.launch.grid_x, plain.grid_x);
  EXPECT_EQ(single.launch.warps_per_row, plain.warps_per_row);
  EXPECT_EQ(single.launch.grid_y, 8);
}

TEST(GemmLaunch, CoversRowsAndTokenTiles) {
  const GemmLaunch g = PlanGemm(768, 20);
  EXPECT_EQ(g.grid_x, 12);
  EXPECT_EQ(g.grid_y, 20);
  EXPECT_EQ(PlanGemm(65, 1).grid_x, 2);
  EXPECT_EQ(MoeTileFor(1), 8);
  EXPECT_EQ(MoeTileFor(8), 8);
  EXPECT_EQ(MoeTileFor(9), GemmLaunch::kTileM);
}

TEST(AttentionLaunch, DecodeSplitsTheKvLengthPrefillDoesNot) {
  const AttentionLaunch decode = PlanAttention(8192, 1, 4, 8, 128, 132);
  EXPECT_EQ(decode.splits, 66);  // 4 kv heads × 66 splits = two blocks per SM
  EXPECT_GE(decode.splits * decode.chunk, 8192);
  // At 2048 positions the 32-position floor per split caps it first.
  EXPECT_EQ(PlanAttention(2048, 1, 4, 8, 128, 132).splits, 64);
  EXPECT_EQ(decode.chunk % 32, 0);
  EXPECT_GE(decode.chunk, 32);
  const AttentionLaunch prefill = PlanAttention(512, 512, 4, 8, 128, 132);
  EXPECT_EQ(prefill.splits, 1);
  EXPECT_GE(prefill.chunk, 512);
  // A short context is never cut below 32 positions per split.
  EXPECT_EQ(PlanAttention(256, 1, 4, 8, 128, 132).splits, 8);
  // One warp per query head of the group.
  EXPECT_EQ(decode.threads, 8 * 32);
  EXPECT_EQ(PlanAttention(256, 1, 4, 16, 128, 132).threads, 512);
  // The partial buffer bound the engine allocates for: tokens · splits ≤ tokens + 2 · SMs.
  for (int n : {1, 2, 8, 100, 512})
    for (int bucket : {256, 1024, 32768})
      EXPECT_LE(n * PlanAttention(bucket, n, 4, 8, 128, 132).splits, n + 2 * 132);
}

// Attention's softmax as the kernels compute it: each KV split's positions folded in order with
// OnlineSoftmaxPush (one warp per query head), then the splits merged (empty splits included).
// Must equal a direct softmax-weighted sum.
TEST(OnlineSoftmax, SplitAndMergedEqualsDirectSoftmax) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> score(-30.0f, 30.0f), value(-1.0f, 1.0f);
  constexpr int kDim = 3;
  struct State {
    float m = -INFINITY, l = 0.0f, acc[kDim] = {};
  };
  auto merge = [](const std::vector<State>& parts) {
    State out;
    for (const State& p : parts) out.m = std::max(out.m, p.m);
    for (const State& p : parts) {
      const float f = OnlineSoftmaxMergeFactor(p.m, out.m);
      out.l += f * p.l;
      for (int d = 0; d < kDim; ++d) out.acc[d] += f * p.acc[d];
    }
    return out;
  };
  for (int len : {1, 2, 5, 63, 64, 65, 300, 1000}) {
    std::vector<float> s(static_cast<std::size_t>(len));
    std::vector<std::array<float, kDim>> v(static_cast<std::size_t>(len));
    for (int i = 0; i < len; ++i) {
      s[i] = score(rng);
      for (float& x : v[i]) x = value(rng);
    }
    double mx = -INFINITY, denom = 0, want[kDim] = {};
    for (int i = 0; i < len; ++i) mx = std::max<double>(mx, s[i]);
    for (int i = 0; i < len; ++i) {
      const double e = std::exp(s[i] - mx);
      denom += e;
      for (int d = 0; d < kDim; ++d) want[d] += e * v[i][d];
    }
    const AttentionLaunch plan = PlanAttention(KvBucket(len), 1, 1, 1, kDim, 132);
    std::vector<State> splits;
    for (int split = 0; split < plan.splits; ++split) {
      State part;
      const int start = split * plan.chunk, end = std::min(start + plan.chunk, len);
      for (int p = start; p < end; ++p) {
        float corr, weight;
        OnlineSoftmaxPush(part.m, part.l, s[p], corr, weight);
        for (int d = 0; d < kDim; ++d) part.acc[d] = part.acc[d] * corr + weight * v[p][d];
      }
      splits.push_back(part);
    }
    EXPECT_GT(plan.splits, len < 64 ? 0 : 1) << "len " << len;
    const State all = merge(splits);
    for (int d = 0; d < kDim; ++d) {
      EXPECT_NEAR(all.acc[d] / all.l, want[d] / denom, 1e-5) << "len " << len << " dim " << d;
    }
  }
}

TEST(DecodeGraphs, RecaptureOnlyWhenTheKvBucketOrBatchChanges) {
  EXPECT_EQ(KvBucket(1), 256);
  EXPECT_EQ(KvBucket(256), 256);
  EXPECT_EQ(KvBucket(257), 512);
  EXPECT_EQ(KvBucket(40000), 65536);
  DecodeGraphLru lru(16);
  int captures = 0;
  for (int len = 1; len <= 1100; ++len) {
    const DecodeGraphKey key = DecodeGraphKeyFor(1, len, true);
    if (!lru.Touch(key)) {
      ++captures;
      lru.Insert(key);
    }
  }
  EXPECT_EQ(captures, 4);                                      // buckets 256, 512, 1024, 2048
  EXPECT_FALSE(lru.Touch(DecodeGraphKeyFor(8, 1000, true)));   // another batch size
  EXPECT_FALSE(lru.Touch(DecodeGraphKeyFor(1, 1000, false)));  // ids only, no logits
}

TEST(DecodeGraphs, LeastRecentlyUsedGraphIsEvicted) {
  DecodeGraphLru lru(2);
  const DecodeGraphKey a{1, 256, true}, b{2, 256, true}, c{3, 256, true};
  EXPECT_FALSE(lru.Insert(a).has_value());
  EXPECT_FALSE(lru.Insert(b).has_value());
  EXPECT_TRUE(lru.Touch(a));  // b is now the oldest
  const auto evicted = lru.Insert(c);
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(*evicted, b);
  EXPECT_TRUE(lru.Touch(a));
  EXPECT_FALSE(lru.Touch(b));
  EXPECT_EQ(lru.size(), 2u);
}

DeviceReport WithGpu(int major) {
  DeviceReport r;
  r.cuda_built = true;
  r.gpus.push_back(GpuInfo{0, "Test GPU", major, 0, std::size_t{80} << 30});
  return r;
}

TEST(BackendChoice, CpuIsAlwaysAvailable) {
  auto c = ChooseBackend("cpu", DeviceReport{});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->backend, Backend::kCpu);
}

TEST(BackendChoice, CudaRequestedWithoutCudaIsAClearError) {
  auto not_built = ChooseBackend("cuda", DeviceReport{});
  ASSERT_FALSE(not_built.ok());
  EXPECT_NE(not_built.status().message().find("no CUDA backend"), std::string::npos);
  DeviceReport no_gpu;
  no_gpu.cuda_built = true;
  no_gpu.note = "CUDA runtime reports no usable GPU: no CUDA-capable device is detected";
  auto none = ChooseBackend("cuda", no_gpu);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no CUDA-capable device"), std::string::npos);
  auto old = ChooseBackend("cuda", WithGpu(8));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("sm_90"), std::string::npos);
}

TEST(BackendChoice, AutoPrefersAHopperGpuAndFallsBackToCpuWithAReason) {
  auto gpu = ChooseBackend("auto", WithGpu(9));
  ASSERT_TRUE(gpu.ok());
  EXPECT_EQ(gpu->backend, Backend::kCuda);
  EXPECT_EQ(gpu->gpu, 0);
  auto cuda = ChooseBackend("cuda", WithGpu(10));
  ASSERT_TRUE(cuda.ok());
  EXPECT_EQ(cuda->backend, Backend::kCuda);
  auto fallback = ChooseBackend("auto", DeviceReport{});
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->backend, Backend::kCpu);
  EXPECT_NE(fallback->reason.find("no CUDA backend"), std::string::npos);
  auto too_old = ChooseBackend("auto", WithGpu(7));
  ASSERT_TRUE(too_old.ok());
  EXPECT_EQ(too_old->backend, Backend::kCpu);
}

TEST(BackendChoice, UnknownDeviceIsRejected) {
  EXPECT_FALSE(ChooseBackend("gpu", DeviceReport{}).ok());
  EXPECT_FALSE(ChooseBackend("", DeviceReport{}).ok());
  EXPECT_FALSE(ChooseBackend("CUDA", WithGpu(9)).ok());
}

// The loader honours EngineOptions::device: on a machine without a usable GPU (this one),
// "cuda" is a clear error, "auto" runs on the CPU, anything else is rejected.
class LoaderDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lumen_cuda_device_" + std::to_string(::getpid()));
    TinyModelSpec spec;
    spec.vocab = 64;
    ASSERT_TRUE(WriteTinyModel(dir_.string(), spec).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static bool HasUsableGpu() { return ChooseBackend("cuda", ProbeDevices()).ok(); }
  std::filesystem::path dir_;
};

TEST_F(LoaderDevice, CudaWithoutAUsableGpuIsAClearError) {
  if (HasUsableGpu()) GTEST_SKIP() << "this machine has a usable GPU";
  EngineOptions o;
  o.device = "cuda";
  auto m = LoadCausalLM(dir_.string(), o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("CUDA was requested but cannot be used"), std::string::npos)
      << m.status().ToString();
}

TEST_F(LoaderDevice, AutoWithoutAGpuRunsOnTheCpu) {
  if (HasUsableGpu()) GTEST_SKIP() << "this machine has a usable GPU";
  EngineOptions o;
  o.device = "auto";
  o.threads = 1;
  auto m = LoadCausalLM(dir_.string(), o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->backend().rfind("cpu/", 0), 0u) << (*m)->backend();
}

TEST_F(LoaderDevice, UnknownDeviceIsRejected) {
  EngineOptions o;
  o.device = "tpu";
  auto m = LoadCausalLM(dir_.string(), o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lumen::llm::cuda
