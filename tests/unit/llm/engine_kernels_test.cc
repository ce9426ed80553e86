// FP8 E4M3 against its definition, the SIMD kernels against plain loops, and the sampler.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "llm/cpu/amx.h"
#include "llm/cpu/attention.h"
#include "llm/cpu/matmul.h"
#include "llm/cpu/simd.h"
#include "llm/cpu/worker_team.h"
#include "llm/fp8.h"
#include "llm/kv_cache.h"
#include "llm/quantize.h"
#include "llm/sampler.h"
#include "llm/weights.h"

namespace lumen::llm {
namespace {

// The OCP E4M3 definition: sign, 4-bit exponent with bias 7, 3-bit mantissa, subnormals at
// exponent 0, S.1111.111 = NaN, no infinities.
double Definition(int code) {
  const int s = code >> 7, e = (code >> 3) & 15, m = code & 7;
  if (e == 15 && m == 7) return NAN;
  const double mag = e == 0 ? m / 512.0 : (8 + m) * std::ldexp(1.0, e - 10);
  return s ? -mag : mag;
}

std::vector<cpu::Isa> SupportedIsas() {
  std::vector<cpu::Isa> v;
  for (cpu::Isa i : {cpu::Isa::kScalar, cpu::Isa::kAvx2, cpu::Isa::kAvx512, cpu::Isa::kAvx512Vbmi,
                     cpu::Isa::kAmx}) {
    if (cpu::CpuSupports(i)) v.push_back(i);
  }
  return v;
}

// The four-row FP8 dot product of `isa`, arranging x first as the engine does.
void DotFp8Rows4(cpu::Isa isa, const std::uint8_t* w, std::size_t stride,
                 const float* const scales[4], std::size_t block, const float* x, std::size_t n,
                 float out[4]) {
  const cpu::SimdKernels& k = cpu::KernelsFor(isa);
  std::vector<float> ax(cpu::ArrangedFp8Size(n), -1.0f);
  if (k.arrange_fp8_x != nullptr) k.arrange_fp8_x(x, n, ax.data());
  k.dot_fp8_rows4(w, stride, 4 * stride, scales, block, k.arrange_fp8_x != nullptr ? ax.data() : x,
                  n, out);
}

TEST(Fp8Test, AllCodesDecodeAsTheFormatDefines) {
  for (int c = 0; c < 256; ++c) {
    const double want = Definition(c);
    const float got = DecodeE4M3(static_cast<std::uint8_t>(c));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << c;
      EXPECT_TRUE(IsE4M3NaN(static_cast<std::uint8_t>(c)));
    } else {
      EXPECT_EQ(static_cast<double>(got), want) << "code " << c;
      EXPECT_EQ(std::signbit(got), c >= 128) << "code " << c;
    }
  }
  EXPECT_EQ(DecodeE4M3(0x7E), 448.0f);
  EXPECT_EQ(DecodeE4M3(0xFE), -448.0f);
  EXPECT_EQ(DecodeE4M3(0x01), 1.0f / 512);  // smallest subnormal
  EXPECT_EQ(DecodeE4M3(0x08), 1.0f / 64);   // smallest normal
}

TEST(Fp8Test, EncodeRoundsToNearestEvenAndSaturates) {
  for (int c = 0; c < 256; ++c) {
    if (IsE4M3NaN(static_cast<std::uint8_t>(c))) continue;
    EXPECT_EQ(EncodeE4M3(DecodeE4M3(static_cast<std::uint8_t>(c))), c) << c;
  }
  // Midpoints between neighbours go to the even mantissa.
  EXPECT_EQ(EncodeE4M3(1.0625f), EncodeE4M3(1.0f));           // between 1 and 1.125
  EXPECT_EQ(EncodeE4M3(1.1875f), EncodeE4M3(1.25f));          // between 1.125 and 1.25
  EXPECT_EQ(EncodeE4M3(1.5f / 512), EncodeE4M3(2.0f / 512));  // subnormal midpoint
  EXPECT_EQ(EncodeE4M3(1000.0f), 0x7E);
  EXPECT_EQ(EncodeE4M3(-1e30f), 0xFE);
  EXPECT_EQ(EncodeE4M3(INFINITY), 0x7E);
  EXPECT_EQ(EncodeE4M3(464.0f), 0x7E);  // above the midpoint of 448 and 480: still saturates
  EXPECT_EQ(EncodeE4M3(NAN), 0x7F);
  EXPECT_EQ(EncodeE4M3(-0.0f), 0x80);
  EXPECT_EQ(EncodeE4M3(1e-6f), 0x00);  // underflow to zero
}

TEST(SimdTest, Fp8DecodingMatchesTheDefinitionOnEveryInstructionSet) {
  std::vector<std::uint8_t> codes;
  for (int c = 0; c < 256; ++c) {
    if (!IsE4M3NaN(static_cast<std::uint8_t>(c))) codes.push_back(static_cast<std::uint8_t>(c));
  }
  for (cpu::Isa isa : SupportedIsas()) {
    const cpu::SimdKernels& k = cpu::KernelsFor(isa);
    std::vector<float> out(codes.size());
    k.decode_fp8(codes.data(), 0.5f, codes.size(), out.data());
    for (std::size_t i = 0; i < codes.size(); ++i) {
      EXPECT_EQ(static_cast<double>(out[i]), Definition(codes[i]) * 0.5)
          << cpu::IsaName(isa) << " code " << int(codes[i]);
    }
  }
}

TEST(SimdTest, FusedFp8DotProductsMatchPlainLoops) {
  // Four rows of 200 codes (block width 32: the last block is partial, with a scalar tail).
  const std::size_t n = 200, block = 32;
  std::vector<std::uint8_t> w(4 * n);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::uint8_t>((i * 37 + 11) & 0xBF);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(static_cast<float>(i));
  std::vector<std::vector<float>> scales(4, std::vector<float>((n + block - 1) / block));
  for (int r = 0; r < 4; ++r) {
    for (std::size_t b = 0; b < scales[r].size(); ++b) scales[r][b] = 0.01f * (r + 1) + 0.001f * b;
  }
  const float* sp[4] = {scales[0].data(), scales[1].data(), scales[2].data(), scales[3].data()};
  for (cpu::Isa isa : SupportedIsas()) {
    float out[4];
    DotFp8Rows4(isa, w.data(), n, sp, block, x.data(), n, out);
    for (int r = 0; r < 4; ++r) {
      double want = 0;
      for (std::size_t j = 0; j < n; ++j)
        want += Definition(w[r * n + j]) * sp[r][j / block] * x[j];
      EXPECT_NEAR(out[r], want, 1e-4 * (1 + std::fabs(want))) << cpu::IsaName(isa) << " row " << r;
    }
  }
}

TEST(SimdTest, WeightedSumsOfBf16RowsMatchFloat64OnEveryInstructionSet) {
  // Attention's sum of cached values: rows `stride` apart (wider than n, as in the KV cache),
  // widths with and without tails of 8, 16, 32 and 128 columns, y accumulated onto.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (std::size_t n : {1, 7, 8, 16, 31, 33, 128, 130, 200}) {
    for (std::size_t rows : {1, 3, 9}) {
      const std::size_t stride = n + 24;
      std::vector<std::uint16_t> w(rows * stride);
      for (auto& v : w) v = FloatToBf16(u(rng));
      std::vector<float> a(rows), y0(n);
      for (auto& v : a) v = u(rng);
      for (auto& v : y0) v = u(rng);
      for (cpu::Isa isa : SupportedIsas()) {
        std::vector<float> y = y0;
        cpu::KernelsFor(isa).axpy_bf16_rows(a.data(), w.data(), stride, rows, n, y.data());
        for (std::size_t j = 0; j < n; ++j) {
          double want = y0[j];
          for (std::size_t r = 0; r < rows; ++r)
            want += static_cast<double>(a[r]) * Bf16ToFloat(w[r * stride + j]);
          ASSERT_NEAR(y[j], want, 1e-5 * (1 + rows * 4.0))
              << cpu::IsaName(isa) << " n " << n << " rows " << rows << " column " << j;
        }
      }
    }
  }
}

TEST(SimdTest, SoftmaxMatchesFloat64OnEveryInstructionSet) {
  // Attention's weights: lengths with and without tails of 8 and 16, scores spread from a few
  // units to hundreds (so that many terms fall below e^-87 and must come out as 0, not as
  // garbage), both signs of scale. Each weight within a few float ulps of its float64 value
  // (more where scale·x is large: forming scale·x − max in float costs |scale·x| ulps), or 1e-30
  // absolute for the vanishing ones; the weights sum to 1.
  std::mt19937 rng(11);
  for (std::size_t n : {1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 1000}) {
    for (float spread : {1.0f, 10.0f, 300.0f}) {
      for (float scale : {0.088f, 1.0f, -0.5f}) {
        std::uniform_real_distribution<float> u(-spread, spread);
        std::vector<float> x0(n);
        for (auto& v : x0) v = u(rng);
        double max = -INFINITY;
        for (float v : x0) max = std::max(max, static_cast<double>(scale) * v);
        std::vector<double> want(n);
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i) {
          sum += want[i] = std::exp(static_cast<double>(scale) * x0[i] - max);
        }
        for (auto& v : want) v /= sum;
        for (cpu::Isa isa : SupportedIsas()) {
          std::vector<float> x = x0;
          cpu::KernelsFor(isa).softmax(x.data(), n, scale);
          double total = 0;
          for (std::size_t i = 0; i < n; ++i) {
            total += x[i];
            // exp's own error (a few ulp) plus that of forming scale·x − max in float.
            const double ulps = 4 + std::abs(scale * x0[i]) + std::abs(max);
            ASSERT_NEAR(x[i], want[i], 1.2e-7 * ulps * want[i] + 1e-30)
                << cpu::IsaName(isa) << " n " << n << " spread " << spread << " scale " << scale
                << " i " << i;
          }
          EXPECT_NEAR(total, 1.0, 1e-5) << cpu::IsaName(isa) << " n " << n;
        }
      }
    }
  }
}

TEST(SimdTest, GroupedAttentionKernelsMatchFloat64) {
  // scores_bf16 and mix_bf16 where an instruction set has them: 1 to 8 queries, head widths
  // with and without a 32-column remainder, cache rows wider than a head (as in the KV cache).
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  int checked = 0;
  for (cpu::Isa isa : SupportedIsas()) {
    const cpu::SimdKernels& k = cpu::KernelsFor(isa);
    if (k.scores_bf16 == nullptr || k.mix_bf16 == nullptr) continue;
    for (std::size_t hd : {16, 32, 48, 128}) {
      for (std::size_t nq = 1; nq <= 8; ++nq) {
        for (std::size_t len : {1, 5, 37}) {
          const std::size_t stride = 3 * hd, qs = hd + 16, ss = len + 3;
          std::vector<std::uint16_t> cache(len * stride);
          for (auto& v : cache) v = FloatToBf16(u(rng));
          std::vector<float> q(nq * qs), p(nq * ss), scores(nq * ss, -1.0f), out(nq * hd, 9.0f);
          for (auto& v : q) v = u(rng);
          for (auto& v : p) v = u(rng);
          k.scores_bf16(q.data(), qs, nq, cache.data(), stride, len, hd, scores.data(), ss);
          k.mix_bf16(p.data(), ss, nq, cache.data() + hd, stride, len, hd, out.data(), hd);
          for (std::size_t i = 0; i < nq; ++i) {
            for (std::size_t s = 0; s < len; ++s) {
              double want = 0, mag = 0;
              for (std::size_t d = 0; d < hd; ++d) {
                const double term =
                    q[i * qs + d] * static_cast<double>(Bf16ToFloat(cache[s * stride + d]));
                want += term;
                mag += std::fabs(term);
              }
              ASSERT_NEAR(scores[i * ss + s], want, 1e-6 * mag + 1e-7)
                  << cpu::IsaName(isa) << " hd " << hd << " nq " << nq << " query " << i << " key "
                  << s;
            }
            for (std::size_t d = 0; d < hd; ++d) {
              double want = 0, mag = 0;
              for (std::size_t s = 0; s < len; ++s) {
                const double term =
                    p[i * ss + s] * static_cast<double>(Bf16ToFloat(cache[s * stride + hd + d]));
                want += term;
                mag += std::fabs(term);
              }
              ASSERT_NEAR(out[i * hd + d], want, 1e-6 * mag + 1e-7)
                  << cpu::IsaName(isa) << " hd " << hd << " nq " << nq << " query " << i
                  << " column " << d;
            }
          }
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no instruction set here has the grouped attention kernels";
}

TEST(SimdTest, GroupedAttentionAgreesWithOneHeadAtATime) {
  // The whole attention over a bf16 cache: grouped (query heads of a kv head together, where
  // the instruction set has the kernels) against the scalar set's one head at a time. Groups of
  // 8, 12 (8 + 4) and 1, prompts and a decode step after them, one and two threads.
  std::vector<cpu::Isa> grouped;
  for (cpu::Isa isa : SupportedIsas()) {
    if (cpu::KernelsFor(isa).scores_bf16 != nullptr) grouped.push_back(isa);
  }
  if (grouped.empty()) GTEST_SKIP() << "no instruction set here has the grouped attention kernels";
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  cpu::WorkerTeam team(1);
  for (int kv_heads : {1, 2}) {
    for (int group : {1, 8, 12}) {
      const int heads = kv_heads * group, hd = 128, positions = 21;
      auto cache = KvCache::Create(1, positions, kv_heads, hd, KvDType::kBF16);
      ASSERT_TRUE(cache.ok());
      std::vector<float> kv(static_cast<std::size_t>(kv_heads * hd));
      for (int pos = 0; pos < positions; ++pos) {
        for (auto& v : kv) v = u(rng);
        std::vector<float> vv(kv.size());
        for (auto& v : vv) v = u(rng);
        (*cache)->Store(0, pos, kv.data(), vv.data());
      }
      for (std::size_t p0 : {0, 20}) {
        const std::size_t n = p0 == 0 ? 20 : 1;
        std::vector<float> q(n * static_cast<std::size_t>(heads * hd));
        for (auto& v : q) v = u(rng) * 4.0f;
        std::vector<float> want(q.size()), got(q.size());
        const cpu::CpuContext scalar{.simd = &cpu::KernelsFor(cpu::Isa::kScalar), .team = nullptr};
        cpu::Attention(scalar, **cache, 0, q.data(), n, p0, heads, 0.0884f, want.data());
        for (cpu::Isa isa : grouped) {
          for (cpu::WorkerTeam* t : {static_cast<cpu::WorkerTeam*>(nullptr), &team}) {
            const cpu::CpuContext ctx{.simd = &cpu::KernelsFor(isa), .team = t};
            cpu::Attention(ctx, **cache, 0, q.data(), n, p0, heads, 0.0884f, got.data());
            for (std::size_t i = 0; i < got.size(); ++i) {
              ASSERT_NEAR(got[i], want[i], 2e-5)
                  << cpu::IsaName(isa) << " group " << group << " kv heads " << kv_heads << " p0 "
                  << p0 << " element " << i;
            }
          }
        }
      }
    }
  }
}

TEST(SimdTest, FusedFp8DotProductsMatchFloat64OnEveryCodeLengthAndStride) {
  // Rows of random codes in which every non-NaN code occurs, random activations of both signs
  // and magnitudes from 2^-20 to 2^10; lengths with and without tails of 16, 64 and 128 columns,
  // rows padded (stride > n) or not, block widths below, at and above 64.
  std::mt19937 rng(7);
  std::vector<std::uint8_t> finite;
  for (int c = 0; c < 256; ++c) {
    if (!IsE4M3NaN(static_cast<std::uint8_t>(c))) finite.push_back(static_cast<std::uint8_t>(c));
  }
  for (std::size_t n : {16u, 48u, 64u, 130u, 254u, 256u, 300u, 1000u, 2048u}) {
    for (std::size_t pad : {0u, 7u, 64u}) {
      for (std::size_t block : {16u, 32u, 64u, 128u}) {
        const std::size_t stride = n + pad;
        // Four rows plus four more after them (the kernels may prefetch, never read, those).
        std::vector<std::uint8_t> w(8 * stride, 0x7F);
        for (int r = 0; r < 4; ++r) {
          for (std::size_t j = 0; j < n; ++j) {
            const std::size_t k = r * n + j;  // rows 0..3 together hold every finite code
            w[r * stride + j] = k < finite.size() ? finite[(k * 101) % finite.size()]
                                                  : finite[rng() % finite.size()];
          }
        }
        std::vector<float> x(n);
        for (float& v : x) {
          const float mag = std::ldexp(std::uniform_real_distribution<float>(1, 2)(rng),
                                       static_cast<int>(rng() % 31) - 20);
          v = rng() % 2 ? mag : -mag;
        }
        std::vector<std::vector<float>> scales(4, std::vector<float>((n + block - 1) / block));
        for (auto& row : scales) {
          for (float& v : row) v = std::uniform_real_distribution<float>(1e-4f, 1e-2f)(rng);
        }
        const float* sp[4] = {scales[0].data(), scales[1].data(), scales[2].data(),
                              scales[3].data()};
        for (cpu::Isa isa : SupportedIsas()) {
          float out[4];
          DotFp8Rows4(isa, w.data(), stride, sp, block, x.data(), n, out);
          for (int r = 0; r < 4; ++r) {
            double want = 0, magnitude = 0;
            for (std::size_t j = 0; j < n; ++j) {
              const double term = Definition(w[r * stride + j]) * sp[r][j / block] * x[j];
              want += term;
              magnitude += std::fabs(term);
            }
            // fp32 accumulation: error bounded by a few ulps of the sum of magnitudes.
            EXPECT_NEAR(out[r], want, 1e-6 * magnitude)
                << cpu::IsaName(isa) << " n=" << n << " stride=" << stride << " block=" << block
                << " row " << r;
          }
        }
      }
    }
  }
}

TEST(SimdTest, EveryCodeDecodesExactlyInTheFusedFp8DotProducts) {
  // One-hot activations read single weights back: each finite code must come out as its exact
  // value, at every position of a 64-column group (rows 0..3 hold every finite code, shifted).
  const std::size_t n = 256, block = 128;
  std::vector<std::uint8_t> finite;
  for (int c = 0; c < 256; ++c) {
    if (!IsE4M3NaN(static_cast<std::uint8_t>(c))) finite.push_back(static_cast<std::uint8_t>(c));
  }
  std::vector<std::uint8_t> w(8 * n);
  for (int r = 0; r < 4; ++r) {
    for (std::size_t j = 0; j < n; ++j) w[r * n + j] = finite[(j + 64 * r) % finite.size()];
  }
  const std::vector<float> ones(2, 1.0f);
  const float* sp[4] = {ones.data(), ones.data(), ones.data(), ones.data()};
  for (cpu::Isa isa : SupportedIsas()) {
    std::vector<float> x(n, 0.0f);
    for (std::size_t j = 0; j < n; ++j) {
      x[j] = 1.0f;
      float out[4];
      DotFp8Rows4(isa, w.data(), n, sp, block, x.data(), n, out);
      x[j] = 0.0f;
      for (int r = 0; r < 4; ++r) {
        EXPECT_EQ(static_cast<double>(out[r]), Definition(w[r * n + j]))
            << cpu::IsaName(isa) << " code " << int(w[r * n + j]) << " column " << j;
      }
    }
  }
}

TEST(SimdTest, TableLookupMapsNaNCodesToNaN) {
  // Loading refuses NaN weights, so no kernel has to handle them; the avx512vbmi tables still
  // map both NaN codes to NaN rather than to a number.
  if (!cpu::CpuSupports(cpu::Isa::kAvx512Vbmi)) GTEST_SKIP() << "no AVX-512 VBMI";
  const std::size_t n = 64;
  const std::vector<float> ones(1, 1.0f);
  const float* sp[4] = {ones.data(), ones.data(), ones.data(), ones.data()};
  for (std::size_t j : {0u, 9u, 63u}) {
    std::vector<std::uint8_t> w(8 * n, 0x38);  // 1.0
    w[j] = 0x7F;
    w[2 * n + j] = 0xFF;
    std::vector<float> x(n, 0.5f);
    float out[4];
    DotFp8Rows4(cpu::Isa::kAvx512Vbmi, w.data(), n, sp, n, x.data(), n, out);
    EXPECT_TRUE(std::isnan(out[0])) << j;
    EXPECT_EQ(out[1], 32.0f) << j;
    EXPECT_TRUE(std::isnan(out[2])) << j;
    EXPECT_EQ(out[3], 32.0f) << j;
  }
}

TEST(SimdTest, Fp8DotProductsWithScaledActivationsMatchFloat64) {
  // dot_fp8_rows4_xs: the block scales multiplied into the arranged activations beforehand.
  // Every finite code, activations from 2^-20 to 2^10, lengths with and without a partial
  // last group of 64, rows padded or not; then one-hot activations read each code back exactly.
  std::mt19937 rng(11);
  std::vector<std::uint8_t> finite;
  for (int c = 0; c < 256; ++c) {
    if (!IsE4M3NaN(static_cast<std::uint8_t>(c))) finite.push_back(static_cast<std::uint8_t>(c));
  }
  int checked = 0;
  for (cpu::Isa isa : SupportedIsas()) {
    const cpu::SimdKernels& k = cpu::KernelsFor(isa);
    if (k.dot_fp8_rows4_xs == nullptr) continue;
    ASSERT_NE(k.arrange_fp8_x, nullptr) << cpu::IsaName(isa);
    for (std::size_t n : {64u, 100u, 254u, 256u, 300u, 2048u}) {
      for (std::size_t pad : {0u, 7u}) {
        for (std::size_t block : {64u, 128u}) {
          const std::size_t stride = n + pad, size = cpu::ArrangedFp8Size(n);
          std::vector<std::uint8_t> w(8 * stride, 0x7F);  // rows 4..7 may be prefetched only
          for (std::size_t r = 0; r < 4; ++r) {
            for (std::size_t j = 0; j < n; ++j) {
              const std::size_t i = r * n + j;
              w[r * stride + j] = i < finite.size() ? finite[(i * 101) % finite.size()]
                                                    : finite[rng() % finite.size()];
            }
          }
          std::vector<float> x(n), scales((n + block - 1) / block);
          for (float& v : x) {
            const float mag = std::ldexp(std::uniform_real_distribution<float>(1, 2)(rng),
                                         static_cast<int>(rng() % 31) - 20);
            v = rng() % 2 ? mag : -mag;
          }
          for (float& v : scales) v = std::uniform_real_distribution<float>(1e-4f, 1e-2f)(rng);
          std::vector<float> xs(size, -1.0f);
          k.arrange_fp8_x(x.data(), n, xs.data());
          for (std::size_t i = 0; i < size; ++i) xs[i] *= scales[i / 64 * 64 / block];
          float out[4];
          k.dot_fp8_rows4_xs(w.data(), stride, 4 * stride, xs.data(), n, out);
          for (std::size_t r = 0; r < 4; ++r) {
            double want = 0, magnitude = 0;
            for (std::size_t j = 0; j < n; ++j) {
              const double term = Definition(w[r * stride + j]) * scales[j / block] * x[j];
              want += term;
              magnitude += std::fabs(term);
            }
            EXPECT_NEAR(out[r], want, 1e-6 * magnitude)
                << cpu::IsaName(isa) << " n=" << n << " stride=" << stride << " block=" << block
                << " row " << r;
            ++checked;
          }
        }
      }
    }
    const std::size_t n = 128;
    std::vector<std::uint8_t> w(8 * n);
    for (std::size_t r = 0; r < 4; ++r) {
      for (std::size_t j = 0; j < n; ++j) w[r * n + j] = finite[(j + n * r) % finite.size()];
    }
    std::vector<float> x(n, 0.0f), xs(cpu::ArrangedFp8Size(n));
    for (std::size_t j = 0; j < n; ++j) {
      x[j] = 1.0f;
      k.arrange_fp8_x(x.data(), n, xs.data());
      x[j] = 0.0f;
      float out[4];
      k.dot_fp8_rows4_xs(w.data(), n, 4 * n, xs.data(), n, out);
      for (std::size_t r = 0; r < 4; ++r) {
        EXPECT_EQ(static_cast<double>(out[r]), Definition(w[r * n + j]))
            << cpu::IsaName(isa) << " code " << int(w[r * n + j]) << " column " << j;
      }
    }
  }
  if (cpu::CpuSupports(cpu::Isa::kAvx512Vbmi)) {
    EXPECT_GT(checked, 0);
  }
}

TEST(SimdTest, OneAndTwoTokenMatMulsMatchFloat64OnCheckpointShapes) {
  // The one- and two-token products read a task's rows as four streams (matmul.cc): row counts
  // with and without a remainder of 1..3 rows, several 128-row scale blocks per matrix, a block
  // height that is not a multiple of 4, columns with a partial last group of 64; FP8 and BF16
  // weights; one thread and two (whose tasks split the rows differently).
  std::mt19937 rng(5);
  for (auto [rows, cols, br, bc] :
       {std::tuple{260, 300, 128, 128}, std::tuple{45, 2048, 128, 128}, std::tuple{50, 200, 6, 64},
        std::tuple{7, 130, 128, 128}, std::tuple{1027, 64, 128, 128}}) {
    std::vector<float> dense(static_cast<std::size_t>(rows * cols));
    for (float& v : dense) v = std::normal_distribution<float>(0, 1)(rng);
    for (int r = 0; r < rows; ++r) {  // rows of different magnitudes: distinct block scales
      for (int j = 0; j < cols; ++j) dense[static_cast<std::size_t>(r * cols + j)] *= 1 + r % 7;
    }
    Fp8Block q = QuantizeFp8Blocks(dense.data(), rows, cols, br, bc);
    const std::int64_t scale_cols = (cols + bc - 1) / bc;
    const WeightMatrix fp8{.name = "fp8",
                           .dtype = DType::kF8E4M3,
                           .rows = rows,
                           .cols = cols,
                           .data = q.codes.data(),
                           .scales = q.scales.data(),
                           .block_rows = br,
                           .block_cols = bc,
                           .scale_cols = scale_cols};
    std::vector<std::uint16_t> bf16(dense.size());
    for (std::size_t i = 0; i < dense.size(); ++i) {
      std::uint32_t u;
      std::memcpy(&u, &dense[i], 4);
      bf16[i] = static_cast<std::uint16_t>(u >> 16);  // truncation: any bf16 values will do
    }
    const WeightMatrix bf{.name = "bf16",
                          .dtype = DType::kBF16,
                          .rows = rows,
                          .cols = cols,
                          .data = reinterpret_cast<const std::uint8_t*>(bf16.data())};
    auto weight = [&](const WeightMatrix& w, int r, int j) -> double {
      const std::size_t i = static_cast<std::size_t>(r * cols + j);
      if (w.dtype == DType::kBF16) {
        const std::uint32_t u = std::uint32_t{bf16[i]} << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
      }
      return Definition(q.codes[i]) *
             q.scales[static_cast<std::size_t>((r / br) * scale_cols + j / bc)];
    };
    std::vector<float> x(2 * static_cast<std::size_t>(cols));
    for (float& v : x) v = std::uniform_real_distribution<float>(-2, 2)(rng);
    cpu::WorkerTeam team(1);
    for (const WeightMatrix* w : {&fp8, &bf}) {
      for (cpu::Isa isa : SupportedIsas()) {
        for (cpu::WorkerTeam* t : {static_cast<cpu::WorkerTeam*>(nullptr), &team}) {
          const cpu::CpuContext ctx{.simd = &cpu::KernelsFor(isa), .team = t};
          for (std::size_t n : {1u, 2u}) {
            std::vector<float> y(n * static_cast<std::size_t>(rows), NAN);
            cpu::MatMul(ctx, *w, x.data(), n, y.data());
            for (std::size_t tok = 0; tok < n; ++tok) {
              const float* xt = x.data() + tok * static_cast<std::size_t>(cols);
              for (int r = 0; r < rows; ++r) {
                double want = 0, magnitude = 0;
                for (int j = 0; j < cols; ++j) {
                  const double term = weight(*w, r, j) * xt[j];
                  want += term;
                  magnitude += std::fabs(term);
                }
                EXPECT_NEAR(y[tok * static_cast<std::size_t>(rows) + static_cast<std::size_t>(r)],
                            want, 1e-6 * magnitude)
                    << w->name << " " << cpu::IsaName(isa) << " " << rows << "x" << cols
                    << " blocks " << br << "x" << bc << " n=" << n << " token " << tok << " row "
                    << r << (t ? " two threads" : " one thread");
              }
            }
          }
        }
      }
    }
  }
}

TEST(SimdTest, MatMulAgreesForOneTokenAndManyTokens) {
  // 13 rows (not a multiple of 4) × 70 columns, FP8 in 16×16 blocks; 1 and 5 tokens.
  const std::int64_t rows = 13, cols = 70;
  std::vector<float> dense(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < dense.size(); ++i) dense[i] = std::cos(0.37f * static_cast<float>(i));
  Fp8Block q = QuantizeFp8Blocks(dense.data(), rows, cols, 16, 16);
  WeightMatrix w{.name = "w",
                 .dtype = DType::kF8E4M3,
                 .rows = rows,
                 .cols = cols,
                 .data = q.codes.data(),
                 .scales = q.scales.data(),
                 .block_rows = 16,
                 .block_cols = 16,
                 .scale_cols = (cols + 15) / 16};
  std::vector<float> x(5 * cols);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.11f * static_cast<float>(i));
  for (cpu::Isa isa : SupportedIsas()) {
    const cpu::CpuContext ctx{.simd = &cpu::KernelsFor(isa), .team = nullptr};
    for (std::size_t n : {1u, 5u}) {
      std::vector<float> y(n * rows);
      cpu::MatMul(ctx, w, x.data(), n, y.data());
      for (std::size_t t = 0; t < n; ++t) {
        for (std::int64_t r = 0; r < rows; ++r) {
          double want = 0;
          for (std::int64_t j = 0; j < cols; ++j) {
            want += Definition(q.codes[r * cols + j]) * q.scales[(r / 16) * w.scale_cols + j / 16] *
                    x[t * cols + j];
          }
          EXPECT_NEAR(y[t * rows + r], want, 1e-4 * (1 + std::fabs(want)))
              << cpu::IsaName(isa) << " n=" << n << " t=" << t << " r=" << r;
        }
      }
    }
  }
}

TEST(SimdTest, AmxTileProductsMatchFloat64) {
  if (!cpu::CpuSupports(cpu::Isa::kAmx)) GTEST_SKIP() << "no AMX-BF16 (or no tile permission)";
  // 40 rows (two and a half 16-row tiles) × 160 columns (two and a half 64-column groups) in
  // 128 × 128 blocks (the second partial both ways); every code but NaN, activations over nine
  // orders of magnitude; 3 to 40 tokens (partial and odd numbers of 16-token tiles).
  const std::int64_t rows = 40, cols = 160, block = 128;
  std::mt19937 rng(11);
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(rows * cols));
  for (auto& c : codes) {
    do c = static_cast<std::uint8_t>(rng());
    while (IsE4M3NaN(c));
  }
  std::vector<float> scales(4);
  for (auto& v : scales) v = std::ldexp(1.0f + static_cast<float>(rng() % 100) / 100, -7);
  const WeightMatrix w{.name = "w",
                       .dtype = DType::kF8E4M3,
                       .rows = rows,
                       .cols = cols,
                       .data = codes.data(),
                       .scales = scales.data(),
                       .block_rows = block,
                       .block_cols = block,
                       .scale_cols = 2};
  ASSERT_TRUE(cpu::AmxCanMultiply(w));
  std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exp(-15, 15);
  std::vector<float> x(40 * cols);
  for (auto& v : x) v = std::ldexp(mant(rng), exp(rng));
  const cpu::CpuContext ctx{.simd = &cpu::KernelsFor(cpu::Isa::kAmx), .team = nullptr};
  double worst = 0;
  for (std::size_t n : {3u, 16u, 17u, 33u, 40u}) {
    std::vector<float> y(n * rows, NAN);
    cpu::MatMul(ctx, w, x.data(), n, y.data());
    for (std::size_t t = 0; t < n; ++t) {
      for (std::int64_t r = 0; r < rows; ++r) {
        double want = 0, size = 0;
        for (std::int64_t j = 0; j < cols; ++j) {
          const double term = Definition(codes[r * cols + j]) * scales[j / block] *
                              static_cast<double>(x[t * cols + j]);
          want += term;
          size += std::fabs(term);
        }
        const double err = std::fabs(y[t * rows + r] - want) / size;
        worst = std::max(worst, err);
        // fp32 arithmetic on these terms errs by a few 1e-7 of Σ|term|; activations split into
        // bf16 hi + lo keep about 16 significant bits.
        ASSERT_LE(err, 2e-5) << "n=" << n << " t=" << t << " r=" << r << " got " << y[t * rows + r]
                             << " want " << want;
      }
    }
  }
  std::printf("AMX worst error %.3g of the sum of |terms|\n", worst);
}

TEST(SamplerTest, GreedyPicksTheArgmaxAndTopK1IsGreedy) {
  std::vector<float> logits = {0.1f, 2.5f, -1.0f, 2.4f};
  Sampler greedy({});
  EXPECT_EQ(greedy.Sample(logits, {}), 1);
  Sampler k1({.temperature = 1.5, .top_k = 1, .seed = 9});
  for (int i = 0; i < 20; ++i) {
    std::vector<float> l = {0.1f, 2.5f, -1.0f, 2.4f};
    EXPECT_EQ(k1.Sample(l, {}), 1);
  }
}

TEST(SamplerTest, RepetitionPenaltyDiscouragesSeenTokens) {
  std::vector<float> logits = {0.0f, 2.5f, 2.4f};
  Sampler s({.repetition_penalty = 1.5});
  const std::vector<int> seen = {1, 1, 1};  // applied once, however often seen
  EXPECT_EQ(s.Sample(logits, seen), 2);
  EXPECT_FLOAT_EQ(logits[1], 2.5f / 1.5f);
}

TEST(SamplerTest, TopPAndMinPCutTheTail) {
  // p ≈ {0.84, 0.11, 0.04, ...}: top-p 0.5 and min-p 0.5 both leave only the best token.
  for (SamplingParams p : {SamplingParams{.temperature = 1.0, .top_p = 0.5, .seed = 1},
                           SamplingParams{.temperature = 1.0, .min_p = 0.5, .seed = 1}}) {
    Sampler s(p);
    for (int i = 0; i < 50; ++i) {
      std::vector<float> l = {3.0f, 1.0f, 0.0f, -1.0f};
      EXPECT_EQ(s.Sample(l, {}), 0);
    }
  }
  // Without cuts, sampling at temperature 1 reaches the other tokens.
  Sampler wide({.temperature = 1.0, .seed = 1});
  int others = 0;
  for (int i = 0; i < 200; ++i) {
    std::vector<float> l = {3.0f, 1.0f, 0.0f, -1.0f};
    others += wide.Sample(l, {}) != 0;
  }
  EXPECT_GT(others, 10);
}

TEST(SamplerTest, InvalidParametersAreRejected) {
  EXPECT_FALSE(SamplingParams{.temperature = -1}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.top_p = 0}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.top_p = 1.5}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.min_p = 2}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.top_k = -3}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.repetition_penalty = 0}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.temperature = NAN}.Validate().ok());
  EXPECT_TRUE(SamplingParams{}.Validate().ok());
}

}  // namespace
}  // namespace lumen::llm
