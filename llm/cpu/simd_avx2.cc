// AVX2 + FMA + F16C kernels (see simd.h). Functions carry target attributes instead of the file
// carrying compiler flags, so the library still runs on CPUs without these instructions.
#if defined(__x86_64__)
#include <immintrin.h>

#include <cmath>

#include "core/inner_product.h"
#include "llm/cpu/exp_poly.h"
#include "llm/cpu/simd.h"
#include "llm/fp8.h"
#include "llm/weights.h"

#define LUMEN_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lumen::llm::cpu {
namespace {

LUMEN_AVX2 inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 8 E4M3 codes (low 8 bytes of b, already placed in the high byte of each 16-bit lane) -> 8
// floats equal to e4m3 / 256.
LUMEN_AVX2 inline __m256 HalvesToFloat(__m128i high_bytes) {
  const __m128i h =
      _mm_and_si128(_mm_srai_epi16(high_bytes, 1), _mm_set1_epi16(-16385));  // ~0x4000
  return _mm256_cvtph_ps(h);
}

// 16 codes -> two vectors of 8 floats (e4m3 / 256).
LUMEN_AVX2 inline void Fp8x16(const std::uint8_t* p, __m256& lo, __m256& hi) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i z = _mm_setzero_si128();
  lo = HalvesToFloat(_mm_unpacklo_epi8(z, b));
  hi = HalvesToFloat(_mm_unpackhi_epi8(z, b));
}

LUMEN_AVX2 void Axpy(float a, const float* x, float* y, std::size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

LUMEN_AVX2 void DecodeFp8(const std::uint8_t* src, float scale, std::size_t n, float* dst) {
  const __m256 s = _mm256_set1_ps(scale * 256.0f);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 lo, hi;
    Fp8x16(src + i, lo, hi);
    _mm256_storeu_ps(dst + i, _mm256_mul_ps(lo, s));
    _mm256_storeu_ps(dst + i + 8, _mm256_mul_ps(hi, s));
  }
  for (; i < n; ++i) dst[i] = DecodeE4M3(src[i]) * scale;
}

LUMEN_AVX2 void DecodeBf16(const std::uint16_t* src, std::size_t n, float* dst) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m256i w = _mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16);
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(w));
  }
  for (; i < n; ++i) dst[i] = Bf16ToFloat(src[i]);
}

LUMEN_AVX2 void DecodeF16(const std::uint16_t* src, std::size_t n, float* dst) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(b));
  }
  for (; i < n; ++i) dst[i] = F16ToFloat(src[i]);
}

// One row's 16 codes at w times x0 (8 floats) and x1 (the next 8) into acc.
LUMEN_AVX2 inline void FmaFp8x16(const std::uint8_t* w, __m256 x0, __m256 x1, __m256& acc) {
  __m256 lo, hi;
  Fp8x16(w, lo, hi);
  acc = _mm256_fmadd_ps(hi, x1, _mm256_fmadd_ps(lo, x0, acc));
}

// The accumulators are named variables, not an array indexed in a loop over rows, which GCC 12
// at -O2 kept on the stack (a store-to-load round trip in every FMA chain).
LUMEN_AVX2 void DotFp8Rows4(const std::uint8_t* w, std::size_t stride, std::size_t ahead,
                            const float* const scales[4], std::size_t block, const float* x,
                            std::size_t n, float out[4]) {
  __m256 total[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
  float tail[4] = {0, 0, 0, 0};
  const std::uint8_t* w1 = w + stride;
  const std::uint8_t* w2 = w + 2 * stride;
  const std::uint8_t* w3 = w + 3 * stride;
  // The rows the caller takes next, fetched ahead (see the AVX-512 DotFp8Rows4).
  const char* next = reinterpret_cast<const char*>(w + ahead);
  std::size_t b = 0;
  for (std::size_t j0 = 0; j0 < n; j0 += block, ++b) {
    const std::size_t j1 = j0 + block < n ? j0 + block : n;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    std::size_t j = j0;
    for (; j + 16 <= j1; j += 16) {
      if ((j & 63) < 16) {
        for (int r = 0; r < 4; ++r) _mm_prefetch(next + r * stride + j, _MM_HINT_T0);
      }
      const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
      FmaFp8x16(w + j, x0, x1, a0);
      FmaFp8x16(w1 + j, x0, x1, a1);
      FmaFp8x16(w2 + j, x0, x1, a2);
      FmaFp8x16(w3 + j, x0, x1, a3);
    }
    const __m256 acc[4] = {a0, a1, a2, a3};
    for (int r = 0; r < 4; ++r) {
      total[r] = _mm256_fmadd_ps(acc[r], _mm256_set1_ps(scales[r][b] * 256.0f), total[r]);
      float s = 0.0f;
      for (std::size_t k = j; k < j1; ++k) s += DecodeE4M3(w[r * stride + k]) * x[k];
      tail[r] += s * scales[r][b];
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = HSum(total[r]) + tail[r];
}

LUMEN_AVX2 void DotBf16Rows4(const std::uint16_t* w, std::size_t stride, std::size_t ahead,
                             const float* x, std::size_t n, float out[4]) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  const char* next = reinterpret_cast<const char*>(w + ahead);  // see DotFp8Rows4
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    if ((j & 31) < 8) {
      for (int r = 0; r < 4; ++r) _mm_prefetch(next + 2 * (r * stride + j), _MM_HINT_T0);
    }
    const __m256 xv = _mm256_loadu_ps(x + j);
    for (int r = 0; r < 4; ++r) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + r * stride + j));
      const __m256 wv = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
      acc[r] = _mm256_fmadd_ps(wv, xv, acc[r]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    float s = HSum(acc[r]);
    for (std::size_t k = j; k < n; ++k) s += Bf16ToFloat(w[r * stride + k]) * x[k];
    out[r] = s;
  }
}

LUMEN_AVX2 void DotF32Rows4x2(const float* w, std::size_t stride, const float* x,
                              std::size_t x_stride, std::size_t n, float out[8]) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  const float* x1 = x + x_stride;
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x1 + j);
    for (int r = 0; r < 4; ++r) {
      const __m256 wv = _mm256_loadu_ps(w + r * stride + j);
      acc[2 * r] = _mm256_fmadd_ps(wv, a, acc[2 * r]);
      acc[2 * r + 1] = _mm256_fmadd_ps(wv, b, acc[2 * r + 1]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    float s0 = HSum(acc[2 * r]), s1 = HSum(acc[2 * r + 1]);
    for (std::size_t k = j; k < n; ++k) {
      s0 += w[r * stride + k] * x[k];
      s1 += w[r * stride + k] * x1[k];
    }
    out[2 * r] = s0;
    out[2 * r + 1] = s1;
  }
}

LUMEN_AVX2 inline __m256 Bf16x8(const std::uint16_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
}

LUMEN_AVX2 void AxpyBf16Rows(const float* a, const std::uint16_t* w, std::size_t stride,
                             std::size_t rows, std::size_t n, float* y) {
  std::size_t j = 0;
  for (; j + 32 <= n; j += 32) {  // 32 columns in four registers across all rows
    __m256 acc[4];
    for (int i = 0; i < 4; ++i) acc[i] = _mm256_loadu_ps(y + j + 8 * i);
    for (std::size_t r = 0; r < rows; ++r) {
      const __m256 ar = _mm256_set1_ps(a[r]);
      const std::uint16_t* row = w + r * stride + j;
      for (int i = 0; i < 4; ++i) acc[i] = _mm256_fmadd_ps(ar, Bf16x8(row + 8 * i), acc[i]);
    }
    for (int i = 0; i < 4; ++i) _mm256_storeu_ps(y + j + 8 * i, acc[i]);
  }
  for (; j + 8 <= n; j += 8) {
    __m256 acc = _mm256_loadu_ps(y + j);
    for (std::size_t r = 0; r < rows; ++r) {
      acc = _mm256_fmadd_ps(_mm256_set1_ps(a[r]), Bf16x8(w + r * stride + j), acc);
    }
    _mm256_storeu_ps(y + j, acc);
  }
  for (; j < n; ++j) {
    for (std::size_t r = 0; r < rows; ++r) y[j] += a[r] * Bf16ToFloat(w[r * stride + j]);
  }
}

// e^x lane by lane (llm/cpu/exp_poly.h); lanes below exp_poly::kMin give 0.
LUMEN_AVX2 inline __m256 Exp8(__m256 x) {
  namespace ep = exp_poly;
  const __m256 live = _mm256_cmp_ps(x, _mm256_set1_ps(ep::kMin), _CMP_GE_OQ);
  x = _mm256_min_ps(x, _mm256_set1_ps(ep::kMax));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(ep::kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ep::kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ep::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(ep::kPoly[0]);
  for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ep::kPoly[i]));
  const __m256 e = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n as a float (n in [-126, 127] for the live lanes).
  const __m256i two_n =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(live, _mm256_mul_ps(e, _mm256_castsi256_ps(two_n)));
}

LUMEN_AVX2 void Softmax(float* x, std::size_t n, float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  const std::size_t whole = n / 8 * 8;
  // The last partial group goes through a padded copy (-inf pads give e^-inf = 0).
  alignas(32) float last[8];
  for (std::size_t i = 0; i < 8; ++i) last[i] = whole + i < n ? x[whole + i] * scale : -INFINITY;
  __m256 vmax = _mm256_load_ps(last);
  for (std::size_t i = 0; i < whole; i += 8) {
    vmax = _mm256_max_ps(vmax, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  const __m256 m = _mm256_set1_ps(_mm_cvtss_f32(m4));
  __m256 sum = Exp8(_mm256_sub_ps(_mm256_load_ps(last), m));
  _mm256_store_ps(last, sum);
  for (std::size_t i = 0; i < whole; i += 8) {
    const __m256 e = Exp8(_mm256_fmsub_ps(_mm256_loadu_ps(x + i), s, m));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  const float inv = 1.0f / HSum(sum);
  const __m256 vinv = _mm256_set1_ps(inv);
  for (std::size_t i = 0; i < whole; i += 8) {
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
  }
  for (std::size_t i = whole; i < n; ++i) x[i] = last[i - whole] * inv;
}

// The sums of the lanes of a0..a7, as the 8 lanes of the result.
LUMEN_AVX2 inline __m256 Sum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5,
                              __m256 a6, __m256 a7) {
  // Per 128-bit half: [a0 a1 a2 a3] partial sums (and a4..a7), then the halves added.
  const __m256 lo = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  const __m256 hi = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
  return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
}

// scores_bf16 for NQ queries (see the AVX-512 version).
template <int NQ>
LUMEN_AVX2 void ScoresBf16(const float* q, std::size_t qs, const std::uint16_t* keys,
                           std::size_t stride, std::size_t len, std::size_t hd, float* scores,
                           std::size_t ss) {
  for (std::size_t s = 0; s < len; ++s) {
    const std::uint16_t* k = keys + s * stride;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (std::size_t d = 0; d < hd; d += 8) {
      const __m256 kv = Bf16x8(k + d);
      const float* qd = q + d;
      a0 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd), a0);
      if constexpr (NQ > 1) a1 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + qs), a1);
      if constexpr (NQ > 2) a2 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + 2 * qs), a2);
      if constexpr (NQ > 3) a3 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + 3 * qs), a3);
      if constexpr (NQ > 4) a4 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + 4 * qs), a4);
      if constexpr (NQ > 5) a5 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + 5 * qs), a5);
      if constexpr (NQ > 6) a6 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + 6 * qs), a6);
      if constexpr (NQ > 7) a7 = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qd + 7 * qs), a7);
    }
    alignas(32) float sums[8];
    _mm256_store_ps(sums, Sum8(a0, a1, a2, a3, a4, a5, a6, a7));
    for (int i = 0; i < NQ; ++i) scores[static_cast<std::size_t>(i) * ss + s] = sums[i];
  }
}

LUMEN_AVX2 void ScoresBf16Any(const float* q, std::size_t qs, std::size_t nq,
                              const std::uint16_t* keys, std::size_t stride, std::size_t len,
                              std::size_t hd, float* scores, std::size_t ss) {
  static constexpr decltype(&ScoresBf16<1>) kFor[8] = {
      &ScoresBf16<1>, &ScoresBf16<2>, &ScoresBf16<3>, &ScoresBf16<4>,
      &ScoresBf16<5>, &ScoresBf16<6>, &ScoresBf16<7>, &ScoresBf16<8>};
  kFor[nq - 1](q, qs, keys, stride, len, hd, scores, ss);
}

// mix_bf16 for NQ queries, 8 columns at a time (AVX2 has 16 registers: NQ accumulators, the
// converted values and the weights).
template <int NQ>
LUMEN_AVX2 void MixBf16(const float* p, std::size_t ps, const std::uint16_t* values,
                        std::size_t stride, std::size_t len, std::size_t hd, float* out,
                        std::size_t os) {
  for (std::size_t d = 0; d < hd; d += 8) {
    __m256 x0 = _mm256_setzero_ps(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
    for (std::size_t s = 0; s < len; ++s) {
      const __m256 v = Bf16x8(values + s * stride + d);
      const float* ws = p + s;
      x0 = _mm256_fmadd_ps(_mm256_set1_ps(ws[0]), v, x0);
      if constexpr (NQ > 1) x1 = _mm256_fmadd_ps(_mm256_set1_ps(ws[ps]), v, x1);
      if constexpr (NQ > 2) x2 = _mm256_fmadd_ps(_mm256_set1_ps(ws[2 * ps]), v, x2);
      if constexpr (NQ > 3) x3 = _mm256_fmadd_ps(_mm256_set1_ps(ws[3 * ps]), v, x3);
      if constexpr (NQ > 4) x4 = _mm256_fmadd_ps(_mm256_set1_ps(ws[4 * ps]), v, x4);
      if constexpr (NQ > 5) x5 = _mm256_fmadd_ps(_mm256_set1_ps(ws[5 * ps]), v, x5);
      if constexpr (NQ > 6) x6 = _mm256_fmadd_ps(_mm256_set1_ps(ws[6 * ps]), v, x6);
      if constexpr (NQ > 7) x7 = _mm256_fmadd_ps(_mm256_set1_ps(ws[7 * ps]), v, x7);
    }
    const __m256 xs[8] = {x0, x1, x2, x3, x4, x5, x6, x7};
    for (int i = 0; i < NQ; ++i)
      _mm256_storeu_ps(out + static_cast<std::size_t>(i) * os + d, xs[i]);
  }
}

LUMEN_AVX2 void MixBf16Any(const float* p, std::size_t ps, std::size_t nq,
                           const std::uint16_t* values, std::size_t stride, std::size_t len,
                           std::size_t hd, float* out, std::size_t os) {
  static constexpr decltype(&MixBf16<1>) kFor[8] = {&MixBf16<1>, &MixBf16<2>, &MixBf16<3>,
                                                    &MixBf16<4>, &MixBf16<5>, &MixBf16<6>,
                                                    &MixBf16<7>, &MixBf16<8>};
  kFor[nq - 1](p, ps, values, stride, len, hd, out, os);
}

const SimdKernels kAvx2 = {Isa::kAvx2,    InnerProductAvx2, Axpy,         DecodeFp8,
                           DecodeBf16,    DecodeF16,        nullptr,      DotFp8Rows4,
                           DotBf16Rows4,  DotF32Rows4x2,    AxpyBf16Rows, Softmax,
                           ScoresBf16Any, MixBf16Any,       nullptr};

}  // namespace

const SimdKernels& Avx2Kernels() {
  return kAvx2;
}

}  // namespace lumen::llm::cpu
#endif
