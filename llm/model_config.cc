#include "llm/model_config.h"

#include <filesystem>
#include <fstream>

namespace lumen::llm {
namespace {

using nlohmann::json;

Result<json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption(path + ": invalid JSON");
  if (!j.is_object()) return Corruption(path + ": not a JSON object");
  return j;
}

// Reads an optional integer field; present but not an integer (or out of range) is an error.
Status GetInt(const json& j, const char* key, int& out, bool required, int min_value = 0) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? InvalidArgument(std::string("config.json: missing \"") + key + "\"")
                    : Status::Ok();
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < min_value ||
      it->get<std::int64_t>() > (1 << 30)) {
    return InvalidArgument(std::string("config.json: \"") + key +
                           "\" must be an integer >= " + std::to_string(min_value));
  }
  out = static_cast<int>(it->get<std::int64_t>());
  return Status::Ok();
}

Status GetDouble(const json& j, const char* key, double& out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) {
    return InvalidArgument(std::string("config.json: \"") + key + "\" must be a number");
  }
  out = it->get<double>();
  return Status::Ok();
}

Status GetBool(const json& j, const char* key, bool& out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) {
    return InvalidArgument(std::string("config.json: \"") + key + "\" must be true or false");
  }
  out = it->get<bool>();
  return Status::Ok();
}

std::vector<int> IdList(const json& v) {
  std::vector<int> ids;
  if (v.is_number_integer()) ids.push_back(v.get<int>());
  if (v.is_array()) {
    for (const json& e : v) {
      if (e.is_number_integer()) ids.push_back(e.get<int>());
    }
  }
  return ids;
}

}  // namespace

std::string_view ArchitectureName(Architecture arch) {
  switch (arch) {
    case Architecture::kQwen3Moe: return "Qwen3MoeForCausalLM";
    case Architecture::kQwen3: return "Qwen3ForCausalLM";
  }
  return "?";
}

bool QuantizationConfig::IsNotConverted(std::string_view module) const {
  for (const std::string& m : modules_to_not_convert) {
    if (module == m) return true;
    if (module.size() > m.size() && module.substr(0, m.size()) == m && module[m.size()] == '.') {
      return true;
    }
    // A short name ("lm_head") also names the module of that name at any depth.
    if (module.size() > m.size() && module.substr(module.size() - m.size()) == m &&
        module[module.size() - m.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

bool ModelConfig::IsMoeLayer(int layer) const {
  for (int l : mlp_only_layers) {
    if (l == layer) return false;
  }
  return num_experts > 0 && decoder_sparse_step > 0 && (layer + 1) % decoder_sparse_step == 0;
}

Result<ModelConfig> ParseModelConfig(const json& j) {
  if (!j.is_object()) return InvalidArgument("config.json: not a JSON object");
  ModelConfig c;
  std::string arch;
  if (const auto it = j.find("architectures");
      it != j.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
    arch = (*it)[0].get<std::string>();
  }
  if (const auto it = j.find("model_type"); it != j.end() && it->is_string()) {
    c.model_type = it->get<std::string>();
  }
  if (arch == "Qwen3MoeForCausalLM" || (arch.empty() && c.model_type == "qwen3_moe")) {
    c.arch = Architecture::kQwen3Moe;
  } else if (arch == "Qwen3ForCausalLM" || (arch.empty() && c.model_type == "qwen3")) {
    c.arch = Architecture::kQwen3;
  } else {
    return Unimplemented("config.json: unsupported architecture \"" +
                         (arch.empty() ? c.model_type : arch) +
                         "\" (supported: Qwen3MoeForCausalLM, Qwen3ForCausalLM)");
  }
  LUMEN_RETURN_IF_ERROR(GetInt(j, "hidden_size", c.hidden_size, true, 1));
  LUMEN_RETURN_IF_ERROR(GetInt(j, "num_hidden_layers", c.num_layers, true, 1));
  LUMEN_RETURN_IF_ERROR(GetInt(j, "num_attention_heads", c.num_heads, true, 1));
  c.num_kv_heads = c.num_heads;
  LUMEN_RETURN_IF_ERROR(GetInt(j, "num_key_value_heads", c.num_kv_heads, false, 1));
  c.head_dim = c.hidden_size / c.num_heads;
  LUMEN_RETURN_IF_ERROR(GetInt(j, "head_dim", c.head_dim, false, 2));
  LUMEN_RETURN_IF_ERROR(GetInt(j, "intermediate_size", c.intermediate_size, false, 1));
  LUMEN_RETURN_IF_ERROR(GetInt(j, "vocab_size", c.vocab_size, true, 1));
  c.max_position_embeddings = 32768;
  LUMEN_RETURN_IF_ERROR(GetInt(j, "max_position_embeddings", c.max_position_embeddings, false, 1));
  LUMEN_RETURN_IF_ERROR(GetDouble(j, "rms_norm_eps", c.rms_norm_eps));
  LUMEN_RETURN_IF_ERROR(GetDouble(j, "rope_theta", c.rope_theta));
  LUMEN_RETURN_IF_ERROR(GetBool(j, "tie_word_embeddings", c.tie_word_embeddings));
  if (const auto it = j.find("torch_dtype"); it != j.end() && it->is_string()) {
    c.torch_dtype = it->get<std::string>();
  }
  if (c.arch == Architecture::kQwen3Moe) {
    LUMEN_RETURN_IF_ERROR(GetInt(j, "num_experts", c.num_experts, true, 0));
    LUMEN_RETURN_IF_ERROR(
        GetInt(j, "num_experts_per_tok", c.num_experts_per_tok, c.num_experts > 0, 1));
    LUMEN_RETURN_IF_ERROR(
        GetInt(j, "moe_intermediate_size", c.moe_intermediate_size, c.num_experts > 0, 1));
    LUMEN_RETURN_IF_ERROR(GetBool(j, "norm_topk_prob", c.norm_topk_prob));
    LUMEN_RETURN_IF_ERROR(GetInt(j, "decoder_sparse_step", c.decoder_sparse_step, false, 1));
    if (const auto it = j.find("mlp_only_layers"); it != j.end() && !it->is_null()) {
      if (!it->is_array())
        return InvalidArgument("config.json: \"mlp_only_layers\" must be a list");
      for (const json& l : *it) {
        if (!l.is_number_integer()) {
          return InvalidArgument("config.json: \"mlp_only_layers\" must hold integers");
        }
        c.mlp_only_layers.push_back(l.get<int>());
      }
    }
    if (c.num_experts > 0 && c.num_experts_per_tok > c.num_experts) {
      return InvalidArgument("config.json: num_experts_per_tok (" +
                             std::to_string(c.num_experts_per_tok) + ") exceeds num_experts (" +
                             std::to_string(c.num_experts) + ")");
    }
  }
  bool needs_dense = false;
  for (int l = 0; l < c.num_layers; ++l) needs_dense |= !c.IsMoeLayer(l);
  if (needs_dense && c.intermediate_size <= 0) {
    return InvalidArgument("config.json: dense layers need \"intermediate_size\"");
  }
  if (c.num_heads % c.num_kv_heads != 0) {
    return InvalidArgument("config.json: num_attention_heads (" + std::to_string(c.num_heads) +
                           ") is not a multiple of num_key_value_heads (" +
                           std::to_string(c.num_kv_heads) + ")");
  }
  if (c.head_dim % 2 != 0) return InvalidArgument("config.json: head_dim must be even (RoPE)");
  if (!(c.rms_norm_eps > 0) || !(c.rope_theta > 0)) {
    return InvalidArgument("config.json: rms_norm_eps and rope_theta must be positive");
  }
  if (const auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    return Unimplemented("config.json: rope_scaling is not supported yet");
  }
  if (const auto it = j.find("attention_bias");
      it != j.end() && it->is_boolean() && it->get<bool>()) {
    return Unimplemented("config.json: attention_bias is not supported");
  }
  if (const auto it = j.find("use_sliding_window");
      it != j.end() && it->is_boolean() && it->get<bool>()) {
    return Unimplemented("config.json: sliding-window attention is not supported");
  }
  if (const auto it = j.find("quantization_config"); it != j.end() && !it->is_null()) {
    const json& q = *it;
    if (!q.is_object()) return InvalidArgument("config.json: quantization_config is not an object");
    const std::string method = q.value("quant_method", std::string());
    if (method != "fp8") {
      return Unimplemented("config.json: quantization method \"" + method +
                           "\" is not supported (only block-scaled \"fp8\")");
    }
    c.quant.fp8 = true;
    if (const auto f = q.find("fmt");
        f != q.end() && f->is_string() && f->get<std::string>() != "e4m3") {
      return Unimplemented("config.json: FP8 format \"" + f->get<std::string>() +
                           "\" is not supported (only e4m3)");
    }
    if (const auto b = q.find("weight_block_size"); b != q.end() && !b->is_null()) {
      if (!b->is_array() || b->size() != 2 || !(*b)[0].is_number_integer() ||
          !(*b)[1].is_number_integer() || (*b)[0].get<int>() <= 0 || (*b)[1].get<int>() <= 0) {
        return InvalidArgument("config.json: weight_block_size must be [rows, cols] > 0");
      }
      c.quant.block_rows = (*b)[0].get<int>();
      c.quant.block_cols = (*b)[1].get<int>();
    }
    if (const auto m = q.find("modules_to_not_convert"); m != q.end() && m->is_array()) {
      for (const json& s : *m) {
        if (s.is_string()) c.quant.modules_to_not_convert.push_back(s.get<std::string>());
      }
    }
  }
  return c;
}

Result<ModelConfig> LoadModelConfig(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  LUMEN_ASSIGN_OR_RETURN(json j, ReadJson(path));
  Result<ModelConfig> c = ParseModelConfig(j);
  if (!c.ok()) return c.status().WithContext(dir);
  return c;
}

Result<GenerationConfig> LoadGenerationConfig(const std::string& dir) {
  namespace fs = std::filesystem;
  GenerationConfig g;
  const fs::path gen = fs::path(dir) / "generation_config.json";
  std::error_code ec;
  if (fs::exists(gen, ec)) {
    LUMEN_ASSIGN_OR_RETURN(json j, ReadJson(gen.string()));
    if (const auto it = j.find("eos_token_id"); it != j.end()) g.eos_token_ids = IdList(*it);
    if (const auto it = j.find("bos_token_id"); it != j.end() && it->is_number_integer()) {
      g.bos_token_id = it->get<int>();
    }
    auto num = [&j](const char* k, std::optional<double>& out) {
      if (const auto it = j.find(k); it != j.end() && it->is_number()) out = it->get<double>();
    };
    num("temperature", g.temperature);
    num("top_p", g.top_p);
    num("min_p", g.min_p);
    num("repetition_penalty", g.repetition_penalty);
    if (const auto it = j.find("top_k"); it != j.end() && it->is_number_integer()) {
      g.top_k = it->get<int>();
    }
    if (const auto it = j.find("do_sample"); it != j.end() && it->is_boolean()) {
      g.do_sample = it->get<bool>();
    }
  }
  if (g.eos_token_ids.empty()) {
    Result<json> config = ReadJson((fs::path(dir) / "config.json").string());
    if (config.ok()) {
      if (const auto it = config->find("eos_token_id"); it != config->end()) {
        g.eos_token_ids = IdList(*it);
      }
    }
  }
  return g;
}

}  // namespace lumen::llm
