// AVX-512 (F, BW, VL) kernels (see simd.h). Functions carry target attributes instead of the
// file carrying compiler flags, so the library still runs on CPUs without these instructions.
#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as uninitialised (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "llm/cpu/simd.h"
#include "llm/fp8.h"
#include "llm/weights.h"

#define LUMEN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace lumen::llm::cpu {
namespace {

// 16 E4M3 codes -> 16 floats equal to e4m3 / 256 (see simd.h).
LUMEN_AVX512 inline __m512 Fp8x16(const std::uint8_t* p) {
  const __m256i w = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i h = _mm256_and_si256(_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 1),
                                     _mm256_set1_epi16(-16385));  // clear bit 14
  return _mm512_cvtph_ps(h);
}

// 32 codes -> two vectors of 16 floats: one widening, one shift pair and one mask for all 32
// lanes, then two conversions (fewer instructions per weight than two Fp8x16 calls).
LUMEN_AVX512 inline void Fp8x32(const std::uint8_t* p, __m512& lo, __m512& hi) {
  const __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  const __m512i h =
      _mm512_and_si512(_mm512_srai_epi16(_mm512_slli_epi16(w, 8), 1), _mm512_set1_epi16(-16385));
  lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
  hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
}

LUMEN_AVX512 inline __m512 Bf16x16(const std::uint16_t* p) {
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}

LUMEN_AVX512 float Dot(const float* a, const float* b, std::size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  if (i < n) {
    for (; i + 16 <= n; i += 16) {
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    }
    if (i < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
      s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

LUMEN_AVX512 void Axpy(float a, const float* x, float* y, std::size_t n) {
  const __m512 va = _mm512_set1_ps(a);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(
        y + i, m,
        _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

LUMEN_AVX512 void DecodeFp8(const std::uint8_t* src, float scale, std::size_t n, float* dst) {
  const __m512 s = _mm512_set1_ps(scale * 256.0f);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_mul_ps(Fp8x16(src + i), s));
  for (; i < n; ++i) dst[i] = DecodeE4M3(src[i]) * scale;
}

LUMEN_AVX512 void DecodeBf16(const std::uint16_t* src, std::size_t n, float* dst) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, Bf16x16(src + i));
  for (; i < n; ++i) dst[i] = Bf16ToFloat(src[i]);
}

LUMEN_AVX512 void DecodeF16(const std::uint16_t* src, std::size_t n, float* dst) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(b));
  }
  for (; i < n; ++i) dst[i] = F16ToFloat(src[i]);
}

LUMEN_AVX512 void DotFp8Rows4(const std::uint8_t* w, std::size_t stride,
                              const float* const scales[4], std::size_t block, const float* x,
                              std::size_t n, float out[4]) {
  __m512 total[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
  float tail[4] = {0, 0, 0, 0};
  const std::uint8_t* w0 = w;
  const std::uint8_t* w1 = w + stride;
  const std::uint8_t* w2 = w + 2 * stride;
  const std::uint8_t* w3 = w + 3 * stride;
  for (std::size_t j0 = 0; j0 < n; j0 += block) {
    const std::size_t j1 = j0 + block < n ? j0 + block : n;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
           a3 = _mm512_setzero_ps();
    std::size_t j = j0;
    for (; j + 32 <= j1; j += 32) {
      const __m512 xa = _mm512_loadu_ps(x + j), xb = _mm512_loadu_ps(x + j + 16);
      __m512 lo, hi;
      Fp8x32(w0 + j, lo, hi);
      a0 = _mm512_fmadd_ps(hi, xb, _mm512_fmadd_ps(lo, xa, a0));
      Fp8x32(w1 + j, lo, hi);
      a1 = _mm512_fmadd_ps(hi, xb, _mm512_fmadd_ps(lo, xa, a1));
      Fp8x32(w2 + j, lo, hi);
      a2 = _mm512_fmadd_ps(hi, xb, _mm512_fmadd_ps(lo, xa, a2));
      Fp8x32(w3 + j, lo, hi);
      a3 = _mm512_fmadd_ps(hi, xb, _mm512_fmadd_ps(lo, xa, a3));
    }
    for (; j + 16 <= j1; j += 16) {
      const __m512 xv = _mm512_loadu_ps(x + j);
      a0 = _mm512_fmadd_ps(Fp8x16(w0 + j), xv, a0);
      a1 = _mm512_fmadd_ps(Fp8x16(w1 + j), xv, a1);
      a2 = _mm512_fmadd_ps(Fp8x16(w2 + j), xv, a2);
      a3 = _mm512_fmadd_ps(Fp8x16(w3 + j), xv, a3);
    }
    const std::size_t b = j0 / block;
    total[0] = _mm512_fmadd_ps(a0, _mm512_set1_ps(scales[0][b] * 256.0f), total[0]);
    total[1] = _mm512_fmadd_ps(a1, _mm512_set1_ps(scales[1][b] * 256.0f), total[1]);
    total[2] = _mm512_fmadd_ps(a2, _mm512_set1_ps(scales[2][b] * 256.0f), total[2]);
    total[3] = _mm512_fmadd_ps(a3, _mm512_set1_ps(scales[3][b] * 256.0f), total[3]);
    if (j < j1) {
      for (int r = 0; r < 4; ++r) {
        float s = 0.0f;
        for (std::size_t k = j; k < j1; ++k) s += DecodeE4M3(w[r * stride + k]) * x[k];
        tail[r] += s * scales[r][b];
      }
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = _mm512_reduce_add_ps(total[r]) + tail[r];
}

LUMEN_AVX512 void DotBf16Rows4(const std::uint16_t* w, std::size_t stride, const float* x,
                               std::size_t n, float out[4]) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
         a3 = _mm512_setzero_ps();
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 xv = _mm512_loadu_ps(x + j);
    a0 = _mm512_fmadd_ps(Bf16x16(w + j), xv, a0);
    a1 = _mm512_fmadd_ps(Bf16x16(w + stride + j), xv, a1);
    a2 = _mm512_fmadd_ps(Bf16x16(w + 2 * stride + j), xv, a2);
    a3 = _mm512_fmadd_ps(Bf16x16(w + 3 * stride + j), xv, a3);
  }
  const __m512 acc[4] = {a0, a1, a2, a3};
  for (int r = 0; r < 4; ++r) {
    float s = _mm512_reduce_add_ps(acc[r]);
    for (std::size_t k = j; k < n; ++k) s += Bf16ToFloat(w[r * stride + k]) * x[k];
    out[r] = s;
  }
}

LUMEN_AVX512 void DotF32Rows4x2(const float* w, std::size_t stride, const float* x,
                                std::size_t x_stride, std::size_t n, float out[8]) {
  __m512 acc[8];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const float* x1 = x + x_stride;
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x1 + j);
    for (int r = 0; r < 4; ++r) {
      const __m512 wv = _mm512_loadu_ps(w + r * stride + j);
      acc[2 * r] = _mm512_fmadd_ps(wv, a, acc[2 * r]);
      acc[2 * r + 1] = _mm512_fmadd_ps(wv, b, acc[2 * r + 1]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    float s0 = _mm512_reduce_add_ps(acc[2 * r]), s1 = _mm512_reduce_add_ps(acc[2 * r + 1]);
    for (std::size_t k = j; k < n; ++k) {
      s0 += w[r * stride + k] * x[k];
      s1 += w[r * stride + k] * x1[k];
    }
    out[2 * r] = s0;
    out[2 * r + 1] = s1;
  }
}

const SimdKernels kAvx512 = {Isa::kAvx512, Dot,         Axpy,         DecodeFp8,    DecodeBf16,
                             DecodeF16,    DotFp8Rows4, DotBf16Rows4, DotF32Rows4x2};

}  // namespace

const SimdKernels& Avx512Kernels() {
  return kAvx512;
}

}  // namespace lumen::llm::cpu
#endif
