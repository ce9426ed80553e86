// A model folder's configuration: config.json (architecture and hyperparameters, including
// quantization_config) and generation_config.json (stop ids and sampling defaults).
//
// Parsing validates everything the engine relies on (positive sizes, heads dividing evenly,
// top-k ≤ experts, ...) so the forward pass can trust it. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lumen::llm {

enum class Architecture { kQwen3Moe, kQwen3 };
std::string_view ArchitectureName(Architecture arch);  // "Qwen3MoeForCausalLM", ...

// quantization_config of block-scaled FP8 checkpoints (DeepSeek-V3, Qwen3-FP8):
// {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
//  "weight_block_size": [128, 128], "modules_to_not_convert": [...]}.
struct QuantizationConfig {
  bool fp8 = false;      // quant_method == "fp8"
  int block_rows = 128;  // weight_block_size[0] (output dimension)
  int block_cols = 128;  // weight_block_size[1] (input dimension)
  std::vector<std::string> modules_to_not_convert;

  // True when a module (e.g. "model.layers.0.mlp.gate") is listed, lies under a listed one, or
  // ends with a listed short name (".lm_head").
  bool IsNotConverted(std::string_view module) const;
};

struct ModelConfig {
  Architecture arch = Architecture::kQwen3Moe;
  std::string model_type;  // "qwen3_moe" / "qwen3"
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;      // dense MLP
  int moe_intermediate_size = 0;  // each expert
  int num_experts = 0;            // 0: no MoE layers
  int num_experts_per_tok = 0;
  bool norm_topk_prob = true;
  int decoder_sparse_step = 1;
  std::vector<int> mlp_only_layers;
  int vocab_size = 0;
  int max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;
  bool tie_word_embeddings = false;
  std::string torch_dtype;  // informational
  QuantizationConfig quant;

  // Whether layer `i` uses the mixture of experts (else the dense MLP), as in HF Qwen3-MoE:
  // not in mlp_only_layers, experts present, and (i + 1) % decoder_sparse_step == 0.
  bool IsMoeLayer(int layer) const;
};

// Parses and validates config.json text. Unknown architectures, unsupported features
// (rope_scaling, attention bias, sliding window) and inconsistent sizes are errors.
Result<ModelConfig> ParseModelConfig(const nlohmann::json& config);
Result<ModelConfig> LoadModelConfig(const std::string& dir);  // DIR/config.json

struct GenerationConfig {
  std::vector<int> eos_token_ids;  // stop ids
  std::optional<int> bos_token_id;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k;
  std::optional<bool> do_sample;
};

// DIR/generation_config.json; a missing file gives an empty config (the eos id then comes from
// config.json's eos_token_id when present).
Result<GenerationConfig> LoadGenerationConfig(const std::string& dir);

}  // namespace lumen::llm
