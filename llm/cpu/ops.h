// Element-wise and per-row operations of transformer blocks, on fp32 activations.
// Layouts as in matmul.h: a batch of n tokens is [n, dim] row-major. All functions are
// thread-safe (they touch only their arguments).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "llm/cpu/context.h"

namespace lumen::llm::cpu {

// out[t] = x[t] / sqrt(mean(x[t]²) + eps) ⊙ weight, for `rows` rows of `dim` (out may be x).
void RmsNorm(const SimdKernels& simd, const float* x, const float* weight, std::size_t rows,
             std::size_t dim, double eps, float* out);

// Rotary position embedding tables for positions p0 .. p0+n-1: cos/sin [n, head_dim / 2] with
// angle p · theta^(-2i / head_dim), computed in double.
struct RopeTable {
  std::size_t half = 0;
  std::vector<float> cos, sin;
};
RopeTable MakeRopeTable(std::size_t p0, std::size_t n, std::size_t head_dim, double theta);

// Rotates every head of x ([n, heads, head_dim]) in place, NeoX style ("rotate half": element i
// pairs with i + head_dim/2), token t using row t of the table.
void ApplyRope(const RopeTable& rope, float* x, std::size_t n, std::size_t heads,
               std::size_t head_dim);

// gate[i] = silu(gate[i]) · up[i] for n values (silu(z) = z / (1 + e^-z)).
void SwiGlu(float* gate, const float* up, std::size_t n);

// The experts chosen for one token and their mixing weights.
struct ExpertChoice {
  int expert;
  float weight;
};

// Qwen3-MoE routing for one token: softmax over all `logits` in fp32, the top `k` (ties: lower
// index first), renormalised to sum to 1 when `normalize`.
void RouteTopK(std::span<const float> logits, int k, bool normalize,
               std::vector<ExpertChoice>& out);

}  // namespace lumen::llm::cpu
