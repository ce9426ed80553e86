// The CUDA engine's kernels, behind launch functions that check every launch and return Status.
// The model (qwen3_cuda.cc) strings them together; it never writes <<<...>>> itself.
//
// Layouts (stated once): activations are fp32, a batch of n tokens is [n, dim] row-major;
// weights are [rows = out, cols = in] as in llm/weights.h, so y[t][o] = Σ_i W[o][i] x[t][i];
// FP8 weights carry an fp32 scale grid [ceil(rows / block_rows), ceil(cols / block_cols)] and
// W[o][i] = e4m3(code) × scale[o / block_rows][i / block_cols]. The KV cache of a sequence is
// [layers][capacity][kv_heads][head_dim] for K and for V, in fp32 or bf16.
//
// All functions enqueue work on `stream` and return at once; errors are launch errors (faults
// inside a kernel surface at the caller's next checked synchronisation).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "llm/cuda/plan/launch_plan.h"

namespace lumen::llm::cuda {

// A weight matrix, or a stack of `experts` matrices of one shape, in device memory.
struct DeviceMatrix {
  WeightFormat format = WeightFormat::kF32;
  const void* data = nullptr;     // [experts][rows][cols]
  const float* scales = nullptr;  // FP8: [experts][scale_rows][scale_cols]
  int rows = 0, cols = 0, experts = 1;
  int block_rows = 1, block_cols = 1, scale_rows = 0, scale_cols = 0;
  std::size_t expert_bytes = 0;   // rows × cols × element size (the stride between experts)
  std::size_t expert_scales = 0;  // scale_rows × scale_cols
};

enum class KvFormat { kF32, kBf16 };

// Where token t of a forward pass lives: its sequence's caches and its position.
struct TokenSlot {
  void* k = nullptr;  // the sequence's K cache (layer 0, position 0)
  void* v = nullptr;
  int pos = 0;
  int capacity = 0;
};

// Rows of a grouped (per-expert) product, from a plan (llm/cuda/plan/moe_plan.h).
struct ExpertRows {
  const int* rows = nullptr;         // padded row -> assignment, -1 for padding
  const int* tile_expert = nullptr;  // tile -> expert, -1 unused
  int tile = 8;
  int tiles = 0;     // tile capacity: the grid
  int gather_k = 0;  // > 0: the input of padded row r is token rows[r] / gather_k of x;
                     // 0: the input of padded row r is row r of x
  int vectors = 8;   // GEMV: rows of each tile it reads (the first ones; decode of n tokens
                     // fills at most n, since a token is routed to an expert once)
};

struct Device {
  int sm_count = 1;
  cudaStream_t stream = nullptr;
  bool gemv_shared_allowed = false;  // PrepareKernels() ran
  // Launch kernels with programmatic dependent launch (compute capability 9.0 and above): a
  // kernel starts while the previous one finishes, and a GEMV loads its weights before it waits.
  bool pdl = false;
  // Rows per warp of the vectorized GEMV (1, 2 or 4).
  int gemv_rows_per_warp = GemvLaunch::kRowsPerWarp;
};

// Once per process and GPU, before kernels are enqueued (not during graph capture): raises the
// shared-memory limits the GEMV needs for wide or many input vectors.
Status PrepareKernels(Device& dev);

// y (=|+=) x W^T for n tokens: a GEMV (n ≤ 8, each weight byte read once) or a tiled GEMM.
Status Linear(const Device& dev, const DeviceMatrix& w, const float* x, int n, float* y,
              bool accumulate);
// y[i] = x W[i]^T for `count` (≤ 3) matrices read by the same n ≤ 8 vectors, in one launch when
// they share format, columns and scale-block width (q/k/v, gate/up), else one launch each.
Status LinearSegments(const Device& dev, const DeviceMatrix* w, float* const* y, int count,
                      const float* x, int n);
// y[r] = x_r W_e^T for every padded row r of the plan, e its tile's expert (padding rows: the
// GEMV skips them, the GEMM writes garbage-free zeros-input results). `decode`: GEMV (tile 8).
// `swiglu_up` not null: x_r is replaced by silu(x_r) ⊙ swiglu_up_r (the GEMV applies it as it
// reads x; otherwise x is overwritten with it first).
Status ExpertLinear(const Device& dev, const DeviceMatrix& w, const float* x, const ExpertRows& g,
                    float* y, bool decode, const float* swiglu_up = nullptr);
// ExpertLinear for `count` (≤ 3) expert stacks of one shape on the same rows (gate and up):
// one GEMV launch in the decode form.
Status ExpertLinearSegments(const Device& dev, const DeviceMatrix* w, float* const* y, int count,
                            const float* x, const ExpertRows& g, bool decode);

// h[t] = row ids[t] of the table.
Status Embed(const Device& dev, const DeviceMatrix& table, const int* ids, int n, float* h);
// out[r] = x[r] / sqrt(mean(x[r]²) + eps) ⊙ w (out does not overlap x).
Status RmsNorm(const Device& dev, const float* x, const float* w, int rows, int dim, float eps,
               float* out);
// CombineExperts (with hidden = dim) then RmsNorm of h into out, in one kernel.
Status CombineRmsNorm(const Device& dev, const float* y, const int* slot, const float* weights,
                      int k, float* h, const float* w, int rows, int dim, float eps, float* out);
// Per head of every token: RMSNorm (q_norm / k_norm) then NeoX rotary at the token's position
// (angles pos · inv_freq[i], computed in double); q in place; K (normed, rotated) and V stored
// into the cache at the token's slot.
Status QkNormRopeStore(const Device& dev, float* q, const float* k, const float* v,
                       const float* q_norm, const float* k_norm, const double* inv_freq,
                       const TokenSlot* slots, int layer, int n, int heads, int kv_heads,
                       int head_dim, float eps, KvFormat kv);
// Causal attention of every token over its sequence's cache (positions 0..pos), split over
// the KV length as `plan` says, then combined. `partial` holds n·heads·splits·(head_dim + 2)
// floats.
Status Attention(const Device& dev, const float* q, const TokenSlot* slots, int layer, int n,
                 int heads, int kv_heads, int head_dim, float scale, KvFormat kv,
                 const AttentionLaunch& plan, float* partial, float* out);
// Softmax over `experts` router logits per token (fp32), top-k (ties: lower index), weights
// renormalised when `normalize`. experts ≤ 1024, k ≤ 32.
Status RouteTopK(const Device& dev, const float* logits, int n, int experts, int k, bool normalize,
                 int* expert_ids, float* weights);
// RouteTopK then PlanExperts in one single-block kernel (decode: a few tokens).
Status RoutePlan(const Device& dev, const float* logits, int n, int experts, int k, bool normalize,
                 int* expert_ids, float* weights, int tile, int tile_capacity, int* rows, int* slot,
                 int* tile_expert);
// The plan of llm/cuda/plan/moe_plan.h on the device (one block; counts and offsets in shared
// memory).
Status PlanExperts(const Device& dev, const int* expert_ids, int assignments, int experts, int tile,
                   int tile_capacity, int* rows, int* slot, int* tile_expert);
// gate[i] = silu(gate[i]) · up[i].
Status SwiGlu(const Device& dev, float* gate, const float* up, std::size_t n);
// h[t] += Σ_j weights[t·k + j] · y[slot[t·k + j]].
Status CombineExperts(const Device& dev, const float* y, const int* slot, const float* weights,
                      int n, int k, int hidden, float* h);
// ids[t] = argmax of logits row t (ties: lower index); -1 when the row has a non-finite value.
Status ArgMax(const Device& dev, const float* logits, int n, int vocab, int* ids);
// Fills n floats with NaN (poisoning outputs in tests and between phases).
Status FillNaN(const Device& dev, float* p, std::size_t n);

}  // namespace lumen::llm::cuda
