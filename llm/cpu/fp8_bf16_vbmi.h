// E4M3 -> bf16 in AVX-512 VBMI registers, exactly (subnormals included, NaN codes -> NaN): two
// 128-entry byte tables indexed by the code's magnitude (vpermi2b) give the high and low bytes
// of the bf16 word, and the sign bit is ORed in. Shared by the VBMI dot products
// (simd_avx512.cc) and the AMX tile products (amx.cc); internal to llm/cpu.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#ifndef LUMEN_AVX512_VBMI
#define LUMEN_AVX512_VBMI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx2,fma,f16c")))
#endif

namespace lumen::llm::cpu::vbmi {

// bf16(e4m3(m)) for a magnitude code m = 0..127 (exact: an E4M3 value has at most four
// significant bits and an exponent within bf16's range); 127 is a NaN code and gives a NaN.
constexpr std::uint16_t E4M3MagnitudeToBf16(int m) {
  if (m == 0x7F) return 0x7FC0;
  const int e = m >> 3, mant = m & 7;
  if (e > 0) return static_cast<std::uint16_t>(((e + 120) << 7) | (mant << 4));
  if (mant == 0) return 0;
  const int p = mant >= 4 ? 2 : mant >= 2 ? 1 : 0;  // subnormal mant × 2^-9 = 1.f × 2^(p-9)
  return static_cast<std::uint16_t>(((p - 9 + 127) << 7) | (((mant - (1 << p)) << (7 - p)) & 0x7F));
}

struct alignas(64) Bf16ByteTables {
  std::uint8_t high[128];
  std::uint8_t low[128];
};

constexpr Bf16ByteTables MakeBf16ByteTables() {
  Bf16ByteTables t{};
  for (int m = 0; m < 128; ++m) {
    t.high[m] = static_cast<std::uint8_t>(E4M3MagnitudeToBf16(m) >> 8);
    t.low[m] = static_cast<std::uint8_t>(E4M3MagnitudeToBf16(m) & 0xFF);
  }
  return t;
}

inline constexpr Bf16ByteTables kBf16Bytes = MakeBf16ByteTables();

struct Fp8Tables {
  __m512i high0, high1, low0, low1, sign;
};

LUMEN_AVX512_VBMI inline Fp8Tables LoadFp8Tables() {
  return {_mm512_load_si512(kBf16Bytes.high), _mm512_load_si512(kBf16Bytes.high + 64),
          _mm512_load_si512(kBf16Bytes.low), _mm512_load_si512(kBf16Bytes.low + 64),
          _mm512_set1_epi8(static_cast<char>(0x80))};
}

// 64 codes -> their bf16 words: `a` holds codes 16k..16k+7 and `b` codes 16k+8..16k+15 of each
// 128-bit lane k (vpunpck interleaves within lanes).
LUMEN_AVX512_VBMI inline void Fp8ToBf16x64(__m512i codes, const Fp8Tables& t, __m512i& a,
                                           __m512i& b) {
  const __m512i high = _mm512_ternarylogic_epi32(_mm512_permutex2var_epi8(t.high0, codes, t.high1),
                                                 codes, t.sign, 0xF8);  // high | (codes & 0x80)
  const __m512i low = _mm512_permutex2var_epi8(t.low0, codes, t.low1);
  a = _mm512_unpacklo_epi8(low, high);
  b = _mm512_unpackhi_epi8(low, high);
}

}  // namespace lumen::llm::cpu::vbmi
#endif
