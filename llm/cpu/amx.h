// Products of FP8 block-scaled weights with several tokens at once (prefill) on AMX tiles
// (Sapphire Rapids and later): the `amx` instruction set of simd.h.
//
// A tile product C[16 rows][16 tokens] += A[16 rows][32 inputs] · B[32 inputs][16 tokens] runs
// on bf16 operands with fp32 accumulation. The weights become bf16 exactly (an E4M3 value has
// four significant bits; llm/cpu/fp8_bf16_vbmi.h) into a buffer that stays in L2 while every
// token tile uses it. The activations are split into bf16 hi + lo (x = hi + lo to about 16
// significant bits) and both halves are multiplied, so the result matches fp32 arithmetic
// closely (tested against float64). Per 128-column scale block the tile accumulator is read out
// and added, times that block's scale, into fp32 sums.
//
// Not thread-safe per AmxActivations while it is being prepared; AmxMultiply may run on many
// threads at once over one prepared AmxActivations (each thread uses its own tiles).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "llm/weights.h"

namespace lumen::llm::cpu {

// The CPU has AMX-TILE, AMX-BF16 and AVX-512 VBMI, and the kernel granted this process the tile
// data state (Linux arch_prctl ARCH_REQ_XCOMP_PERM; asked once).
bool AmxSupported();

// The LDTILECFG block the kernels use: palette 1, all eight tiles 16 rows × 64 bytes.
struct alignas(64) AmxTileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  std::uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// FP8 E4M3 weights whose columns and scale blocks split into 32-column chunks.
bool AmxCanMultiply(const WeightMatrix& w);

// Activations x [n, cols] in the tile layout: for each group of 16 tokens (zero-padded) and
// each 32-column chunk, 16 rows of 16 dwords, row p holding the bf16 pair of two input columns
// for each token, columns in the order the weight conversion produces.
struct AmxActivations {
  std::size_t n = 0, cols = 0, token_tiles = 0, chunks = 0;
  std::vector<std::uint32_t> hi, lo;
};
void AmxPrepare(const float* x, std::size_t n, std::size_t cols, AmxActivations& out);

// y[t · w.rows + r] = Σ_j W[r][j] · x[t][j] for rows r in [row_begin, row_end) and all tokens.
// Requires AmxSupported() and AmxCanMultiply(w); `a` prepared for w.cols columns.
void AmxMultiply(const WeightMatrix& w, std::size_t row_begin, std::size_t row_end,
                 const AmxActivations& a, float* y);

}  // namespace lumen::llm::cpu
