#include "llm/cpu/amx.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/x86_intrinsics.h"
#include "llm/cpu/fp8_bf16_vbmi.h"
#endif

namespace lumen::llm::cpu {

bool AmxCanMultiply(const WeightMatrix& w) {
  // A group of 64 columns converts into two interleaved 32-column chunks (fp8_bf16_vbmi.h), so
  // a scale block must hold whole groups.
  return w.dtype == DType::kF8E4M3 && w.cols > 0 && w.rows > 0 && w.block_cols > 0 &&
         w.block_cols % 64 == 0 && w.block_rows > 0;
}

#if defined(__x86_64__)

bool AmxSupported() {
  static const bool supported = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool amx_bf16 = (d & (1u << 22)) != 0, amx_tile = (d & (1u << 24)) != 0;
    if (!amx_bf16 || !amx_tile || !__builtin_cpu_supports("avx512vbmi") ||
        !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl")) {
      return false;
    }
    // Linux hands out the 8 KiB tile data state only on request (ARCH_REQ_XCOMP_PERM for
    // XFEATURE_XTILEDATA); without it the first tile instruction kills the process.
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return supported;
}

namespace {

// The input column of word q (0..31) of chunk c: Fp8ToBf16x64 turns the 64 codes of group g =
// c / 2 into two vectors, the first (c even) holding codes 16k..16k+7 of each 128-bit lane k and
// the second codes 16k+8..16k+15.
std::size_t ChunkColumn(std::size_t c, std::size_t q) {
  return 64 * (c / 2) + 16 * (q / 8) + 8 * (c % 2) + q % 8;
}

#define LUMEN_AMX \
  __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512vbmi,avx2,fma")))

// The bf16 nearest to each fp32 word (ties to even), in the word's low half.
LUMEN_AMX inline __m512i RoundToBf16(__m512i u) {
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  return _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), odd)),
                           16);
}

// hi[j] = bf16(x[j]) and lo[j] = bf16(x[j] - hi[j]) (round to nearest even) for j < n, zero
// for n <= j < padded (a multiple of 16).
LUMEN_AMX void SplitBf16(const float* x, std::size_t n, std::size_t padded, std::uint16_t* hi,
                         std::uint16_t* lo) {
  for (std::size_t j = 0; j < padded; j += 16) {
    const std::size_t valid = j < n ? std::min<std::size_t>(16, n - j) : 0;
    const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << valid) - 1), x + j);
    const __m512i h = RoundToBf16(_mm512_castps_si512(v));
    const __m512 rest = _mm512_sub_ps(v, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + j), _mm512_cvtepi32_epi16(h));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + j),
                        _mm512_cvtepi32_epi16(RoundToBf16(_mm512_castps_si512(rest))));
  }
}

// Tiles (AmxTileConfig): 0-3 accumulators (hi and lo parts of two 16-row tiles, so that each
// activation tile loaded serves two weight tiles), 4-5 the hi/lo activations of one token tile,
// 6-7 the weights of two 16-row tiles.

// Rows [r, r + count) of w as bf16 in tile order: for each 32-column chunk the 16 rows' words
// (1 KiB, loaded with a 64-byte stride: rows a power of two apart would share cache sets); rows
// past `count` are zero.
LUMEN_AVX512_VBMI void ConvertRows(const WeightMatrix& w, std::size_t r, std::size_t count,
                                   std::size_t chunks, std::uint16_t* out) {
  const vbmi::Fp8Tables t = vbmi::LoadFp8Tables();
  const std::size_t cols = static_cast<std::size_t>(w.cols);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i >= count) {
      for (std::size_t c = 0; c < chunks; ++c) {
        _mm512_storeu_si512(out + (c * 16 + i) * 32, _mm512_setzero_si512());
      }
      continue;
    }
    const std::uint8_t* row = w.data + (r + i) * cols;
    for (std::size_t g = 0; g < chunks / 2; ++g) {
      std::uint16_t* even = out + (2 * g * 16 + i) * 32;  // chunk 2g, row i
      std::uint16_t* odd = even + 16 * 32;                // chunk 2g + 1, row i
      const std::size_t c0 = 64 * g;
      const __m512i codes = c0 + 64 <= cols ? _mm512_loadu_si512(row + c0)
                                            : _mm512_maskz_loadu_epi8(
                                                  (std::uint64_t{1} << (cols - c0)) - 1, row + c0);
      __m512i a, b;
      vbmi::Fp8ToBf16x64(codes, t, a, b);
      _mm512_storeu_si512(even, a);
      _mm512_storeu_si512(odd, b);
    }
  }
}

// acc[i] += scale_i × (hi[i] + lo[i]) for the first `count` rows of 16 × 16 fp32 tiles.
LUMEN_AMX void AddScaled(const WeightMatrix& w, std::size_t r, std::size_t count, std::size_t block,
                         const float* hi, const float* lo, float* acc) {
  for (std::size_t i = 0; i < count; ++i) {
    const __m512 s = _mm512_set1_ps(w.ScaleRow(static_cast<std::int64_t>(r + i))[block]);
    const __m512 sum = _mm512_add_ps(_mm512_load_ps(hi + 16 * i), _mm512_load_ps(lo + 16 * i));
    _mm512_store_ps(acc + 16 * i, _mm512_fmadd_ps(s, sum, _mm512_load_ps(acc + 16 * i)));
  }
}

// Rows are taken in blocks of up to 128 (their bf16 copy, at most 128 × cols × 2 bytes, stays in
// L2); within a block each token tile multiplies every pair of 16-row tiles, so its activations
// (2 KiB per 32 columns) are read from L2 too.
LUMEN_AMX void Multiply(const WeightMatrix& w, std::size_t row_begin, std::size_t row_end,
                        const AmxActivations& a, float* y) {
  static const AmxTileConfig config;
  constexpr std::size_t kRowBlock = 128;
  const std::size_t rows = static_cast<std::size_t>(w.rows);
  const std::size_t block_chunks = static_cast<std::size_t>(w.block_cols) / 32;
  const std::size_t chunks = a.chunks;
  const std::size_t tile_words = 16 * chunks * 32;  // one 16-row tile's bf16 copy
  thread_local std::vector<std::uint16_t> weights;
  weights.resize(kRowBlock / 16 * tile_words);
  alignas(64) float c[4][256], acc[2][256];
  asm volatile("" ::: "memory");  // the configuration is read by ldtilecfg
  _tile_loadconfig(&config);
  for (std::size_t rb = row_begin; rb < row_end; rb += kRowBlock) {
    const std::size_t re = std::min(row_end, rb + kRowBlock);
    for (std::size_t r = rb; r < re; r += 16) {
      ConvertRows(w, r, std::min<std::size_t>(16, re - r), chunks,
                  weights.data() + (r - rb) / 16 * tile_words);
    }
    asm volatile("" ::: "memory");  // the tile loads below read the converted rows
    for (std::size_t tile = 0; tile < a.token_tiles; ++tile) {
      for (std::size_t r = rb; r < re; r += 32) {
        const bool two = r + 16 < re;
        const std::size_t count[2] = {std::min<std::size_t>(16, re - r),
                                      two ? std::min<std::size_t>(16, re - r - 16) : 0};
        const char* w0 = reinterpret_cast<const char*>(weights.data() + (r - rb) / 16 * tile_words);
        const char* w1 = w0 + tile_words * sizeof(std::uint16_t);
        std::memset(acc, 0, sizeof(acc));
        for (std::size_t c0 = 0, block = 0; c0 < chunks; c0 += block_chunks, ++block) {
          const std::size_t c1 = std::min(chunks, c0 + block_chunks);
          _tile_zero(0);
          _tile_zero(1);
          _tile_zero(2);
          _tile_zero(3);
          for (std::size_t k = c0; k < c1; ++k) {
            _tile_loadd(4, &a.hi[(tile * chunks + k) * 256], 64);
            _tile_loadd(5, &a.lo[(tile * chunks + k) * 256], 64);
            _tile_loadd(6, w0 + 1024 * k, 64);
            _tile_dpbf16ps(0, 6, 4);
            _tile_dpbf16ps(1, 6, 5);
            if (two) {
              _tile_loadd(7, w1 + 1024 * k, 64);
              _tile_dpbf16ps(2, 7, 4);
              _tile_dpbf16ps(3, 7, 5);
            }
          }
          _tile_stored(0, c[0], 64);
          _tile_stored(1, c[1], 64);
          _tile_stored(2, c[2], 64);
          _tile_stored(3, c[3], 64);
          AddScaled(w, r, count[0], block, c[0], c[1], acc[0]);
          if (two) AddScaled(w, r + 16, count[1], block, c[2], c[3], acc[1]);
        }
        const std::size_t t0 = tile * 16, tn = std::min<std::size_t>(16, a.n - t0);
        for (std::size_t u = 0; u < (two ? 2u : 1u); ++u) {
          for (std::size_t j = 0; j < tn; ++j) {
            float* out = y + (t0 + j) * rows + r + 16 * u;
            for (std::size_t i = 0; i < count[u]; ++i) out[i] = acc[u][16 * i + j];
          }
        }
      }
    }
  }
  _tile_release();
}

}  // namespace

void AmxPrepare(const float* x, std::size_t n, std::size_t cols, AmxActivations& out) {
  out.n = n;
  out.cols = cols;
  out.token_tiles = (n + 15) / 16;
  out.chunks = 2 * ((cols + 63) / 64);
  const std::size_t size = out.token_tiles * out.chunks * 256, padded = out.chunks * 32;
  out.hi.assign(size, 0);
  out.lo.assign(size, 0);
  std::vector<std::uint16_t> hi(padded), lo(padded);
  for (std::size_t t = 0; t < n; ++t) {
    SplitBf16(x + t * cols, cols, padded, hi.data(), lo.data());
    const std::size_t tile = t / 16, lane = t % 16;
    for (std::size_t c = 0; c < out.chunks; ++c) {
      std::uint32_t* hi_tile = &out.hi[(tile * out.chunks + c) * 256];
      std::uint32_t* lo_tile = &out.lo[(tile * out.chunks + c) * 256];
      for (std::size_t p = 0; p < 16; ++p) {  // columns 2p and 2p + 1 of the chunk are adjacent
        const std::size_t col = ChunkColumn(c, 2 * p);
        std::memcpy(&hi_tile[p * 16 + lane], &hi[col], 4);
        std::memcpy(&lo_tile[p * 16 + lane], &lo[col], 4);
      }
    }
  }
}

void AmxMultiply(const WeightMatrix& w, std::size_t row_begin, std::size_t row_end,
                 const AmxActivations& a, float* y) {
  Multiply(w, row_begin, row_end, a, y);
}

#else

bool AmxSupported() {
  return false;
}

void AmxPrepare(const float*, std::size_t, std::size_t, AmxActivations&) {}

void AmxMultiply(const WeightMatrix&, std::size_t, std::size_t, const AmxActivations&, float*) {}

#endif

}  // namespace lumen::llm::cpu
