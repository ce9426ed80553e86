// What `lumen model info` reports about a model folder, computed from config.json and the
// safetensors headers alone (no weight is read).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"
#include "llm/model_config.h"

namespace lumen::llm {

struct ModelInfo {
  ModelConfig config;
  std::int64_t total_params = 0;   // every weight element (FP8 scale grids not counted)
  std::int64_t active_params = 0;  // per token: all but the experts a token is not routed to
  std::uint64_t weight_bytes = 0;  // checkpoint tensor bytes (what is mapped)
  std::uint64_t active_bytes = 0;  // weight bytes read to decode one token
  std::map<std::string, std::int64_t> params_by_dtype;  // "F8_E4M3" -> count, ...
  std::uint64_t kv_bytes_per_token = 0;                 // bf16 K and V, all layers
  int tensors = 0;
};

// Errors: those of LoadModelConfig and Checkpoint::Open.
Result<ModelInfo> DescribeModel(const std::string& dir);

}  // namespace lumen::llm
