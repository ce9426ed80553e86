#include "llm/model_info.h"

#include "llm/safetensors.h"

namespace lumen::llm {

Result<ModelInfo> DescribeModel(const std::string& dir) {
  ModelInfo info;
  LUMEN_ASSIGN_OR_RETURN(info.config, LoadModelConfig(dir));
  LUMEN_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(dir));
  const ModelConfig& c = info.config;
  // Experts a token does not use: (E - k) / E of every expert tensor.
  const double unused =
      c.num_experts > 0 ? static_cast<double>(c.num_experts - c.num_experts_per_tok) / c.num_experts
                        : 0.0;
  double inactive_params = 0, inactive_bytes = 0;
  for (const auto& [name, t] : checkpoint.tensors()) {
    info.weight_bytes += t->nbytes;
    ++info.tensors;
    const bool is_scale = name.size() > 10 && name.compare(name.size() - 10, 10, "_scale_inv") == 0;
    if (!is_scale) {
      info.total_params += t->numel();
      info.params_by_dtype[std::string(DTypeName(t->dtype))] += t->numel();
    }
    if (name.find(".mlp.experts.") != std::string::npos) {
      if (!is_scale) inactive_params += unused * static_cast<double>(t->numel());
      inactive_bytes += unused * static_cast<double>(t->nbytes);
    }
  }
  info.active_params = info.total_params - static_cast<std::int64_t>(inactive_params);
  // The embedding table is looked up, not read whole: one row per token.
  std::uint64_t embed_skip = 0;
  if (const TensorView* e = checkpoint.Find("model.embed_tokens.weight");
      e != nullptr && !c.tie_word_embeddings && c.vocab_size > 0) {
    embed_skip = e->nbytes - e->nbytes / static_cast<std::uint64_t>(c.vocab_size);
  }
  info.active_bytes = info.weight_bytes - static_cast<std::uint64_t>(inactive_bytes) - embed_skip;
  info.kv_bytes_per_token = 2ull * 2ull * static_cast<std::uint64_t>(c.num_layers) *
                            static_cast<std::uint64_t>(c.num_kv_heads) *
                            static_cast<std::uint64_t>(c.head_dim);
  return info;
}

}  // namespace lumen::llm
