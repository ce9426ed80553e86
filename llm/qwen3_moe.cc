#include "llm/qwen3_moe.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "llm/cpu/attention.h"
#include "llm/cpu/matmul.h"
#include "llm/cpu/ops.h"
#include "llm/kv_cache.h"
#include "llm/weights.h"

namespace lumen::llm {
namespace {

using cpu::MatMulJob;

constexpr std::size_t kPrefillChunk = 512;  // tokens per pass through the layers

struct SwiGluMlp {
  WeightMatrix gate, up, down;  // [inter, hidden], [inter, hidden], [hidden, inter]
};

struct Layer {
  std::vector<float> input_norm, post_attention_norm, q_norm, k_norm;
  WeightMatrix q, k, v, o;
  bool moe = false;
  WeightMatrix router;             // [experts, hidden]
  std::vector<SwiGluMlp> experts;  // MoE layers
  SwiGluMlp mlp;                   // dense layers
};

class Qwen3 final : public CausalLM {
 public:
  Qwen3(Checkpoint checkpoint, const ModelConfig& config, const EngineOptions& options,
        cpu::Isa isa)
      : checkpoint_(std::move(checkpoint)),
        config_(config),
        options_(options),
        loader_(checkpoint_, config.quant, options.verify_weights) {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    threads_ = options.threads > 0 ? static_cast<std::size_t>(options.threads) : hw;
    if (threads_ > 1) team_ = std::make_unique<cpu::WorkerTeam>(threads_ - 1);
    ctx_ = {.simd = &cpu::KernelsFor(isa), .team = team_.get()};
  }

  Status Load();

  const ModelConfig& config() const override { return config_; }
  std::string backend() const override {
    return "cpu/" + std::string(cpu::IsaName(ctx_.simd->isa)) + " x " + std::to_string(threads_) +
           " threads";
  }
  Result<std::unique_ptr<SequenceState>> NewSequence(int capacity) const override;
  Status Forward(SequenceState& seq, std::span<const int> tokens, std::span<float> logits) override;

 private:
  Status LoadMlp(const std::string& prefix, int inter, SwiGluMlp& mlp);
  void AttentionBlock(int l, KvCache& cache, std::size_t n, std::size_t p0,
                      const cpu::RopeTable& rope);
  void MoeBlock(const Layer& layer, std::size_t n);
  void MlpBlock(const SwiGluMlp& mlp, std::size_t n);
  // Runs `tokens` (at positions p0...) through every layer, leaving the last hidden states in h_.
  void Layers(KvCache& cache, std::span<const int> tokens, std::size_t p0);

  Checkpoint checkpoint_;
  ModelConfig config_;
  EngineOptions options_;
  WeightLoader loader_;
  std::size_t threads_ = 1;
  std::unique_ptr<cpu::WorkerTeam> team_;
  cpu::CpuContext ctx_;

  WeightMatrix embed_, lm_head_;
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;

  // Activations of the current Forward call (n tokens), reused between calls.
  std::vector<float> h_, xn_, q_, k_, v_, attn_, tmp_, router_, gate_, up_, expert_in_, expert_out_;
};

Status Qwen3::LoadMlp(const std::string& prefix, int inter, SwiGluMlp& mlp) {
  const int hidden = config_.hidden_size;
  LUMEN_ASSIGN_OR_RETURN(mlp.gate, loader_.Matrix(prefix + "gate_proj.weight", inter, hidden));
  LUMEN_ASSIGN_OR_RETURN(mlp.up, loader_.Matrix(prefix + "up_proj.weight", inter, hidden));
  LUMEN_ASSIGN_OR_RETURN(mlp.down, loader_.Matrix(prefix + "down_proj.weight", hidden, inter));
  return Status::Ok();
}

Status Qwen3::Load() {
  const ModelConfig& c = config_;
  const int hidden = c.hidden_size, hd = c.head_dim;
  LUMEN_ASSIGN_OR_RETURN(embed_, loader_.Matrix("model.embed_tokens.weight", c.vocab_size, hidden));
  if (c.tie_word_embeddings) {
    lm_head_ = embed_;
  } else {
    LUMEN_ASSIGN_OR_RETURN(lm_head_, loader_.Matrix("lm_head.weight", c.vocab_size, hidden));
  }
  LUMEN_ASSIGN_OR_RETURN(final_norm_, loader_.Vector("model.norm.weight", hidden));
  layers_.resize(static_cast<std::size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    Layer& L = layers_[static_cast<std::size_t>(l)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LUMEN_ASSIGN_OR_RETURN(L.input_norm, loader_.Vector(p + "input_layernorm.weight", hidden));
    LUMEN_ASSIGN_OR_RETURN(L.post_attention_norm,
                           loader_.Vector(p + "post_attention_layernorm.weight", hidden));
    LUMEN_ASSIGN_OR_RETURN(L.q,
                           loader_.Matrix(p + "self_attn.q_proj.weight", c.num_heads * hd, hidden));
    LUMEN_ASSIGN_OR_RETURN(
        L.k, loader_.Matrix(p + "self_attn.k_proj.weight", c.num_kv_heads * hd, hidden));
    LUMEN_ASSIGN_OR_RETURN(
        L.v, loader_.Matrix(p + "self_attn.v_proj.weight", c.num_kv_heads * hd, hidden));
    LUMEN_ASSIGN_OR_RETURN(L.o,
                           loader_.Matrix(p + "self_attn.o_proj.weight", hidden, c.num_heads * hd));
    LUMEN_ASSIGN_OR_RETURN(L.q_norm, loader_.Vector(p + "self_attn.q_norm.weight", hd));
    LUMEN_ASSIGN_OR_RETURN(L.k_norm, loader_.Vector(p + "self_attn.k_norm.weight", hd));
    L.moe = c.arch == Architecture::kQwen3Moe && c.IsMoeLayer(l);
    if (L.moe) {
      LUMEN_ASSIGN_OR_RETURN(L.router,
                             loader_.Matrix(p + "mlp.gate.weight", c.num_experts, hidden));
      L.experts.resize(static_cast<std::size_t>(c.num_experts));
      for (int e = 0; e < c.num_experts; ++e) {
        LUMEN_RETURN_IF_ERROR(LoadMlp(p + "mlp.experts." + std::to_string(e) + ".",
                                      c.moe_intermediate_size,
                                      L.experts[static_cast<std::size_t>(e)]));
      }
    } else {
      LUMEN_RETURN_IF_ERROR(LoadMlp(p + "mlp.", c.intermediate_size, L.mlp));
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<SequenceState>> Qwen3::NewSequence(int capacity) const {
  if (capacity < 1) return InvalidArgument("a sequence needs room for at least one token");
  if (capacity > config_.max_position_embeddings) {
    return InvalidArgument("context of " + std::to_string(capacity) +
                           " tokens exceeds the model's max_position_embeddings (" +
                           std::to_string(config_.max_position_embeddings) + ")");
  }
  LUMEN_ASSIGN_OR_RETURN(auto cache,
                         KvCache::Create(config_.num_layers, capacity, config_.num_kv_heads,
                                         config_.head_dim, options_.kv_dtype));
  return std::unique_ptr<SequenceState>(std::move(cache));
}

void Qwen3::AttentionBlock(int l, KvCache& cache, std::size_t n, std::size_t p0,
                           const cpu::RopeTable& rope) {
  const Layer& L = layers_[static_cast<std::size_t>(l)];
  const std::size_t hidden = static_cast<std::size_t>(config_.hidden_size);
  const std::size_t hd = static_cast<std::size_t>(config_.head_dim);
  const std::size_t heads = static_cast<std::size_t>(config_.num_heads);
  const std::size_t kv_heads = static_cast<std::size_t>(config_.num_kv_heads);
  const cpu::SimdKernels& simd = *ctx_.simd;

  cpu::RmsNorm(simd, h_.data(), L.input_norm.data(), n, hidden, config_.rms_norm_eps, xn_.data());
  const MatMulJob qkv[] = {{&L.q, xn_.data(), n, q_.data()},
                           {&L.k, xn_.data(), n, k_.data()},
                           {&L.v, xn_.data(), n, v_.data()}};
  cpu::MatMulMany(ctx_, qkv);
  cpu::RmsNorm(simd, q_.data(), L.q_norm.data(), n * heads, hd, config_.rms_norm_eps, q_.data());
  cpu::RmsNorm(simd, k_.data(), L.k_norm.data(), n * kv_heads, hd, config_.rms_norm_eps, k_.data());
  cpu::ApplyRope(rope, q_.data(), n, heads, hd);
  cpu::ApplyRope(rope, k_.data(), n, kv_heads, hd);
  for (std::size_t t = 0; t < n; ++t) {
    cache.Store(l, static_cast<int>(p0 + t), k_.data() + t * kv_heads * hd,
                v_.data() + t * kv_heads * hd);
  }
  cpu::Attention(ctx_, cache, l, q_.data(), n, p0, config_.num_heads,
                 static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))), attn_.data());
  cpu::MatMul(ctx_, L.o, attn_.data(), n, tmp_.data());
  for (std::size_t i = 0; i < n * hidden; ++i) h_[i] += tmp_[i];
}

void Qwen3::MlpBlock(const SwiGluMlp& mlp, std::size_t n) {
  const std::size_t hidden = static_cast<std::size_t>(config_.hidden_size);
  const std::size_t inter = static_cast<std::size_t>(mlp.gate.rows);
  gate_.resize(n * inter);
  up_.resize(n * inter);
  const MatMulJob gate_up[] = {{&mlp.gate, xn_.data(), n, gate_.data()},
                               {&mlp.up, xn_.data(), n, up_.data()}};
  cpu::MatMulMany(ctx_, gate_up);
  cpu::SwiGlu(gate_.data(), up_.data(), n * inter);
  cpu::MatMul(ctx_, mlp.down, gate_.data(), n, tmp_.data());
  for (std::size_t i = 0; i < n * hidden; ++i) h_[i] += tmp_[i];
}

void Qwen3::MoeBlock(const Layer& L, std::size_t n) {
  const std::size_t hidden = static_cast<std::size_t>(config_.hidden_size);
  const std::size_t inter = static_cast<std::size_t>(config_.moe_intermediate_size);
  const std::size_t experts = static_cast<std::size_t>(config_.num_experts);
  const int k = config_.num_experts_per_tok;

  router_.resize(n * experts);
  cpu::MatMul(ctx_, L.router, xn_.data(), n, router_.data());
  // Group the (token, weight) assignments by expert so that each expert's weights are read once
  // for all the tokens routed to it.
  std::vector<std::vector<std::pair<std::size_t, float>>> routed(experts);
  std::vector<cpu::ExpertChoice> choice;
  for (std::size_t t = 0; t < n; ++t) {
    cpu::RouteTopK({router_.data() + t * experts, experts}, k, config_.norm_topk_prob, choice);
    for (const cpu::ExpertChoice& c : choice) {
      routed[static_cast<std::size_t>(c.expert)].push_back({t, c.weight});
    }
  }
  const std::size_t assignments = n * static_cast<std::size_t>(k);
  expert_in_.resize(assignments * hidden);
  expert_out_.resize(assignments * hidden);
  gate_.resize(assignments * inter);
  up_.resize(assignments * inter);
  std::vector<MatMulJob> gate_up, down;
  std::size_t row = 0;
  for (std::size_t e = 0; e < experts; ++e) {
    const std::size_t m = routed[e].size();
    if (m == 0) continue;
    for (std::size_t i = 0; i < m; ++i) {
      const float* src = xn_.data() + routed[e][i].first * hidden;
      std::copy(src, src + hidden, expert_in_.data() + (row + i) * hidden);
    }
    const SwiGluMlp& x = L.experts[e];
    gate_up.push_back({&x.gate, expert_in_.data() + row * hidden, m, gate_.data() + row * inter});
    gate_up.push_back({&x.up, expert_in_.data() + row * hidden, m, up_.data() + row * inter});
    down.push_back({&x.down, gate_.data() + row * inter, m, expert_out_.data() + row * hidden});
    row += m;
  }
  cpu::MatMulMany(ctx_, gate_up);
  cpu::SwiGlu(gate_.data(), up_.data(), assignments * inter);
  cpu::MatMulMany(ctx_, down);
  row = 0;
  for (std::size_t e = 0; e < experts; ++e) {
    for (const auto& [t, weight] : routed[e]) {
      ctx_.simd->axpy(weight, expert_out_.data() + row * hidden, h_.data() + t * hidden, hidden);
      ++row;
    }
  }
}

void Qwen3::Layers(KvCache& cache, std::span<const int> tokens, std::size_t p0) {
  const std::size_t n = tokens.size();
  const std::size_t hidden = static_cast<std::size_t>(config_.hidden_size);
  const std::size_t q_dim = static_cast<std::size_t>(config_.num_heads * config_.head_dim);
  const std::size_t kv_dim = static_cast<std::size_t>(config_.num_kv_heads * config_.head_dim);
  h_.resize(n * hidden);
  xn_.resize(n * hidden);
  tmp_.resize(n * hidden);
  q_.resize(n * q_dim);
  attn_.resize(n * q_dim);
  k_.resize(n * kv_dim);
  v_.resize(n * kv_dim);
  for (std::size_t t = 0; t < n; ++t) {
    cpu::DecodeRow(*ctx_.simd, embed_, static_cast<std::size_t>(tokens[t]), h_.data() + t * hidden);
  }
  const cpu::RopeTable rope =
      cpu::MakeRopeTable(p0, n, static_cast<std::size_t>(config_.head_dim), config_.rope_theta);
  for (int l = 0; l < config_.num_layers; ++l) {
    const Layer& L = layers_[static_cast<std::size_t>(l)];
    AttentionBlock(l, cache, n, p0, rope);
    cpu::RmsNorm(*ctx_.simd, h_.data(), L.post_attention_norm.data(), n, hidden,
                 config_.rms_norm_eps, xn_.data());
    if (L.moe) {
      MoeBlock(L, n);
    } else {
      MlpBlock(L.mlp, n);
    }
  }
}

Status Qwen3::Forward(SequenceState& seq, std::span<const int> tokens, std::span<float> logits) {
  LUMEN_RETURN_IF_ERROR(CheckForward(seq, tokens, logits));
  auto* cache = dynamic_cast<KvCache*>(&seq);
  if (cache == nullptr || cache->layers() != config_.num_layers ||
      cache->kv_heads() != config_.num_kv_heads || cache->head_dim() != config_.head_dim) {
    return InvalidArgument("sequence was not created by this model");
  }
  // Long prompts go through the layers in chunks, so activation memory stays bounded (the MoE
  // buffers hold tokens × top-k rows of hidden floats).
  const std::size_t p0 = static_cast<std::size_t>(seq.length());
  std::size_t n = 0;
  for (std::size_t done = 0; done < tokens.size(); done += n) {
    n = std::min(kPrefillChunk, tokens.size() - done);
    Layers(*cache, tokens.subspan(done, n), p0 + done);
  }
  const std::size_t hidden = static_cast<std::size_t>(config_.hidden_size);
  cpu::RmsNorm(*ctx_.simd, h_.data() + (n - 1) * hidden, final_norm_.data(), 1, hidden,
               config_.rms_norm_eps, xn_.data());
  cpu::MatMul(ctx_, lm_head_, xn_.data(), 1, logits.data());
  for (float v : logits) {
    if (!std::isfinite(v)) {
      return Internal("the model produced a non-finite logit (overflow in the weights?)");
    }
  }
  Advance(seq, static_cast<int>(tokens.size()));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<CausalLM>> LoadQwen3(Checkpoint checkpoint, const ModelConfig& config,
                                            const EngineOptions& options) {
  LUMEN_ASSIGN_OR_RETURN(cpu::Isa isa, cpu::ParseIsa(options.isa));
  auto model = std::make_unique<Qwen3>(std::move(checkpoint), config, options, isa);
  LUMEN_RETURN_IF_ERROR(model->Load());
  return std::unique_ptr<CausalLM>(std::move(model));
}

}  // namespace lumen::llm
