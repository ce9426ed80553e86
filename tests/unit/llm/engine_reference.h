// An independent float64 forward pass of Qwen3 / Qwen3-MoE for the engine's parity tests.
//
// Written from the model definition (Hugging Face modeling_qwen3_moe.py) with nothing shared
// with the engine: its own safetensors reader, its own FP8/BF16 decoding from the format
// definitions, plain loops in double precision, the whole sequence recomputed from scratch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lumen::llm::reference {

using Vec = std::vector<double>;

// E4M3 from the OCP FP8 definition: bias 7, subnormals m·2^-9, S.1111.111 NaN.
inline double E4M3(std::uint8_t c) {
  const int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
  if (e == 15 && m == 7) return NAN;
  const double mag = e == 0 ? m * std::pow(2.0, -9) : (1.0 + m / 8.0) * std::pow(2.0, e - 7);
  return s ? -mag : mag;
}

inline double Bf16(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct Tensor {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;

  double At(std::size_t i) const {
    if (dtype == "F8_E4M3") return E4M3(bytes[i]);
    if (dtype == "BF16") {
      std::uint16_t b;
      std::memcpy(&b, &bytes[2 * i], 2);
      return Bf16(b);
    }
    if (dtype == "F32") {
      float f;
      std::memcpy(&f, &bytes[4 * i], 4);
      return f;
    }
    throw std::runtime_error("reference: unsupported dtype " + dtype);
  }
};

class Model {
 public:
  explicit Model(const std::string& dir) {
    namespace fs = std::filesystem;
    cfg_ = nlohmann::json::parse(std::ifstream(fs::path(dir) / "config.json"));
    std::vector<std::string> files;
    if (fs::exists(fs::path(dir) / "model.safetensors.index.json")) {
      auto index =
          nlohmann::json::parse(std::ifstream(fs::path(dir) / "model.safetensors.index.json"));
      for (auto& [name, file] : index["weight_map"].items()) {
        if (std::find(files.begin(), files.end(), file.get<std::string>()) == files.end()) {
          files.push_back(file.get<std::string>());
        }
      }
    } else {
      files.push_back("model.safetensors");
    }
    for (const std::string& f : files) ReadFile((fs::path(dir) / f).string());
    hidden_ = cfg_["hidden_size"];
    layers_ = cfg_["num_hidden_layers"];
    heads_ = cfg_["num_attention_heads"];
    kv_heads_ = cfg_["num_key_value_heads"];
    head_dim_ = cfg_["head_dim"];
    vocab_ = cfg_["vocab_size"];
    eps_ = cfg_["rms_norm_eps"];
    theta_ = cfg_["rope_theta"];
    moe_ = cfg_["architectures"][0] == "Qwen3MoeForCausalLM";
    if (moe_) {
      experts_ = cfg_["num_experts"];
      top_k_ = cfg_["num_experts_per_tok"];
      norm_topk_ = cfg_.value("norm_topk_prob", true);
      for (int l : cfg_.value("mlp_only_layers", std::vector<int>{})) mlp_only_.push_back(l);
    }
    if (cfg_.contains("quantization_config")) {
      block_r_ = cfg_["quantization_config"]["weight_block_size"][0];
      block_c_ = cfg_["quantization_config"]["weight_block_size"][1];
    }
  }

  // Next-token logits after every position of `ids`.
  std::vector<Vec> AllLogits(const std::vector<int>& ids) const {
    const int n = static_cast<int>(ids.size());
    const Vec embed = Matrix("model.embed_tokens.weight");
    std::vector<Vec> h(n, Vec(hidden_));
    for (int t = 0; t < n; ++t) {
      for (int i = 0; i < hidden_; ++i)
        h[t][i] = embed[static_cast<std::size_t>(ids[t]) * hidden_ + i];
    }
    for (int l = 0; l < layers_; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      std::vector<Vec> x(n);
      for (int t = 0; t < n; ++t) x[t] = RmsNorm(h[t], Vector(p + "input_layernorm.weight"));
      const std::vector<Vec> attn = SelfAttention(p, x);
      for (int t = 0; t < n; ++t) {
        for (int i = 0; i < hidden_; ++i) h[t][i] += attn[t][i];
      }
      const bool moe_layer =
          moe_ && std::find(mlp_only_.begin(), mlp_only_.end(), l) == mlp_only_.end();
      for (int t = 0; t < n; ++t) {
        const Vec xn = RmsNorm(h[t], Vector(p + "post_attention_layernorm.weight"));
        const Vec y = moe_layer ? Moe(p + "mlp.", xn) : Mlp(p + "mlp.", xn);
        for (int i = 0; i < hidden_; ++i) h[t][i] += y[i];
      }
    }
    const bool tied = cfg_.value("tie_word_embeddings", false);
    const std::string head = tied ? "model.embed_tokens.weight" : "lm_head.weight";
    std::vector<Vec> out;
    for (int t = 0; t < n; ++t)
      out.push_back(Linear(head, RmsNorm(h[t], Vector("model.norm.weight"))));
    return out;
  }

 private:
  void ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> all((std::istreambuf_iterator<char>(in)), {});
    std::uint64_t n = 0;
    std::memcpy(&n, all.data(), 8);
    auto header = nlohmann::json::parse(all.begin() + 8, all.begin() + 8 + static_cast<long>(n));
    for (auto& [name, e] : header.items()) {
      if (name == "__metadata__") continue;
      Tensor t;
      t.dtype = e["dtype"];
      t.shape = e["shape"].get<std::vector<std::int64_t>>();
      const std::size_t b = e["data_offsets"][0], end = e["data_offsets"][1];
      t.bytes.assign(all.begin() + 8 + static_cast<long>(n + b),
                     all.begin() + 8 + static_cast<long>(n + end));
      tensors_[name] = std::move(t);
    }
  }

  const Tensor& Get(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::runtime_error("reference: no tensor " + name);
    return it->second;
  }

  Vec Vector(const std::string& name) const {
    const Tensor& t = Get(name);
    Vec v(static_cast<std::size_t>(t.shape[0]));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.At(i);
    return v;
  }

  // Dequantized [rows, cols] matrix: W[i][j] = e4m3(Wq[i][j]) · S[i / br][j / bc].
  Vec Matrix(const std::string& name) const {
    auto cached = cache_.find(name);
    if (cached != cache_.end()) return cached->second;
    const Tensor& t = Get(name);
    const std::int64_t rows = t.shape[0], cols = t.shape[1];
    Vec w(static_cast<std::size_t>(rows * cols));
    const Tensor* s = t.dtype == "F8_E4M3" ? &Get(name + "_scale_inv") : nullptr;
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t j = 0; j < cols; ++j) {
        double v = t.At(static_cast<std::size_t>(i * cols + j));
        if (s) v *= s->At(static_cast<std::size_t>((i / block_r_) * s->shape[1] + j / block_c_));
        w[static_cast<std::size_t>(i * cols + j)] = v;
      }
    }
    return cache_[name] = w;
  }

  Vec Linear(const std::string& name, const Vec& x) const {
    const Vec w = Matrix(name);
    const std::size_t cols = x.size(), rows = w.size() / cols;
    Vec y(rows, 0.0);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < cols; ++j) y[i] += w[i * cols + j] * x[j];
    }
    return y;
  }

  Vec RmsNorm(const Vec& x, const Vec& w) const {
    double ms = 0;
    for (double v : x) ms += v * v;
    ms /= static_cast<double>(x.size());
    Vec y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(ms + eps_) * w[i];
    return y;
  }

  // NeoX rotary embedding of one head at position `pos`.
  void Rope(double* v, int pos) const {
    const int half = head_dim_ / 2;
    for (int i = 0; i < half; ++i) {
      const double freq = 1.0 / std::pow(theta_, 2.0 * i / head_dim_);
      const double c = std::cos(pos * freq), s = std::sin(pos * freq);
      const double a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    }
  }

  std::vector<Vec> SelfAttention(const std::string& p, const std::vector<Vec>& x) const {
    const int n = static_cast<int>(x.size());
    const Vec qn = Vector(p + "self_attn.q_norm.weight"),
              kn = Vector(p + "self_attn.k_norm.weight");
    std::vector<Vec> q(n), k(n), v(n);
    for (int t = 0; t < n; ++t) {
      q[t] = Linear(p + "self_attn.q_proj.weight", x[t]);
      k[t] = Linear(p + "self_attn.k_proj.weight", x[t]);
      v[t] = Linear(p + "self_attn.v_proj.weight", x[t]);
      for (int h = 0; h < heads_; ++h) {
        Vec head(q[t].begin() + h * head_dim_, q[t].begin() + (h + 1) * head_dim_);
        head = RmsNorm(head, qn);
        Rope(head.data(), t);
        std::copy(head.begin(), head.end(), q[t].begin() + h * head_dim_);
      }
      for (int h = 0; h < kv_heads_; ++h) {
        Vec head(k[t].begin() + h * head_dim_, k[t].begin() + (h + 1) * head_dim_);
        head = RmsNorm(head, kn);
        Rope(head.data(), t);
        std::copy(head.begin(), head.end(), k[t].begin() + h * head_dim_);
      }
    }
    std::vector<Vec> out(n);
    const int group = heads_ / kv_heads_;
    for (int t = 0; t < n; ++t) {
      Vec o(static_cast<std::size_t>(heads_ * head_dim_), 0.0);
      for (int h = 0; h < heads_; ++h) {
        const int g = h / group;
        Vec score(t + 1);
        for (int s = 0; s <= t; ++s) {
          double d = 0;
          for (int i = 0; i < head_dim_; ++i)
            d += q[t][h * head_dim_ + i] * k[s][g * head_dim_ + i];
          score[s] = d / std::sqrt(static_cast<double>(head_dim_));
        }
        const double m = *std::max_element(score.begin(), score.end());
        double z = 0;
        for (double& sc : score) z += sc = std::exp(sc - m);
        for (int s = 0; s <= t; ++s) {
          for (int i = 0; i < head_dim_; ++i)
            o[h * head_dim_ + i] += score[s] / z * v[s][g * head_dim_ + i];
        }
      }
      out[t] = Linear(p + "self_attn.o_proj.weight", o);
    }
    return out;
  }

  Vec Mlp(const std::string& p, const Vec& x) const {
    const Vec g = Linear(p + "gate_proj.weight", x), u = Linear(p + "up_proj.weight", x);
    Vec a(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) a[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    return Linear(p + "down_proj.weight", a);
  }

  Vec Moe(const std::string& p, const Vec& x) const {
    const Vec logits = Linear(p + "gate.weight", x);
    const double m = *std::max_element(logits.begin(), logits.end());
    Vec prob(logits.size());
    double z = 0;
    for (std::size_t e = 0; e < logits.size(); ++e) z += prob[e] = std::exp(logits[e] - m);
    for (double& pr : prob) pr /= z;
    std::vector<int> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[a] > prob[b]; });
    double chosen = 0;
    for (int i = 0; i < top_k_; ++i) chosen += prob[order[i]];
    Vec y(x.size(), 0.0);
    for (int i = 0; i < top_k_; ++i) {
      const int e = order[i];
      const double w = norm_topk_ ? prob[e] / chosen : prob[e];
      const Vec out = Mlp(p + "experts." + std::to_string(e) + ".", x);
      for (std::size_t j = 0; j < y.size(); ++j) y[j] += w * out[j];
    }
    return y;
  }

  nlohmann::json cfg_;
  std::map<std::string, Tensor> tensors_;
  mutable std::map<std::string, Vec> cache_;
  int hidden_, layers_, heads_, kv_heads_, head_dim_, vocab_;
  double eps_, theta_;
  bool moe_ = false, norm_topk_ = true;
  int experts_ = 0, top_k_ = 0;
  std::vector<int> mlp_only_;
  int block_r_ = 128, block_c_ = 128;
};

}  // namespace lumen::llm::reference
