#include "llm/tiny_model.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "llm/fp8.h"
#include "llm/quantize.h"
#include "llm/weights.h"

namespace lumen::llm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// SplitMix64: tiny, fast and identical everywhere (std distributions are not).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-a, a).
  float Uniform(float a) {
    return static_cast<float>((static_cast<double>(Next() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * a);
  }

 private:
  std::uint64_t state_;
};

std::vector<std::uint8_t> Bf16Bytes(const std::vector<float>& v) {
  std::vector<std::uint8_t> out(v.size() * 2);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::uint16_t b = FloatToBf16(v[i]);
    std::memcpy(out.data() + 2 * i, &b, 2);
  }
  return out;
}

std::vector<std::uint8_t> ScaleBytes(const std::vector<float>& s, DType dtype) {
  if (dtype == DType::kBF16) return Bf16Bytes(s);
  std::vector<std::uint8_t> out(s.size() * 4);
  std::memcpy(out.data(), s.data(), out.size());
  return out;
}

class Builder {
 public:
  Builder(const TinyModelSpec& spec) : spec_(spec), rng_(spec.seed) {}

  void Vector(const std::string& name, int n, float center, float spread) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& x : v) x = center + rng_.Uniform(spread);
    writer_.Add(name, DType::kBF16, {n}, Bf16Bytes(v));
  }

  // A linear layer [rows, cols] with outputs of about unit variance for unit-variance inputs
  // (times `gain`); FP8 when the spec asks and `quantizable`.
  void Linear(const std::string& name, int rows, int cols, bool quantizable, float gain = 1.0f) {
    const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    const float a = gain * std::sqrt(3.0f / static_cast<float>(cols));
    const std::vector<std::int64_t> shape = {rows, cols};
    if (spec_.fp8 && quantizable && spec_.raw_fp8_codes) {
      std::vector<std::uint8_t> codes(n);
      for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t r = rng_.Next();
        for (std::size_t j = i; j < std::min(n, i + 8); ++j, r >>= 8) {
          codes[j] = static_cast<std::uint8_t>(r & 0xBF);  // |e4m3| < 2: never NaN
        }
      }
      const std::int64_t sr = (rows + spec_.block - 1) / spec_.block;
      const std::int64_t sc = (cols + spec_.block - 1) / spec_.block;
      std::vector<float> scales(static_cast<std::size_t>(sr * sc), a / 1.2f);
      writer_.Add(name, DType::kF8E4M3, shape, std::move(codes));
      writer_.Add(name + "_scale_inv", spec_.scale_dtype, {sr, sc},
                  ScaleBytes(scales, spec_.scale_dtype));
      return;
    }
    std::vector<float> w(n);
    for (float& x : w) x = rng_.Uniform(a);
    if (spec_.fp8 && quantizable) {
      Fp8Block q = QuantizeFp8Blocks(w.data(), rows, cols, spec_.block, spec_.block);
      const std::int64_t sr = (rows + spec_.block - 1) / spec_.block;
      const std::int64_t sc = (cols + spec_.block - 1) / spec_.block;
      writer_.Add(name, DType::kF8E4M3, shape, std::move(q.codes));
      writer_.Add(name + "_scale_inv", spec_.scale_dtype, {sr, sc},
                  ScaleBytes(q.scales, spec_.scale_dtype));
    } else {
      writer_.Add(name, DType::kBF16, shape, Bf16Bytes(w));
    }
  }

  SafetensorsWriter& writer() { return writer_; }

 private:
  const TinyModelSpec& spec_;
  Random rng_;
  SafetensorsWriter writer_;
};

json ConfigJson(const TinyModelSpec& s) {
  const bool moe = s.arch == Architecture::kQwen3Moe;
  const bool real_vocab = s.vocab >= 151936;
  json c = {
      {"architectures", {std::string(ArchitectureName(s.arch))}},
      {"model_type", moe ? "qwen3_moe" : "qwen3"},
      {"hidden_size", s.hidden},
      {"num_hidden_layers", s.layers},
      {"num_attention_heads", s.heads},
      {"num_key_value_heads", s.kv_heads},
      {"head_dim", s.head_dim},
      {"intermediate_size", s.intermediate},
      {"vocab_size", s.vocab},
      {"max_position_embeddings", s.max_position_embeddings},
      {"rms_norm_eps", 1e-6},
      {"rope_theta", s.rope_theta},
      {"rope_scaling", nullptr},
      {"attention_bias", false},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", s.tie_embeddings},
      {"torch_dtype", "bfloat16"},
      {"bos_token_id", real_vocab ? 151643 : 0},
      {"eos_token_id", real_vocab ? 151645 : s.vocab - 1},
  };
  if (moe) {
    c["num_experts"] = s.experts;
    c["num_experts_per_tok"] = s.experts_per_tok;
    c["moe_intermediate_size"] = s.moe_intermediate;
    c["norm_topk_prob"] = true;
    c["decoder_sparse_step"] = 1;
    c["mlp_only_layers"] = s.mlp_only_layers;
  }
  if (s.fp8) {
    json keep = json::array({"lm_head"});
    for (int l = 0; l < s.layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      keep.push_back(p + "input_layernorm");
      keep.push_back(p + "post_attention_layernorm");
      if (moe) keep.push_back(p + "mlp.gate");
    }
    c["quantization_config"] = {{"quant_method", "fp8"},
                                {"fmt", "e4m3"},
                                {"activation_scheme", "dynamic"},
                                {"weight_block_size", {s.block, s.block}},
                                {"modules_to_not_convert", keep}};
  }
  return c;
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return IoError("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace

Status WriteTinyModel(const std::string& dir, const TinyModelSpec& s) {
  const bool moe = s.arch == Architecture::kQwen3Moe;
  if (s.hidden < 1 || s.layers < 1 || s.heads < 1 || s.kv_heads < 1 || s.heads % s.kv_heads ||
      s.head_dim < 2 || s.head_dim % 2 || s.vocab < 2 || s.shards < 1 || s.block < 16 ||
      s.block % 16 ||
      (moe && (s.experts < 1 || s.experts_per_tok < 1 || s.experts_per_tok > s.experts))) {
    return InvalidArgument("inconsistent tiny model sizes");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());

  // Write the config first: it is also a check that the spec is something the engine accepts.
  const json config = ConfigJson(s);
  LUMEN_RETURN_IF_ERROR(ParseModelConfig(config).status());
  LUMEN_RETURN_IF_ERROR(WriteText(fs::path(dir) / "config.json", config.dump(2) + "\n"));
  const bool real_vocab = s.vocab >= 151936;
  json gen = {{"bos_token_id", real_vocab ? 151643 : 0},
              {"eos_token_id", real_vocab ? json{151645, 151643} : json{s.vocab - 1}},
              {"do_sample", true},
              {"temperature", 0.6},
              {"top_k", 20},
              {"top_p", 0.95}};
  LUMEN_RETURN_IF_ERROR(WriteText(fs::path(dir) / "generation_config.json", gen.dump(2) + "\n"));

  Builder b(s);
  b.Linear("model.embed_tokens.weight", s.vocab, s.hidden, false, std::sqrt(s.hidden / 3.0f));
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    b.Vector(p + "input_layernorm.weight", s.hidden, 1.0f, 0.2f);
    b.Vector(p + "post_attention_layernorm.weight", s.hidden, 1.0f, 0.2f);
    b.Linear(p + "self_attn.q_proj.weight", s.heads * s.head_dim, s.hidden, true);
    b.Linear(p + "self_attn.k_proj.weight", s.kv_heads * s.head_dim, s.hidden, true);
    b.Linear(p + "self_attn.v_proj.weight", s.kv_heads * s.head_dim, s.hidden, true);
    b.Linear(p + "self_attn.o_proj.weight", s.hidden, s.heads * s.head_dim, true, 0.5f);
    b.Vector(p + "self_attn.q_norm.weight", s.head_dim, 1.0f, 0.5f);
    b.Vector(p + "self_attn.k_norm.weight", s.head_dim, 1.0f, 0.5f);
    bool layer_moe = moe;
    for (int d : s.mlp_only_layers) layer_moe &= d != l;
    if (layer_moe) {
      b.Linear(p + "mlp.gate.weight", s.experts, s.hidden, false, 2.0f);
      for (int e = 0; e < s.experts; ++e) {
        const std::string x = p + "mlp.experts." + std::to_string(e) + ".";
        b.Linear(x + "gate_proj.weight", s.moe_intermediate, s.hidden, true);
        b.Linear(x + "up_proj.weight", s.moe_intermediate, s.hidden, true);
        b.Linear(x + "down_proj.weight", s.hidden, s.moe_intermediate, true, 0.5f);
      }
    } else {
      b.Linear(p + "mlp.gate_proj.weight", s.intermediate, s.hidden, true);
      b.Linear(p + "mlp.up_proj.weight", s.intermediate, s.hidden, true);
      b.Linear(p + "mlp.down_proj.weight", s.hidden, s.intermediate, true, 0.5f);
    }
  }
  b.Vector("model.norm.weight", s.hidden, 1.0f, 0.2f);
  if (!s.tie_embeddings) b.Linear("lm_head.weight", s.vocab, s.hidden, false, 4.0f);

  LUMEN_RETURN_IF_ERROR(b.writer().WriteSharded(dir, s.shards));

  if (!s.tokenizer_dir.empty()) {
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
      fs::copy_file(fs::path(s.tokenizer_dir) / f, fs::path(dir) / f,
                    fs::copy_options::overwrite_existing, ec);
      if (ec) return IoError("cannot copy tokenizer file " + std::string(f) + ": " + ec.message());
    }
  }
  return Status::Ok();
}

}  // namespace lumen::llm
