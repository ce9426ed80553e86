// Tiny random models in Hugging Face folder layout, written by Lumen itself, for tests and
// demos (`lumen model make-tiny`), and — with real per-layer shapes — for benchmarks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "llm/model_config.h"
#include "llm/safetensors.h"

namespace lumen::llm {

struct TinyModelSpec {
  Architecture arch = Architecture::kQwen3Moe;
  int hidden = 64;
  int layers = 2;
  int heads = 4;
  int kv_heads = 2;
  int head_dim = 16;
  int intermediate = 96;      // dense MLP
  int moe_intermediate = 40;  // each expert (not a multiple of 16: exercises the kernel tails)
  int experts = 8;
  int experts_per_tok = 2;
  std::vector<int> mlp_only_layers;
  int vocab = 151936;  // the Qwen3 vocabulary size
  bool tie_embeddings = false;
  double rope_theta = 1e6;
  int max_position_embeddings = 4096;
  std::uint64_t seed = 1;
  bool fp8 = false;  // FP8 block-scaled linear layers (else BF16)
  int block = 32;    // FP8 weight_block_size (both dimensions)
  DType scale_dtype = DType::kF32;
  // Draw FP8 codes directly instead of quantizing drawn floats: much faster for large
  // benchmark models, with no pretence of realistic weights.
  bool raw_fp8_codes = false;
  int shards = 1;  // >1 writes model-0000i-of-0000n.safetensors + index
  // When set, tokenizer.json and tokenizer_config.json are copied from here (make-tiny uses the
  // real Qwen3 tokenizer from the asset cache, see llm/tokenizer.h CachedQwen3TokenizerDir).
  std::string tokenizer_dir;
};

// Writes config.json, generation_config.json, the safetensors file(s) and (optionally) the
// tokenizer files into `dir` (created if missing). Deterministic for a given spec.
Status WriteTinyModel(const std::string& dir, const TinyModelSpec& spec);

}  // namespace lumen::llm
