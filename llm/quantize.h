// Block-scaled FP8 quantization, in the layout of the official FP8 checkpoints (DeepSeek-V3,
// Qwen3-FP8): for each block of br × bc weights, scale = max|w| / 448, codes = e4m3(w / scale)
// (round to nearest even, saturating at ±448), stored as `X.weight` (F8_E4M3) and
// `X.weight_scale_inv` (F32, the factor that multiplies the codes back).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace lumen::llm {

struct Fp8Block {
  std::vector<std::uint8_t> codes;  // [rows, cols]
  std::vector<float> scales;        // [ceil(rows / br), ceil(cols / bc)]
};

// Quantizes the row-major [rows, cols] matrix `w` in blocks of br × bc. An all-zero block gets
// scale 1. `w` must be finite.
Fp8Block QuantizeFp8Blocks(const float* w, std::int64_t rows, std::int64_t cols, int br, int bc);

// Whether `lumen model quantize` converts a tensor: 2-D ".weight" tensors of linear layers, but
// not embeddings, lm_head, norms or the MoE router ("mlp.gate"), which stay in 16 bits.
bool ShouldQuantize(const std::string& tensor_name, std::size_t rank);

// Converts the BF16/F16/F32 checkpoint in `src` into an FP8 checkpoint in `dst` (created if
// needed): config.json gains quantization_config (fp8, e4m3, weight_block_size [128, 128],
// modules_to_not_convert), other small files (tokenizer, generation config) are copied, tensors
// are written as shards of about 4 GB with model.safetensors.index.json. Errors: an unreadable
// source, an unsupported architecture or dtype, an already-quantized source, NaN in weights.
Status QuantizeCheckpoint(const std::string& src, const std::string& dst);

}  // namespace lumen::llm
