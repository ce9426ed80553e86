// The innermost loops of the CPU engine, one implementation per instruction set, chosen at run
// time: AVX-512 with VBMI (Ice Lake / Zen 4 and later), AVX-512 (F+BW+VL, Skylake-SP),
// AVX2+FMA+F16C, or portable scalar code. Everything above this file (matmul.h, ops.h,
// attention.h) is ISA-independent.
//
// FP8 E4M3 is decoded in registers, exactly (subnormals included), in one of two ways:
//  - avx512, avx2: a code b becomes the IEEE half with bits ((b & 0x7F) << 7) | ((b & 0x80) << 8),
//    whose value is e4m3(b) / 256, converted to fp32 by the F16C instruction; the factor 256 is
//    folded into the block scale.
//  - avx512vbmi: two 128-entry byte tables indexed by b & 0x7F (vpermi2b) give the high and low
//    bytes of bf16(e4m3(b)), the sign bit is ORed in, and the bf16 word widens to fp32 by a
//    shift. Fewer instructions per weight; the interleaving permutes the columns inside each
//    group of 64, so the activations are permuted the same way once per vector
//    (arrange_fp8_x) instead of once per row.
// NaN codes never reach the kernels (weights are checked at load).
//
// The tables are immutable; every function is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace lumen::llm::cpu {

// kAmx: the avx512vbmi kernels, and products of FP8 weights with three or more tokens (prefill)
// on AMX-BF16 tiles (llm/cpu/amx.h).
enum class Isa { kScalar, kAvx2, kAvx512, kAvx512Vbmi, kAmx };

std::string_view IsaName(Isa isa);  // "scalar", "avx2", "avx512", "avx512vbmi", "amx"
// "auto" (the best this CPU supports), "amx", "avx512vbmi", "avx512", "avx2" or "scalar". Asking
// for an instruction set the CPU lacks is an error.
Result<Isa> ParseIsa(std::string_view name);
Isa BestIsa();
bool CpuSupports(Isa isa);

struct SimdKernels {
  Isa isa;
  // Σ a[i]·b[i].
  float (*dot)(const float* a, const float* b, std::size_t n);
  // y[i] += a·x[i].
  void (*axpy)(float a, const float* x, float* y, std::size_t n);
  // dst[i] = e4m3(src[i]) × scale.
  void (*decode_fp8)(const std::uint8_t* src, float scale, std::size_t n, float* dst);
  void (*decode_bf16)(const std::uint16_t* src, std::size_t n, float* dst);
  void (*decode_f16)(const std::uint16_t* src, std::size_t n, float* dst);
  // The activations x[0..n) in the order dot_fp8_rows4 reads them: fills ax with
  // ArrangedFp8Size(n) floats. Null where dot_fp8_rows4 reads x as it is (then ax = x).
  void (*arrange_fp8_x)(const float* x, std::size_t n, float* ax);
  // out[r] = Σ_j e4m3(w[r·stride + j]) × scales[r][j / block] × x[j] for r in 0..3, j < n;
  // `block` (a multiple of 16) is the scale block width along j; `ax` is x arranged by
  // arrange_fp8_x (x itself where that is null). Reads no weight byte past column n of a row;
  // as it goes along the rows it prefetches the codes `ahead` elements past each of them (the
  // rows the caller takes next: 4·stride for consecutive groups of rows, the next row of each
  // of the four row streams of matmul.cc).
  void (*dot_fp8_rows4)(const std::uint8_t* w, std::size_t stride, std::size_t ahead,
                        const float* const scales[4], std::size_t block, const float* ax,
                        std::size_t n, float out[4]);
  // out[r] = Σ_j bf16(w[r·stride + j]) × x[j] for r in 0..3; prefetches as dot_fp8_rows4.
  void (*dot_bf16_rows4)(const std::uint16_t* w, std::size_t stride, std::size_t ahead,
                         const float* x, std::size_t n, float out[4]);
  // out[r·2 + t] = Σ_j w[r·stride + j] × x_t[j] for r in 0..3, t in 0..1 (x_1 = x + x_stride).
  void (*dot_f32_rows4x2)(const float* w, std::size_t stride, const float* x, std::size_t x_stride,
                          std::size_t n, float out[8]);
  // y[j] += Σ_r a[r] × bf16(w[r·stride + j]) for j < n, r < rows: attention's weighted sum of
  // cached values, y kept in registers across the rows.
  void (*axpy_bf16_rows)(const float* a, const std::uint16_t* w, std::size_t stride,
                         std::size_t rows, std::size_t n, float* y);
  // In place, n >= 1: x[i] = exp(scale·x[i] − m) / Σ_k exp(scale·x[k] − m), m = max_k scale·x[k]
  // (attention's weights over the cached positions). The SIMD versions evaluate exp with a
  // polynomial (within 2 ulp; terms below e^-87 become 0).
  void (*softmax)(float* x, std::size_t n, float scale);
  // Grouped-query attention, the queries of one kv head together (null where an instruction
  // set has none; attention then takes one query head at a time). Both need hd % 16 == 0 and
  // 1 <= nq <= 8; rows of the bf16 cache are `stride` apart.
  // scores[i·ss + s] = Σ_d q[i·qs + d] × bf16(keys[s·stride + d]) for i < nq, s < len.
  void (*scores_bf16)(const float* q, std::size_t qs, std::size_t nq, const std::uint16_t* keys,
                      std::size_t stride, std::size_t len, std::size_t hd, float* scores,
                      std::size_t ss);
  // out[i·os + d] = Σ_s p[i·ps + s] × bf16(values[s·stride + d]) for i < nq, d < hd (overwritten).
  void (*mix_bf16)(const float* p, std::size_t ps, std::size_t nq, const std::uint16_t* values,
                   std::size_t stride, std::size_t len, std::size_t hd, float* out, std::size_t os);
  // out[r] = Σ_j e4m3(w[r·stride + j]) × xs[j] for r in 0..3, j < n: dot_fp8_rows4 for four rows
  // that share one row of block scales, those scales already multiplied into the arranged
  // activations (xs[j] = ax[j] × the scale of j's column block; ArrangedFp8Size(n) floats, zero
  // past n), so the loop has no per-block work. Null where an instruction set has none. Reads
  // and prefetches as dot_fp8_rows4.
  void (*dot_fp8_rows4_xs)(const std::uint8_t* w, std::size_t stride, std::size_t ahead,
                           const float* xs, std::size_t n, float out[4]);
};

// Floats that arrange_fp8_x writes for n activations (n rounded up to a multiple of 64).
inline std::size_t ArrangedFp8Size(std::size_t n) {
  return (n + 63) / 64 * 64;
}

// The kernels for `isa`; `isa` must be supported by this CPU (see CpuSupports).
const SimdKernels& KernelsFor(Isa isa);

}  // namespace lumen::llm::cpu
