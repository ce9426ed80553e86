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
LUMEN_AVX2 void DotFp8Rows4(const std::uint8_t* w, std::size_t stride, const float* const scales[4],
                            std::size_t block, const float* x, std::size_t n, float out[4]) {
  __m256 total[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
  float tail[4] = {0, 0, 0, 0};
  const std::uint8_t* w1 = w + stride;
  const std::uint8_t* w2 = w + 2 * stride;
  const std::uint8_t* w3 = w + 3 * stride;
  // The next four rows, fetched ahead (see the AVX-512 DotFp8Rows4).
  const char* next = reinterpret_cast<const char*>(w + 4 * stride);
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

LUMEN_AVX2 void DotBf16Rows4(const std::uint16_t* w, std::size_t stride, const float* x,
                             std::size_t n, float out[4]) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  const char* next = reinterpret_cast<const char*>(w + 4 * stride);  // see DotFp8Rows4
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

const SimdKernels kAvx2 = {Isa::kAvx2,   InnerProductAvx2, Axpy,         DecodeFp8,
                           DecodeBf16,   DecodeF16,        nullptr,      DotFp8Rows4,
                           DotBf16Rows4, DotF32Rows4x2,    AxpyBf16Rows, Softmax};

}  // namespace

const SimdKernels& Avx2Kernels() {
  return kAvx2;
}

}  // namespace lumen::llm::cpu
#endif
