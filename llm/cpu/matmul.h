// Linear layers over checkpoint weights in any supported dtype (FP8 block-scaled, BF16, F16,
// F32; see llm/weights.h), with fp32 activations and fp32 accumulation.
//
// Layouts: x is [n, w.cols] row-major (token t at x + t·cols), y is [n, w.rows]; y = x · Wᵀ.
// For one or two tokens (decode) the weights are streamed once and FP8/BF16 codes are decoded
// in registers inside the dot products; for more tokens (prefill) panels of four rows are
// decoded into a small fp32 buffer that stays in L1 and are multiplied with tiles of tokens, so
// each weight byte is read from memory once per call. With the `amx` instruction set, FP8
// products of three or more tokens run on AMX tiles instead (llm/cpu/amx.h: bf16 weights, the
// activations as bf16 hi + lo, fp32 sums).
#pragma once

#include <cstddef>
#include <span>

#include "llm/cpu/context.h"
#include "llm/weights.h"

namespace lumen::llm::cpu {

struct MatMulJob {
  const WeightMatrix* w = nullptr;
  const float* x = nullptr;  // [n, w->cols]
  std::size_t n = 0;
  float* y = nullptr;  // [n, w->rows]
};

// Runs independent jobs together, spreading all their rows over the threads (so the q/k/v
// projections, or every routed expert, cost one synchronisation). Outputs must not overlap.
void MatMulMany(const CpuContext& ctx, std::span<const MatMulJob> jobs);

inline void MatMul(const CpuContext& ctx, const WeightMatrix& w, const float* x, std::size_t n,
                   float* y) {
  const MatMulJob job{&w, x, n, y};
  MatMulMany(ctx, {&job, 1});
}

// Row `row` of w as floats (e.g. an embedding lookup), out has w.cols entries.
void DecodeRow(const SimdKernels& simd, const WeightMatrix& w, std::size_t row, float* out);

}  // namespace lumen::llm::cpu
