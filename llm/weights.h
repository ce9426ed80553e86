// Weight tensors as the engine sees them: views into the mapped checkpoint, never copies.
//
// Convention (as in PyTorch's nn.Linear): a matrix W has shape [rows = out, cols = in] in
// row-major order, and a linear layer computes y[o] = Σ_i W[o][i] · x[i].
//
// Block-scaled FP8 (DeepSeek-V3, Qwen3-FP8): `X.weight` is F8_E4M3 [out, in] and
// `X.weight_scale_inv` is [ceil(out / br), ceil(in / bc)] (F32, BF16 or F16), with (br, bc) the
// quantization_config's weight_block_size; W[i][j] = e4m3(Wq[i][j]) × S[i / br][j / bc]. The
// (small) scale grids are converted to fp32 once at load; the FP8 codes stay in the mapping and
// are decoded in registers by the kernels (llm/cpu/matmul.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/status.h"
#include "llm/model_config.h"
#include "llm/safetensors.h"

namespace lumen::llm {

struct WeightMatrix {
  std::string name;
  DType dtype = DType::kF32;  // kF8E4M3, kBF16, kF16 or kF32
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  const std::uint8_t* data = nullptr;  // rows × cols elements of dtype
  // FP8 only: scale grid, row-major [scale_rows, scale_cols], blocks of block_rows × block_cols.
  const float* scales = nullptr;
  std::int64_t block_rows = 0;
  std::int64_t block_cols = 0;
  std::int64_t scale_cols = 0;

  std::size_t bytes() const { return static_cast<std::size_t>(rows * cols) * DTypeSize(dtype); }
  const float* ScaleRow(std::int64_t row) const { return scales + (row / block_rows) * scale_cols; }
};

// Converts element `i` of a BF16/F16/F32 tensor to float (for small tensors: norms, scales).
float ElementToFloat(DType dtype, const std::uint8_t* data, std::size_t i);
// bf16 <-> float (round to nearest even).
float Bf16ToFloat(std::uint16_t bits);
std::uint16_t FloatToBf16(float value);
float F16ToFloat(std::uint16_t bits);

// Resolves tensors of a checkpoint into checked views. Owns the fp32 copies of the FP8 scale
// grids that its WeightMatrix views point to, so it (and the Checkpoint) must outlive them;
// vectors are returned by value. Not thread-safe.
class WeightLoader {
 public:
  WeightLoader(const Checkpoint& checkpoint, const QuantizationConfig& quant, bool verify_finite)
      : checkpoint_(checkpoint), quant_(quant), verify_finite_(verify_finite) {}

  // The matrix `name` (e.g. "model.layers.0.self_attn.q_proj.weight") with shape [rows, cols].
  // Errors: missing tensor, wrong shape, unsupported dtype, FP8 without a matching
  // `name_scale_inv` grid, and (when verifying) NaN/inf in the weights or scales.
  Result<WeightMatrix> Matrix(const std::string& name, std::int64_t rows, std::int64_t cols);
  // A 1-D tensor of `n` elements converted to fp32 (norm weights).
  Result<std::vector<float>> Vector(const std::string& name, std::int64_t n);

  // How many bytes the loaded views cover (for memory reports).
  std::size_t bytes_mapped() const { return bytes_mapped_; }

 private:
  Result<const TensorView*> Find(const std::string& name) const;

  const Checkpoint& checkpoint_;
  QuantizationConfig quant_;
  bool verify_finite_;
  std::deque<std::vector<float>> scale_grids_;
  std::size_t bytes_mapped_ = 0;
};

}  // namespace lumen::llm
