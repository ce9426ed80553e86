// AVX-512 (F, BW, VL) kernels, and the AVX-512 VBMI variant of the FP8 dot products (see simd.h).
// Functions carry target attributes instead of the file carrying compiler flags, so the library
// still runs on CPUs without these instructions.
#if defined(__x86_64__)
#include "core/x86_intrinsics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/inner_product.h"
#include "llm/cpu/exp_poly.h"
#include "llm/cpu/fp8_bf16_vbmi.h"
#include "llm/cpu/simd.h"
#include "llm/fp8.h"
#include "llm/weights.h"

#define LUMEN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
// LUMEN_AVX512_VBMI comes from llm/cpu/fp8_bf16_vbmi.h.

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

LUMEN_AVX512 void DotFp8Rows4(const std::uint8_t* w, std::size_t stride, std::size_t ahead,
                              const float* const scales[4], std::size_t block, const float* x,
                              std::size_t n, float out[4]) {
  __m512 total[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
  float tail[4] = {0, 0, 0, 0};
  const std::uint8_t* w0 = w;
  const std::uint8_t* w1 = w + stride;
  const std::uint8_t* w2 = w + 2 * stride;
  const std::uint8_t* w3 = w + 3 * stride;
  // The rows the caller takes next, fetched ahead: rows are short (a few KiB) and the hardware
  // prefetcher leaves many of their lines to demand misses. On one Sapphire Rapids core this
  // took the matvec from memory from ~5 to ~9.5 GB/s (bench/llm/bench_engine,
  // docs/BENCHMARKS.md). The loop is written out here rather than in a helper: GCC 12 counts
  // a prefetch as no side effect, so a function of prefetches alone is "const" to it and it
  // deletes the calls.
  const char* next = reinterpret_cast<const char*>(w + ahead);
  for (std::size_t j0 = 0; j0 < n; j0 += block) {
    const std::size_t j1 = j0 + block < n ? j0 + block : n;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
           a3 = _mm512_setzero_ps();
    std::size_t j = j0;
    for (; j + 32 <= j1; j += 32) {
      if ((j & 63) < 32) {
        for (int r = 0; r < 4; ++r) _mm_prefetch(next + r * stride + j, _MM_HINT_T0);
      }
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

LUMEN_AVX512 void DotBf16Rows4(const std::uint16_t* w, std::size_t stride, std::size_t ahead,
                               const float* x, std::size_t n, float out[4]) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
         a3 = _mm512_setzero_ps();
  const char* next = reinterpret_cast<const char*>(w + ahead);  // see DotFp8Rows4
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    if ((j & 31) == 0) {
      for (int r = 0; r < 4; ++r) _mm_prefetch(next + 2 * (r * stride + j), _MM_HINT_T0);
    }
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

// --- AVX-512 VBMI: E4M3 -> bf16 by table lookup (llm/cpu/fp8_bf16_vbmi.h, see simd.h) ---

using vbmi::Fp8Tables;
using vbmi::Fp8ToBf16x64;
using vbmi::LoadFp8Tables;

// The bf16 words of Fp8ToBf16x64 become fp32 by a shift (even words) or a mask (odd words), so
// a group of 64 columns c..c+63 is read as four vectors of 16 whose element 4k + q is column
//   v = 0: c + 16k + 2q,  v = 1: c + 16k + 2q + 1,  v = 2: c + 16k + 8 + 2q,  v = 3: c + 16k + 9 +
//   2q
// (k = 0..3 the 128-bit lane, q = 0..3). ArrangeFp8X writes x in that order, zero-padded.
LUMEN_AVX512_VBMI void ArrangeFp8X(const float* x, std::size_t n, float* ax) {
  alignas(64) std::int32_t idx[4][16];
  for (int v = 0; v < 4; ++v) {
    for (int e = 0; e < 16; ++e) idx[v][e] = 16 * ((e / 4) % 2) + 8 * (v / 2) + 2 * (e % 4) + v % 2;
  }
  for (std::size_t c = 0; c < n; c += 64) {
    __m512 in[4];
    for (int i = 0; i < 4; ++i) {
      const std::size_t begin = c + 16 * static_cast<std::size_t>(i);
      const std::size_t count = begin >= n ? 0 : std::min<std::size_t>(16, n - begin);
      in[i] = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), x + begin);
    }
    for (int v = 0; v < 4; ++v) {
      const __m512i iv = _mm512_load_si512(idx[v]);
      _mm512_storeu_ps(ax + c + 16 * v,
                       _mm512_mask_blend_ps(0xFF00, _mm512_permutex2var_ps(in[0], iv, in[1]),
                                            _mm512_permutex2var_ps(in[2], iv, in[3])));
    }
  }
}

// Columns [lo, hi) of a group of 64.
inline __mmask64 ColumnMask(std::size_t lo, std::size_t hi) {
  const std::uint64_t below_hi = hi >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << hi) - 1;
  return below_hi & (~std::uint64_t{0} << lo);
}

// One row's 64 codes times the group's 64 arranged x values (ArrangeFp8X) into two
// accumulators. x is read from memory by each row's FMAs (L1 loads are cheap here; holding it
// in four more registers made GCC spill).
LUMEN_AVX512_VBMI inline void FmaFp8x64Vbmi(__m512i codes, const Fp8Tables& t, __m512i odd,
                                            const float* x, __m512& a, __m512& b) {
  __m512i lo, hi;
  Fp8ToBf16x64(codes, t, lo, hi);
  a = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(lo, 16)), _mm512_loadu_ps(x), a);
  b = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(lo, odd)), _mm512_loadu_ps(x + 16), b);
  a = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(hi, 16)), _mm512_loadu_ps(x + 32), a);
  b = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(hi, odd)), _mm512_loadu_ps(x + 48), b);
}

// Four rows' accumulators, two per row (halving the dependency chains). Named fields, not an
// array: GCC 12 at -O2 kept arrays indexed in a loop over the rows on the stack, and every FMA
// then waited on a store-to-load round trip.
struct Rows4Acc {
  __m512 a0, a1, a2, a3, b0, b1, b2, b3;
};

template <bool kMasked>
LUMEN_AVX512_VBMI inline __m512i LoadCodes(const std::uint8_t* p, __mmask64 m) {
  return kMasked ? _mm512_maskz_loadu_epi8(m, p) : _mm512_loadu_si512(p);
}

// The 64 codes at column c of four rows `stride` apart (those outside m as code 0 when
// kMasked) times the arranged x into acc, after prefetching the same columns of the rows at
// `next` (written out here: see DotFp8Rows4).
template <bool kMasked>
LUMEN_AVX512_VBMI __attribute__((always_inline)) inline void FmaRows4x64(
    const std::uint8_t* w, std::size_t stride, const char* next, std::size_t c, __mmask64 m,
    const Fp8Tables& t, __m512i odd, const float* x, Rows4Acc& acc) {
  for (int r = 0; r < 4; ++r) _mm_prefetch(next + r * stride + c, _MM_HINT_T0);
  FmaFp8x64Vbmi(LoadCodes<kMasked>(w + c, m), t, odd, x + c, acc.a0, acc.b0);
  FmaFp8x64Vbmi(LoadCodes<kMasked>(w + stride + c, m), t, odd, x + c, acc.a1, acc.b1);
  FmaFp8x64Vbmi(LoadCodes<kMasked>(w + 2 * stride + c, m), t, odd, x + c, acc.a2, acc.b2);
  FmaFp8x64Vbmi(LoadCodes<kMasked>(w + 3 * stride + c, m), t, odd, x + c, acc.a3, acc.b3);
}

LUMEN_AVX512_VBMI void DotFp8Rows4Vbmi(const std::uint8_t* w, std::size_t stride, std::size_t ahead,
                                       const float* const scales[4], std::size_t block,
                                       const float* ax, std::size_t n, float out[4]) {
  const Fp8Tables t = LoadFp8Tables();
  const __m512i odd = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const char* next = reinterpret_cast<const char*>(w + ahead);  // see DotFp8Rows4
  // Where blocks are whole groups of 64 columns (128 in the official checkpoints), only the
  // last group of a row can be partial; otherwise groups may straddle block edges.
  const bool aligned = block % 64 == 0;
  __m512 t0 = _mm512_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
  std::size_t bi = 0;
  for (std::size_t j0 = 0; j0 < n; j0 += block, ++bi) {
    const std::size_t j1 = j0 + block < n ? j0 + block : n;
    const __m512 z = _mm512_setzero_ps();
    Rows4Acc acc{z, z, z, z, z, z, z, z};
    std::size_t c = j0 / 64 * 64;
    if (aligned) {
      for (; c + 64 <= j1; c += 64) FmaRows4x64<false>(w, stride, next, c, 0, t, odd, ax, acc);
    }
    // Groups of 64 columns overlapping [j0, j1) that the loop above left; columns outside
    // [j0, j1) are masked to code 0.
    for (; c < j1; c += 64) {
      const __mmask64 m = ColumnMask(c >= j0 ? 0 : j0 - c, j1 - c);
      FmaRows4x64<true>(w, stride, next, c, m, t, odd, ax, acc);
    }
    t0 = _mm512_fmadd_ps(_mm512_add_ps(acc.a0, acc.b0), _mm512_set1_ps(scales[0][bi]), t0);
    t1 = _mm512_fmadd_ps(_mm512_add_ps(acc.a1, acc.b1), _mm512_set1_ps(scales[1][bi]), t1);
    t2 = _mm512_fmadd_ps(_mm512_add_ps(acc.a2, acc.b2), _mm512_set1_ps(scales[2][bi]), t2);
    t3 = _mm512_fmadd_ps(_mm512_add_ps(acc.a3, acc.b3), _mm512_set1_ps(scales[3][bi]), t3);
  }
  out[0] = _mm512_reduce_add_ps(t0);
  out[1] = _mm512_reduce_add_ps(t1);
  out[2] = _mm512_reduce_add_ps(t2);
  out[3] = _mm512_reduce_add_ps(t3);
}

// DotFp8Rows4Vbmi without blocks: the scales are in xs, so a row is one run of whole groups of
// 64 columns (the last one masked) into two accumulators, with no multiply-add per block.
LUMEN_AVX512_VBMI void DotFp8Rows4XsVbmi(const std::uint8_t* w, std::size_t stride,
                                         std::size_t ahead, const float* xs, std::size_t n,
                                         float out[4]) {
  const Fp8Tables t = LoadFp8Tables();
  const __m512i odd = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const char* next = reinterpret_cast<const char*>(w + ahead);
  const __m512 z = _mm512_setzero_ps();
  Rows4Acc acc{z, z, z, z, z, z, z, z};
  std::size_t c = 0;
  for (; c + 64 <= n; c += 64) FmaRows4x64<false>(w, stride, next, c, 0, t, odd, xs, acc);
  if (c < n) FmaRows4x64<true>(w, stride, next, c, ColumnMask(0, n - c), t, odd, xs, acc);
  out[0] = _mm512_reduce_add_ps(_mm512_add_ps(acc.a0, acc.b0));
  out[1] = _mm512_reduce_add_ps(_mm512_add_ps(acc.a1, acc.b1));
  out[2] = _mm512_reduce_add_ps(_mm512_add_ps(acc.a2, acc.b2));
  out[3] = _mm512_reduce_add_ps(_mm512_add_ps(acc.a3, acc.b3));
}

LUMEN_AVX512 void AxpyBf16Rows(const float* a, const std::uint16_t* w, std::size_t stride,
                               std::size_t rows, std::size_t n, float* y) {
  std::size_t j = 0;
  for (; j + 128 <= n; j += 128) {  // a whole 128-wide head in eight registers across all rows
    __m512 acc[8];
    for (int i = 0; i < 8; ++i) acc[i] = _mm512_loadu_ps(y + j + 16 * i);
    for (std::size_t r = 0; r < rows; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      const std::uint16_t* row = w + r * stride + j;
      for (int i = 0; i < 8; ++i) acc[i] = _mm512_fmadd_ps(ar, Bf16x16(row + 16 * i), acc[i]);
    }
    for (int i = 0; i < 8; ++i) _mm512_storeu_ps(y + j + 16 * i, acc[i]);
  }
  for (; j + 16 <= n; j += 16) {
    __m512 acc = _mm512_loadu_ps(y + j);
    for (std::size_t r = 0; r < rows; ++r) {
      acc = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), Bf16x16(w + r * stride + j), acc);
    }
    _mm512_storeu_ps(y + j, acc);
  }
  for (; j < n; ++j) {
    for (std::size_t r = 0; r < rows; ++r) y[j] += a[r] * Bf16ToFloat(w[r * stride + j]);
  }
}

// e^x lane by lane (llm/cpu/exp_poly.h); lanes below exp_poly::kMin give 0.
LUMEN_AVX512 inline __m512 Exp16(__m512 x) {
  namespace ep = exp_poly;
  const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(ep::kMin), _CMP_GE_OQ);
  x = _mm512_min_ps(x, _mm512_set1_ps(ep::kMax));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(ep::kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ep::kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ep::kLn2Lo), r);
  __m512 p = _mm512_set1_ps(ep::kPoly[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ep::kPoly[i]));
  const __m512 e = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_scalef_ps(live, e, n);
}

LUMEN_AVX512 void Softmax(float* x, std::size_t n, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  const std::size_t whole = n / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - whole)) - 1);
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  for (std::size_t i = 0; i < whole; i += 16) {
    vmax = _mm512_max_ps(vmax, _mm512_mul_ps(_mm512_loadu_ps(x + i), s));
  }
  vmax = _mm512_mask_max_ps(vmax, tail, vmax,
                            _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + whole), s));
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 sum = _mm512_setzero_ps();
  for (std::size_t i = 0; i < whole; i += 16) {
    const __m512 e = Exp16(_mm512_fmsub_ps(_mm512_loadu_ps(x + i), s, m));
    _mm512_storeu_ps(x + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (tail != 0) {
    const __m512 e = _mm512_maskz_mov_ps(
        tail, Exp16(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(tail, x + whole), s, m)));
    _mm512_mask_storeu_ps(x + whole, tail, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for (std::size_t i = 0; i < whole; i += 16) {
    _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  }
  if (tail != 0) {
    _mm512_mask_storeu_ps(x + whole, tail,
                          _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + whole), inv));
  }
}

// The sums of the lanes of a[0..7], as the 8 lanes of the result (about 3 instructions a sum
// where _mm512_reduce_add_ps takes about 9).
LUMEN_AVX512 inline __m256 Sum8(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4, __m512 a5,
                                __m512 a6, __m512 a7) {
  // Per 128-bit lane: [a0 a1 a0 a1] partial sums, then [a0 a1 a2 a3] (and a4..a7).
  const __m512 s01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  const __m512 s23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  const __m512 s45 = _mm512_add_ps(_mm512_unpacklo_ps(a4, a5), _mm512_unpackhi_ps(a4, a5));
  const __m512 s67 = _mm512_add_ps(_mm512_unpacklo_ps(a6, a7), _mm512_unpackhi_ps(a6, a7));
  const __m512 lo =
      _mm512_add_ps(_mm512_shuffle_ps(s01, s23, 0x44), _mm512_shuffle_ps(s01, s23, 0xEE));
  const __m512 hi =
      _mm512_add_ps(_mm512_shuffle_ps(s45, s67, 0x44), _mm512_shuffle_ps(s45, s67, 0xEE));
  // 128-bit lanes [lo0+lo2, lo1+lo3, hi0+hi2, hi1+hi3], then [lo, lo, hi, hi] summed.
  const __m512 u =
      _mm512_add_ps(_mm512_shuffle_f32x4(lo, hi, 0x44), _mm512_shuffle_f32x4(lo, hi, 0xEE));
  const __m512 w = _mm512_add_ps(u, _mm512_shuffle_f32x4(u, u, 0xB1));
  return _mm512_castps512_ps256(_mm512_shuffle_f32x4(w, w, 0x08));
}

// scores_bf16 for NQ queries: per key, each 16 values are converted once and multiplied with
// every query (NQ accumulators in registers), and the NQ sums are formed together.
template <int NQ>
LUMEN_AVX512 void ScoresBf16(const float* q, std::size_t qs, const std::uint16_t* keys,
                             std::size_t stride, std::size_t len, std::size_t hd, float* scores,
                             std::size_t ss) {
  for (std::size_t s = 0; s < len; ++s) {
    const std::uint16_t* k = keys + s * stride;
    if (s + 2 < len) _mm_prefetch(reinterpret_cast<const char*>(k + 2 * stride), _MM_HINT_T0);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (std::size_t d = 0; d < hd; d += 16) {
      const __m512 kv = Bf16x16(k + d);
      const float* qd = q + d;
      a0 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd), a0);
      if constexpr (NQ > 1) a1 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + qs), a1);
      if constexpr (NQ > 2) a2 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + 2 * qs), a2);
      if constexpr (NQ > 3) a3 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + 3 * qs), a3);
      if constexpr (NQ > 4) a4 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + 4 * qs), a4);
      if constexpr (NQ > 5) a5 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + 5 * qs), a5);
      if constexpr (NQ > 6) a6 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + 6 * qs), a6);
      if constexpr (NQ > 7) a7 = _mm512_fmadd_ps(kv, _mm512_loadu_ps(qd + 7 * qs), a7);
    }
    alignas(32) float sums[8];
    _mm256_store_ps(sums, Sum8(a0, a1, a2, a3, a4, a5, a6, a7));
    for (int i = 0; i < NQ; ++i) scores[static_cast<std::size_t>(i) * ss + s] = sums[i];
  }
}

LUMEN_AVX512 void ScoresBf16Any(const float* q, std::size_t qs, std::size_t nq,
                                const std::uint16_t* keys, std::size_t stride, std::size_t len,
                                std::size_t hd, float* scores, std::size_t ss) {
  static constexpr decltype(&ScoresBf16<1>) kFor[8] = {
      &ScoresBf16<1>, &ScoresBf16<2>, &ScoresBf16<3>, &ScoresBf16<4>,
      &ScoresBf16<5>, &ScoresBf16<6>, &ScoresBf16<7>, &ScoresBf16<8>};
  kFor[nq - 1](q, qs, keys, stride, len, hd, scores, ss);
}

// mix_bf16 for NQ queries over columns [d, d + 16·W) of the values: each cached row's 16·W
// values are converted once and added, weighted, into NQ·W accumulators.
template <int NQ, int W>
LUMEN_AVX512 void MixBf16Columns(const float* p, std::size_t ps, const std::uint16_t* values,
                                 std::size_t stride, std::size_t len, std::size_t d, float* out,
                                 std::size_t os) {
  __m512 x0 = _mm512_setzero_ps(), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
  __m512 y0 = x0, y1 = x0, y2 = x0, y3 = x0, y4 = x0, y5 = x0, y6 = x0, y7 = x0;
  for (std::size_t s = 0; s < len; ++s) {
    const std::uint16_t* v = values + s * stride + d;
    const __m512 v0 = Bf16x16(v);
    const __m512 v1 = W > 1 ? Bf16x16(v + 16) : v0;
    const float* ws = p + s;
#define LUMEN_MIX(i)                                           \
  if constexpr (NQ > i) {                                      \
    const __m512 wi = _mm512_set1_ps(ws[i * ps]);              \
    x##i = _mm512_fmadd_ps(wi, v0, x##i);                      \
    if constexpr (W > 1) y##i = _mm512_fmadd_ps(wi, v1, y##i); \
  }
    LUMEN_MIX(0)
    LUMEN_MIX(1) LUMEN_MIX(2) LUMEN_MIX(3) LUMEN_MIX(4) LUMEN_MIX(5) LUMEN_MIX(6) LUMEN_MIX(7)
#undef LUMEN_MIX
  }
  const __m512 xs[8] = {x0, x1, x2, x3, x4, x5, x6, x7};
  const __m512 ys[8] = {y0, y1, y2, y3, y4, y5, y6, y7};
  for (int i = 0; i < NQ; ++i) {
    float* o = out + static_cast<std::size_t>(i) * os + d;
    _mm512_storeu_ps(o, xs[i]);
    if constexpr (W > 1) _mm512_storeu_ps(o + 16, ys[i]);
  }
}

template <int NQ>
LUMEN_AVX512 void MixBf16(const float* p, std::size_t ps, const std::uint16_t* values,
                          std::size_t stride, std::size_t len, std::size_t hd, float* out,
                          std::size_t os) {
  std::size_t d = 0;
  for (; d + 32 <= hd; d += 32) MixBf16Columns<NQ, 2>(p, ps, values, stride, len, d, out, os);
  if (d < hd) MixBf16Columns<NQ, 1>(p, ps, values, stride, len, d, out, os);
}

LUMEN_AVX512 void MixBf16Any(const float* p, std::size_t ps, std::size_t nq,
                             const std::uint16_t* values, std::size_t stride, std::size_t len,
                             std::size_t hd, float* out, std::size_t os) {
  static constexpr decltype(&MixBf16<1>) kFor[8] = {&MixBf16<1>, &MixBf16<2>, &MixBf16<3>,
                                                    &MixBf16<4>, &MixBf16<5>, &MixBf16<6>,
                                                    &MixBf16<7>, &MixBf16<8>};
  kFor[nq - 1](p, ps, values, stride, len, hd, out, os);
}

const SimdKernels kAvx512 = {Isa::kAvx512,  InnerProductAvx512, Axpy,         DecodeFp8,
                             DecodeBf16,    DecodeF16,          nullptr,      DotFp8Rows4,
                             DotBf16Rows4,  DotF32Rows4x2,      AxpyBf16Rows, Softmax,
                             ScoresBf16Any, MixBf16Any,         nullptr};
const SimdKernels kAvx512Vbmi = {Isa::kAvx512Vbmi, InnerProductAvx512, Axpy,
                                 DecodeFp8,        DecodeBf16,         DecodeF16,
                                 ArrangeFp8X,      DotFp8Rows4Vbmi,    DotBf16Rows4,
                                 DotF32Rows4x2,    AxpyBf16Rows,       Softmax,
                                 ScoresBf16Any,    MixBf16Any,         DotFp8Rows4XsVbmi};

}  // namespace

const SimdKernels& Avx512Kernels() {
  return kAvx512;
}

const SimdKernels& Avx512VbmiKernels() {
  return kAvx512Vbmi;
}

}  // namespace lumen::llm::cpu
#endif
