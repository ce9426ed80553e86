#include "llm/cuda/qwen3_cuda.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <tuple>
#include <vector>

#include "llm/cuda/device_memory.h"
#include "llm/cuda/kernels.h"
#include "llm/cuda/plan/launch_plan.h"
#include "llm/cuda/plan/moe_plan.h"
#include "llm/weights.h"

namespace lumen::llm::cuda {
namespace {

constexpr int kPrefillChunk = 512;  // tokens per eager pass through the layers
constexpr std::size_t kMaxGraphs = 16;

class CudaSequence final : public SequenceState {
 public:
  CudaSequence(int capacity, const void* owner) : SequenceState(capacity), owner_(owner) {}
  const void* owner() const { return owner_; }
  DeviceBuffer k, v;

 private:
  const void* owner_;
};

struct Layer {
  float *input_norm = nullptr, *post_attention_norm = nullptr, *q_norm = nullptr, *k_norm = nullptr;
  DeviceMatrix q, k, v, o;
  bool moe = false;
  DeviceMatrix router;
  DeviceMatrix gate, up, down;  // MoE: stacks of all experts; dense: one matrix each
};

class GraphExec {
 public:
  explicit GraphExec(cudaGraphExec_t e) : exec_(e) {}
  ~GraphExec() {
    if (exec_ != nullptr) cudaGraphExecDestroy(exec_);
  }
  GraphExec(const GraphExec&) = delete;
  GraphExec& operator=(const GraphExec&) = delete;
  cudaGraphExec_t get() const { return exec_; }

 private:
  cudaGraphExec_t exec_;
};

class CudaQwen3 final : public CudaCausalLM {
 public:
  CudaQwen3(Checkpoint checkpoint, const ModelConfig& config, const EngineOptions& options, int gpu)
      : checkpoint_(std::move(checkpoint)),
        config_(config),
        options_(options),
        gpu_(gpu),
        graphs_lru_(kMaxGraphs) {}
  ~CudaQwen3() override {
    graphs_.clear();
    if (dev_.stream != nullptr) {
      cudaSetDevice(gpu_);
      cudaStreamDestroy(dev_.stream);
    }
  }

  Status Load();

  const ModelConfig& config() const override { return config_; }
  std::string backend() const override {
    return "cuda/" + gpu_name_ + (graphs_off_.empty() ? " (decode graphs" : " (" + graphs_off_) +
           (dev_.pdl ? ", PDL)" : ")");
  }
  Result<std::unique_ptr<SequenceState>> NewSequence(int capacity) const override;
  Status Forward(SequenceState& seq, std::span<const int> tokens, std::span<float> logits) override;
  Status DecodeGreedy(std::span<SequenceState* const> seqs, std::span<const int> tokens,
                      std::span<int> next) override;
  Status PoisonActivations() override;

 private:
  Result<DeviceMatrix> Upload(const std::vector<WeightMatrix>& stack);
  Result<float*> UploadVector(const std::vector<float>& v);
  Result<DeviceMatrix> LoadMatrix(const std::string& name, int rows, int cols);
  Status LoadStack(const std::string& prefix, const std::string& suffix, int count, int rows,
                   int cols, DeviceMatrix& out);
  Status AllocateActivations();
  Status EnsurePartial(const AttentionLaunch& plan, int n);

  // Enqueues the layers for the n tokens whose ids and slots are in d_tokens_/d_slots_.
  Status EnqueueLayers(int n, int kv_bucket);
  // Final norm and lm_head for `count` rows of h_ from `row0`: logits_ and greedy ids_.
  Status EnqueueHead(int row0, int count);
  // Copies n tokens and slots from the pinned staging to the device.
  Status EnqueueUpload(int n);
  // A step of ≤ kMaxBatch tokens through the decode graph (or eagerly when graphs are off).
  Status Step(int n, bool want_logits);
  Status EnqueueStep(int n, int kv_bucket, bool want_logits);
  Status Sync();

  Checkpoint checkpoint_;
  ModelConfig config_;
  EngineOptions options_;
  int gpu_;
  std::string gpu_name_;
  Device dev_;
  KvFormat kv_ = KvFormat::kBf16;
  std::deque<DeviceBuffer> weights_;  // owns every uploaded tensor
  std::size_t weight_bytes_ = 0;

  DeviceMatrix embed_, lm_head_;
  float* final_norm_ = nullptr;
  std::vector<Layer> layers_;
  DeviceBuffer inv_freq_;

  // Activations for up to kPrefillChunk tokens.
  DeviceBuffer h_, xn_, q_, k_, v_, attn_, router_logits_, expert_ids_, expert_w_, rows_, slot_,
      tile_expert_, gate_, up_, eout_, logits_, ids_, tokens_, slots_, partial_;
  std::size_t gate_floats_ = 0;
  PinnedBuffer staging_tokens_, staging_slots_, host_ids_, host_logits_;

  DecodeGraphLru graphs_lru_;
  std::map<std::tuple<int, int, bool>, std::unique_ptr<GraphExec>> graphs_;
  std::string graphs_off_;  // why graphs are not used, when they are not
};

Result<DeviceMatrix> CudaQwen3::Upload(const std::vector<WeightMatrix>& stack) {
  const WeightMatrix& first = stack.front();
  DeviceMatrix d;
  d.rows = static_cast<int>(first.rows);
  d.cols = static_cast<int>(first.cols);
  d.experts = static_cast<int>(stack.size());
  switch (first.dtype) {
    case DType::kF8E4M3: d.format = WeightFormat::kFp8; break;
    case DType::kBF16: d.format = WeightFormat::kBf16; break;
    case DType::kF16:
    case DType::kF32: d.format = WeightFormat::kF32; break;
    default: return InvalidArgument(first.name + ": dtype not supported by the CUDA engine");
  }
  d.expert_bytes = static_cast<std::size_t>(d.rows) * d.cols *
                   static_cast<std::size_t>(WeightFormatBytes(d.format));
  if (d.format == WeightFormat::kFp8) {
    d.block_rows = static_cast<int>(first.block_rows);
    d.block_cols = static_cast<int>(first.block_cols);
    d.scale_rows = static_cast<int>((first.rows + first.block_rows - 1) / first.block_rows);
    d.scale_cols = static_cast<int>(first.scale_cols);
    d.expert_scales = static_cast<std::size_t>(d.scale_rows) * d.scale_cols;
  }
  for (const WeightMatrix& m : stack) {
    if (m.dtype != first.dtype || m.rows != first.rows || m.cols != first.cols ||
        m.block_rows != first.block_rows || m.block_cols != first.block_cols) {
      return InvalidArgument(m.name + ": experts of one layer must share dtype, shape and blocks");
    }
  }
  DeviceBuffer& data = weights_.emplace_back();
  LUMEN_RETURN_IF_ERROR(data.Allocate(d.expert_bytes * stack.size()));
  std::vector<float> widened;
  for (std::size_t e = 0; e < stack.size(); ++e) {
    const WeightMatrix& m = stack[e];
    const void* src = m.data;
    if (m.dtype == DType::kF16) {
      widened.resize(static_cast<std::size_t>(m.rows * m.cols));
      for (std::size_t i = 0; i < widened.size(); ++i)
        widened[i] = ElementToFloat(DType::kF16, m.data, i);
      src = widened.data();
    }
    LUMEN_CUDA_CHECK(cudaMemcpy(data.as<char>() + e * d.expert_bytes, src, d.expert_bytes,
                                cudaMemcpyHostToDevice));
  }
  d.data = data.get();
  weight_bytes_ += data.bytes();
  if (d.format == WeightFormat::kFp8) {
    DeviceBuffer& scales = weights_.emplace_back();
    LUMEN_RETURN_IF_ERROR(scales.Allocate(d.expert_scales * sizeof(float) * stack.size()));
    for (std::size_t e = 0; e < stack.size(); ++e) {
      LUMEN_CUDA_CHECK(cudaMemcpy(scales.as<float>() + e * d.expert_scales, stack[e].scales,
                                  d.expert_scales * sizeof(float), cudaMemcpyHostToDevice));
    }
    d.scales = scales.as<float>();
    weight_bytes_ += scales.bytes();
  }
  return d;
}

Result<float*> CudaQwen3::UploadVector(const std::vector<float>& v) {
  DeviceBuffer& b = weights_.emplace_back();
  LUMEN_RETURN_IF_ERROR(b.Allocate(v.size() * sizeof(float)));
  LUMEN_CUDA_CHECK(cudaMemcpy(b.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
  return b.as<float>();
}

Status CudaQwen3::LoadStack(const std::string& prefix, const std::string& suffix, int count,
                            int rows, int cols, DeviceMatrix& out) {
  WeightLoader loader(checkpoint_, config_.quant, options_.verify_weights);
  std::vector<WeightMatrix> stack;
  for (int e = 0; e < count; ++e) {
    const std::string name = prefix + std::to_string(e) + suffix;
    LUMEN_ASSIGN_OR_RETURN(WeightMatrix m, loader.Matrix(name, rows, cols));
    stack.push_back(m);
  }
  // The loader's fp32 scale grids live until the upload below has copied them.
  LUMEN_ASSIGN_OR_RETURN(out, Upload(stack));
  return Status::Ok();
}

Result<DeviceMatrix> CudaQwen3::LoadMatrix(const std::string& name, int rows, int cols) {
  WeightLoader loader(checkpoint_, config_.quant, options_.verify_weights);
  LUMEN_ASSIGN_OR_RETURN(WeightMatrix m, loader.Matrix(name, rows, cols));
  return Upload({m});
}

Status CudaQwen3::Load() {
  const ModelConfig& c = config_;
  if (c.head_dim % 2 != 0) return InvalidArgument("head_dim must be even for rotary embeddings");
  if (c.num_heads / c.num_kv_heads > 16) {
    return Unimplemented("the CUDA attention kernel handles at most 16 query heads per kv head");
  }
  if (c.num_experts > 1024 || c.num_experts_per_tok > 32) {
    return Unimplemented("the CUDA router handles at most 1024 experts and top-32");
  }
  LUMEN_CUDA_CHECK(cudaSetDevice(gpu_));
  cudaDeviceProp prop{};
  LUMEN_CUDA_CHECK(cudaGetDeviceProperties(&prop, gpu_));
  gpu_name_ = prop.name;
  dev_.sm_count = prop.multiProcessorCount;
  dev_.pdl = prop.major >= 9 && options_.cuda_pdl;
  // An experiment knob (docs/MODELS.md): rows per warp of the decode GEMV.
  if (const char* rows = std::getenv("LUMEN_CUDA_GEMV_ROWS")) {
    const std::string v = rows;
    if (v != "1" && v != "2" && v != "4") {
      return InvalidArgument("LUMEN_CUDA_GEMV_ROWS must be 1, 2 or 4, not \"" + v + "\"");
    }
    dev_.gemv_rows_per_warp = v[0] - '0';
  }
  LUMEN_CUDA_CHECK(cudaStreamCreateWithFlags(&dev_.stream, cudaStreamNonBlocking));
  LUMEN_RETURN_IF_ERROR(PrepareKernels(dev_));
  kv_ = options_.kv_dtype == KvDType::kF32 ? KvFormat::kF32 : KvFormat::kBf16;

  const int hidden = c.hidden_size, hd = c.head_dim;
  LUMEN_ASSIGN_OR_RETURN(embed_, LoadMatrix("model.embed_tokens.weight", c.vocab_size, hidden));
  if (c.tie_word_embeddings) {
    lm_head_ = embed_;
  } else {
    LUMEN_ASSIGN_OR_RETURN(lm_head_, LoadMatrix("lm_head.weight", c.vocab_size, hidden));
  }
  WeightLoader vectors(checkpoint_, c.quant, options_.verify_weights);
  auto vec = [&](const std::string& name, int n) -> Result<float*> {
    LUMEN_ASSIGN_OR_RETURN(std::vector<float> v, vectors.Vector(name, n));
    return UploadVector(v);
  };
  LUMEN_ASSIGN_OR_RETURN(final_norm_, vec("model.norm.weight", hidden));
  layers_.resize(static_cast<std::size_t>(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    Layer& L = layers_[static_cast<std::size_t>(l)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LUMEN_ASSIGN_OR_RETURN(L.input_norm, vec(p + "input_layernorm.weight", hidden));
    LUMEN_ASSIGN_OR_RETURN(L.post_attention_norm,
                           vec(p + "post_attention_layernorm.weight", hidden));
    LUMEN_ASSIGN_OR_RETURN(L.q_norm, vec(p + "self_attn.q_norm.weight", hd));
    LUMEN_ASSIGN_OR_RETURN(L.k_norm, vec(p + "self_attn.k_norm.weight", hd));
    LUMEN_ASSIGN_OR_RETURN(L.q,
                           LoadMatrix(p + "self_attn.q_proj.weight", c.num_heads * hd, hidden));
    LUMEN_ASSIGN_OR_RETURN(L.k,
                           LoadMatrix(p + "self_attn.k_proj.weight", c.num_kv_heads * hd, hidden));
    LUMEN_ASSIGN_OR_RETURN(L.v,
                           LoadMatrix(p + "self_attn.v_proj.weight", c.num_kv_heads * hd, hidden));
    LUMEN_ASSIGN_OR_RETURN(L.o,
                           LoadMatrix(p + "self_attn.o_proj.weight", hidden, c.num_heads * hd));
    L.moe = c.arch == Architecture::kQwen3Moe && c.IsMoeLayer(l);
    if (L.moe) {
      LUMEN_ASSIGN_OR_RETURN(L.router, LoadMatrix(p + "mlp.gate.weight", c.num_experts, hidden));
      const int inter = c.moe_intermediate_size, E = c.num_experts;
      const std::string ex = p + "mlp.experts.";
      LUMEN_RETURN_IF_ERROR(LoadStack(ex, ".gate_proj.weight", E, inter, hidden, L.gate));
      LUMEN_RETURN_IF_ERROR(LoadStack(ex, ".up_proj.weight", E, inter, hidden, L.up));
      LUMEN_RETURN_IF_ERROR(LoadStack(ex, ".down_proj.weight", E, hidden, inter, L.down));
    } else {
      const int inter = c.intermediate_size;
      LUMEN_ASSIGN_OR_RETURN(L.gate, LoadMatrix(p + "mlp.gate_proj.weight", inter, hidden));
      LUMEN_ASSIGN_OR_RETURN(L.up, LoadMatrix(p + "mlp.up_proj.weight", inter, hidden));
      LUMEN_ASSIGN_OR_RETURN(L.down, LoadMatrix(p + "mlp.down_proj.weight", hidden, inter));
    }
  }
  std::vector<double> inv_freq(static_cast<std::size_t>(hd / 2));
  for (int i = 0; i < hd / 2; ++i) {
    inv_freq[static_cast<std::size_t>(i)] =
        std::pow(c.rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(hd));
  }
  LUMEN_RETURN_IF_ERROR(inv_freq_.Allocate(inv_freq.size() * sizeof(double)));
  LUMEN_CUDA_CHECK(cudaMemcpy(inv_freq_.get(), inv_freq.data(), inv_freq.size() * sizeof(double),
                              cudaMemcpyHostToDevice));
  return AllocateActivations();
}

Status CudaQwen3::AllocateActivations() {
  const ModelConfig& c = config_;
  const std::size_t T = kPrefillChunk, hidden = static_cast<std::size_t>(c.hidden_size);
  const std::size_t q_dim = static_cast<std::size_t>(c.num_heads) * c.head_dim;
  const std::size_t kv_dim = static_cast<std::size_t>(c.num_kv_heads) * c.head_dim;
  const int E = std::max(1, c.num_experts), K = std::max(1, c.num_experts_per_tok);
  const int A = static_cast<int>(T) * K;
  const std::size_t padded = static_cast<std::size_t>(
      std::max(MoePaddedCapacity(A, E, MoeTileFor(static_cast<int>(T))),
               MoePaddedCapacity(kMaxBatch * K, E, MoeTileFor(kMaxBatch))));
  const std::size_t tiles =
      static_cast<std::size_t>(std::max(MoeTileCapacity(A, E, MoeTileFor(static_cast<int>(T))),
                                        MoeTileCapacity(kMaxBatch * K, E, MoeTileFor(kMaxBatch))));
  gate_floats_ = std::max(padded * static_cast<std::size_t>(std::max(1, c.moe_intermediate_size)),
                          T * static_cast<std::size_t>(std::max(1, c.intermediate_size)));
  const std::size_t f = sizeof(float);
  LUMEN_RETURN_IF_ERROR(h_.Allocate(T * hidden * f));
  LUMEN_RETURN_IF_ERROR(xn_.Allocate(T * hidden * f));
  LUMEN_RETURN_IF_ERROR(q_.Allocate(T * q_dim * f));
  LUMEN_RETURN_IF_ERROR(attn_.Allocate(T * q_dim * f));
  LUMEN_RETURN_IF_ERROR(k_.Allocate(T * kv_dim * f));
  LUMEN_RETURN_IF_ERROR(v_.Allocate(T * kv_dim * f));
  LUMEN_RETURN_IF_ERROR(router_logits_.Allocate(T * static_cast<std::size_t>(E) * f));
  LUMEN_RETURN_IF_ERROR(expert_ids_.Allocate(static_cast<std::size_t>(A) * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(expert_w_.Allocate(static_cast<std::size_t>(A) * f));
  LUMEN_RETURN_IF_ERROR(rows_.Allocate(padded * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(slot_.Allocate(static_cast<std::size_t>(A) * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(tile_expert_.Allocate(tiles * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(gate_.Allocate(gate_floats_ * f));
  LUMEN_RETURN_IF_ERROR(up_.Allocate(gate_floats_ * f));
  LUMEN_RETURN_IF_ERROR(eout_.Allocate(std::max(padded, T) * hidden * f));
  LUMEN_RETURN_IF_ERROR(logits_.Allocate(static_cast<std::size_t>(kMaxBatch) *
                                         static_cast<std::size_t>(c.vocab_size) * f));
  LUMEN_RETURN_IF_ERROR(ids_.Allocate(kMaxBatch * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(tokens_.Allocate(T * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(slots_.Allocate(T * sizeof(TokenSlot)));
  LUMEN_RETURN_IF_ERROR(staging_tokens_.Allocate(T * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(staging_slots_.Allocate(T * sizeof(TokenSlot)));
  LUMEN_RETURN_IF_ERROR(host_ids_.Allocate(kMaxBatch * sizeof(int)));
  LUMEN_RETURN_IF_ERROR(host_logits_.Allocate(static_cast<std::size_t>(c.vocab_size) * f));
  LUMEN_RETURN_IF_ERROR(partial_.Allocate((T + 2 * static_cast<std::size_t>(dev_.sm_count)) *
                                          static_cast<std::size_t>(c.num_heads) *
                                          (static_cast<std::size_t>(c.head_dim) + 2) * f));
  return Status::Ok();
}

Status CudaQwen3::EnsurePartial(const AttentionLaunch& plan, int n) {
  // Allocated once (AllocateActivations) for the largest plan, because captured graphs keep its
  // address: PlanAttention gives n · splits ≤ n + 2 · sm_count.
  const std::size_t need = static_cast<std::size_t>(n) * config_.num_heads * plan.splits *
                           (static_cast<std::size_t>(config_.head_dim) + 2) * sizeof(float);
  if (partial_.bytes() < need) return Internal("attention partial buffer too small for the plan");
  return Status::Ok();
}

Status CudaQwen3::Sync() {
  LUMEN_CUDA_CHECK(cudaStreamSynchronize(dev_.stream));
  return Status::Ok();
}

Result<std::unique_ptr<SequenceState>> CudaQwen3::NewSequence(int capacity) const {
  if (capacity < 1) return InvalidArgument("a sequence needs room for at least one token");
  if (capacity > config_.max_position_embeddings) {
    return InvalidArgument("context of " + std::to_string(capacity) +
                           " tokens exceeds the model's max_position_embeddings (" +
                           std::to_string(config_.max_position_embeddings) + ")");
  }
  LUMEN_CUDA_CHECK(cudaSetDevice(gpu_));
  auto seq = std::make_unique<CudaSequence>(capacity, this);
  const std::size_t bytes = static_cast<std::size_t>(config_.num_layers) * capacity *
                            config_.num_kv_heads * config_.head_dim *
                            (kv_ == KvFormat::kF32 ? 4 : 2);
  LUMEN_RETURN_IF_ERROR(seq->k.Allocate(bytes));
  LUMEN_RETURN_IF_ERROR(seq->v.Allocate(bytes));
  return std::unique_ptr<SequenceState>(std::move(seq));
}

Status CudaQwen3::EnqueueUpload(int n) {
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), staging_tokens_.as<int>(), n * sizeof(int),
                                   cudaMemcpyHostToDevice, dev_.stream));
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(slots_.get(), staging_slots_.as<TokenSlot>(),
                                   n * sizeof(TokenSlot), cudaMemcpyHostToDevice, dev_.stream));
  return Status::Ok();
}

Status CudaQwen3::EnqueueLayers(int n, int kv_bucket) {
  const ModelConfig& c = config_;
  const int hidden = c.hidden_size, heads = c.num_heads, kvh = c.num_kv_heads, hd = c.head_dim;
  const float eps = static_cast<float>(c.rms_norm_eps);
  const bool decode = n <= kMaxBatch;
  const AttentionLaunch attn = PlanAttention(kv_bucket, n, kvh, heads / kvh, hd, dev_.sm_count);
  LUMEN_RETURN_IF_ERROR(EnsurePartial(attn, n));
  const auto* slots = slots_.as<const TokenSlot>();
  LUMEN_RETURN_IF_ERROR(Embed(dev_, embed_, tokens_.as<int>(), n, h_.as<float>()));
  // A MoE layer's experts are mixed into h_ by the next layer's first kernel (the last layer
  // mixes them itself).
  bool pending_combine = false;
  for (int l = 0; l < c.num_layers; ++l) {
    const Layer& L = layers_[static_cast<std::size_t>(l)];
    if (pending_combine) {
      LUMEN_RETURN_IF_ERROR(CombineRmsNorm(
          dev_, eout_.as<float>(), slot_.as<int>(), expert_w_.as<float>(), c.num_experts_per_tok,
          h_.as<float>(), L.input_norm, n, hidden, eps, xn_.as<float>()));
      pending_combine = false;
    } else {
      LUMEN_RETURN_IF_ERROR(
          RmsNorm(dev_, h_.as<float>(), L.input_norm, n, hidden, eps, xn_.as<float>()));
    }
    const DeviceMatrix qkv[] = {L.q, L.k, L.v};
    float* const qkv_out[] = {q_.as<float>(), k_.as<float>(), v_.as<float>()};
    LUMEN_RETURN_IF_ERROR(LinearSegments(dev_, qkv, qkv_out, 3, xn_.as<float>(), n));
    LUMEN_RETURN_IF_ERROR(QkNormRopeStore(dev_, q_.as<float>(), k_.as<float>(), v_.as<float>(),
                                          L.q_norm, L.k_norm, inv_freq_.as<double>(), slots, l, n,
                                          heads, kvh, hd, eps, kv_));
    LUMEN_RETURN_IF_ERROR(Attention(dev_, q_.as<float>(), slots, l, n, heads, kvh, hd,
                                    static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))),
                                    kv_, attn, partial_.as<float>(), attn_.as<float>()));
    LUMEN_RETURN_IF_ERROR(Linear(dev_, L.o, attn_.as<float>(), n, h_.as<float>(), true));
    LUMEN_RETURN_IF_ERROR(
        RmsNorm(dev_, h_.as<float>(), L.post_attention_norm, n, hidden, eps, xn_.as<float>()));
    if (L.moe) {
      const int E = c.num_experts, K = c.num_experts_per_tok, A = n * K;
      LUMEN_RETURN_IF_ERROR(
          Linear(dev_, L.router, xn_.as<float>(), n, router_logits_.as<float>(), false));
      const int tile = MoeTileFor(n), tiles = MoeTileCapacity(A, E, tile);
      if (decode) {
        LUMEN_RETURN_IF_ERROR(RoutePlan(dev_, router_logits_.as<float>(), n, E, K, c.norm_topk_prob,
                                        expert_ids_.as<int>(), expert_w_.as<float>(), tile, tiles,
                                        rows_.as<int>(), slot_.as<int>(), tile_expert_.as<int>()));
      } else {
        LUMEN_RETURN_IF_ERROR(RouteTopK(dev_, router_logits_.as<float>(), n, E, K, c.norm_topk_prob,
                                        expert_ids_.as<int>(), expert_w_.as<float>()));
        LUMEN_RETURN_IF_ERROR(PlanExperts(dev_, expert_ids_.as<int>(), A, E, tile, tiles,
                                          rows_.as<int>(), slot_.as<int>(),
                                          tile_expert_.as<int>()));
      }
      ExpertRows g{.rows = rows_.as<int>(),
                   .tile_expert = tile_expert_.as<int>(),
                   .tile = tile,
                   .tiles = tiles,
                   .gather_k = K,
                   .vectors = decode ? n : tile};
      const DeviceMatrix gate_up[] = {L.gate, L.up};
      float* const gate_up_out[] = {gate_.as<float>(), up_.as<float>()};
      LUMEN_RETURN_IF_ERROR(
          ExpertLinearSegments(dev_, gate_up, gate_up_out, 2, xn_.as<float>(), g, decode));
      g.gather_k = 0;
      LUMEN_RETURN_IF_ERROR(ExpertLinear(dev_, L.down, gate_.as<float>(), g, eout_.as<float>(),
                                         decode, /*swiglu_up=*/up_.as<float>()));
      if (l + 1 < c.num_layers) {
        pending_combine = true;
      } else {
        LUMEN_RETURN_IF_ERROR(CombineExperts(dev_, eout_.as<float>(), slot_.as<int>(),
                                             expert_w_.as<float>(), n, K, hidden, h_.as<float>()));
      }
    } else {
      const DeviceMatrix gate_up[] = {L.gate, L.up};
      float* const gate_up_out[] = {gate_.as<float>(), up_.as<float>()};
      LUMEN_RETURN_IF_ERROR(LinearSegments(dev_, gate_up, gate_up_out, 2, xn_.as<float>(), n));
      LUMEN_RETURN_IF_ERROR(SwiGlu(dev_, gate_.as<float>(), up_.as<float>(),
                                   static_cast<std::size_t>(n) * c.intermediate_size));
      LUMEN_RETURN_IF_ERROR(Linear(dev_, L.down, gate_.as<float>(), n, h_.as<float>(), true));
    }
  }
  return Status::Ok();
}

Status CudaQwen3::EnqueueHead(int row0, int count) {
  const ModelConfig& c = config_;
  const std::size_t hidden = static_cast<std::size_t>(c.hidden_size);
  LUMEN_RETURN_IF_ERROR(RmsNorm(dev_, h_.as<float>() + static_cast<std::size_t>(row0) * hidden,
                                final_norm_, count, c.hidden_size,
                                static_cast<float>(c.rms_norm_eps), xn_.as<float>()));
  LUMEN_RETURN_IF_ERROR(Linear(dev_, lm_head_, xn_.as<float>(), count, logits_.as<float>(), false));
  return ArgMax(dev_, logits_.as<float>(), count, c.vocab_size, ids_.as<int>());
}

Status CudaQwen3::EnqueueStep(int n, int kv_bucket, bool want_logits) {
  LUMEN_RETURN_IF_ERROR(EnqueueUpload(n));
  LUMEN_RETURN_IF_ERROR(EnqueueLayers(n, kv_bucket));
  LUMEN_RETURN_IF_ERROR(EnqueueHead(0, n));
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(host_ids_.as<int>(), ids_.get(), n * sizeof(int),
                                   cudaMemcpyDeviceToHost, dev_.stream));
  if (want_logits) {
    const std::size_t vocab = static_cast<std::size_t>(config_.vocab_size);
    LUMEN_CUDA_CHECK(cudaMemcpyAsync(host_logits_.as<float>(),
                                     logits_.as<float>() + static_cast<std::size_t>(n - 1) * vocab,
                                     vocab * sizeof(float), cudaMemcpyDeviceToHost, dev_.stream));
  }
  return Status::Ok();
}

Status CudaQwen3::Step(int n, bool want_logits) {
  int longest = 1;
  for (int i = 0; i < n; ++i)
    longest = std::max(longest, staging_slots_.as<TokenSlot>()[i].pos + 1);
  const DecodeGraphKey key = DecodeGraphKeyFor(n, longest, want_logits);
  if (!graphs_off_.empty()) {
    LUMEN_RETURN_IF_ERROR(EnqueueStep(n, key.kv_bucket, want_logits));
    return Sync();
  }
  const auto map_key = std::make_tuple(key.batch, key.kv_bucket, key.logits);
  if (!graphs_lru_.Touch(key)) {
    LUMEN_CUDA_CHECK(cudaStreamBeginCapture(dev_.stream, cudaStreamCaptureModeThreadLocal));
    const Status enqueued = EnqueueStep(n, key.kv_bucket, want_logits);
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(dev_.stream, &graph);
    cudaGraphExec_t exec = nullptr;
    cudaError_t inst = cudaErrorUnknown;
    if (enqueued.ok() && end == cudaSuccess) inst = cudaGraphInstantiate(&exec, graph, 0);
    if (graph != nullptr) cudaGraphDestroy(graph);
    if (!enqueued.ok() || end != cudaSuccess || inst != cudaSuccess) {
      // Capture is an optimisation: report why, then decode eagerly from now on.
      cudaGetLastError();
      graphs_off_ =
          "graphs off: capture failed: " +
          (!enqueued.ok() ? enqueued.message()
                          : std::string(cudaGetErrorString(end != cudaSuccess ? end : inst)));
      LUMEN_RETURN_IF_ERROR(EnqueueStep(n, key.kv_bucket, want_logits));
      return Sync();
    }
    if (auto evicted = graphs_lru_.Insert(key)) {
      graphs_.erase(std::make_tuple(evicted->batch, evicted->kv_bucket, evicted->logits));
    }
    graphs_[map_key] = std::make_unique<GraphExec>(exec);
  }
  LUMEN_CUDA_CHECK(cudaGraphLaunch(graphs_[map_key]->get(), dev_.stream));
  return Sync();
}

Status CudaQwen3::Forward(SequenceState& seq, std::span<const int> tokens,
                          std::span<float> logits) {
  LUMEN_RETURN_IF_ERROR(CheckForward(seq, tokens, logits));
  auto* s = dynamic_cast<CudaSequence*>(&seq);
  if (s == nullptr || s->owner() != this)
    return InvalidArgument("sequence was not created by this model");
  LUMEN_CUDA_CHECK(cudaSetDevice(gpu_));
  const int n = static_cast<int>(tokens.size()), p0 = seq.length();
  auto fill = [&](int from, int count) {
    for (int i = 0; i < count; ++i) {
      staging_tokens_.as<int>()[i] = tokens[static_cast<std::size_t>(from + i)];
      staging_slots_.as<TokenSlot>()[i] =
          TokenSlot{s->k.get(), s->v.get(), p0 + from + i, seq.capacity()};
    }
  };
  if (n <= kMaxBatch) {
    fill(0, n);
    LUMEN_RETURN_IF_ERROR(Step(n, true));
  } else {
    int count = 0;
    for (int done = 0; done < n; done += count) {
      count = std::min(kPrefillChunk, n - done);
      fill(done, count);
      LUMEN_RETURN_IF_ERROR(EnqueueUpload(count));
      LUMEN_RETURN_IF_ERROR(EnqueueLayers(count, KvBucket(p0 + done + count)));
      if (done + count == n) {
        LUMEN_RETURN_IF_ERROR(EnqueueHead(count - 1, 1));
        LUMEN_CUDA_CHECK(
            cudaMemcpyAsync(host_logits_.as<float>(), logits_.get(),
                            static_cast<std::size_t>(config_.vocab_size) * sizeof(float),
                            cudaMemcpyDeviceToHost, dev_.stream));
      }
      LUMEN_RETURN_IF_ERROR(Sync());  // the staging buffers are reused by the next chunk
    }
  }
  std::memcpy(logits.data(), host_logits_.as<float>(), logits.size() * sizeof(float));
  for (float v : logits) {
    if (!std::isfinite(v))
      return Internal("the model produced a non-finite logit (overflow in the weights?)");
  }
  Advance(seq, n);
  return Status::Ok();
}

Status CudaQwen3::DecodeGreedy(std::span<SequenceState* const> seqs, std::span<const int> tokens,
                               std::span<int> next) {
  const std::size_t n = seqs.size();
  if (n == 0 || n > static_cast<std::size_t>(kMaxBatch) || tokens.size() != n || next.size() != n) {
    return InvalidArgument(
        "DecodeGreedy takes 1 to 8 sequences with one token and one output each");
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto* s = dynamic_cast<CudaSequence*>(seqs[i]);
    if (s == nullptr || s->owner() != this)
      return InvalidArgument("sequence was not created by this model");
    for (std::size_t j = 0; j < i; ++j) {
      if (seqs[j] == seqs[i]) return InvalidArgument("a sequence appears twice in one decode step");
    }
    if (s->length() >= s->capacity()) {
      return ResourceExhausted("context full: sequence " + std::to_string(i) + " holds " +
                               std::to_string(s->capacity()) + " tokens");
    }
    if (tokens[i] < 0 || tokens[i] >= config_.vocab_size) {
      return InvalidArgument("token id " + std::to_string(tokens[i]) +
                             " is outside the vocabulary");
    }
    staging_tokens_.as<int>()[i] = tokens[i];
    staging_slots_.as<TokenSlot>()[i] =
        TokenSlot{s->k.get(), s->v.get(), s->length(), s->capacity()};
  }
  LUMEN_CUDA_CHECK(cudaSetDevice(gpu_));
  LUMEN_RETURN_IF_ERROR(Step(static_cast<int>(n), false));
  for (std::size_t i = 0; i < n; ++i) {
    next[i] = host_ids_.as<int>()[i];
    if (next[i] < 0)
      return Internal("the model produced a non-finite logit (overflow in the weights?)");
  }
  for (SequenceState* s : seqs) Advance(*s, 1);
  return Status::Ok();
}

Status CudaQwen3::PoisonActivations() {
  LUMEN_CUDA_CHECK(cudaSetDevice(gpu_));
  for (DeviceBuffer* b : {&h_, &xn_, &q_, &k_, &v_, &attn_, &router_logits_, &expert_w_, &gate_,
                          &up_, &eout_, &logits_, &partial_}) {
    LUMEN_RETURN_IF_ERROR(FillNaN(dev_, b->as<float>(), b->bytes() / sizeof(float)));
  }
  std::fill_n(host_logits_.as<float>(), config_.vocab_size, std::nanf(""));
  return Sync();
}

}  // namespace

Result<std::unique_ptr<CudaCausalLM>> LoadQwen3Cuda(Checkpoint checkpoint,
                                                    const ModelConfig& config,
                                                    const EngineOptions& options, int gpu) {
  auto model = std::make_unique<CudaQwen3>(std::move(checkpoint), config, options, gpu);
  LUMEN_RETURN_IF_ERROR(model->Load());
  return std::unique_ptr<CudaCausalLM>(std::move(model));
}

Result<std::unique_ptr<CudaCausalLM>> LoadCudaCausalLM(const std::string& dir,
                                                       const EngineOptions& options, int gpu) {
  LUMEN_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir));
  LUMEN_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(dir, /*populate=*/false));
  Result<std::unique_ptr<CudaCausalLM>> m =
      LoadQwen3Cuda(std::move(checkpoint), config, options, gpu);
  if (!m.ok()) return m.status().WithContext(dir);
  return m;
}

}  // namespace lumen::llm::cuda
