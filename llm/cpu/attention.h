// Causal grouped-query attention over a KV cache.
#pragma once

#include <cstddef>

#include "llm/cpu/context.h"
#include "llm/kv_cache.h"

namespace lumen::llm::cpu {

// For each of `n` new tokens at positions p0 .. p0+n-1 (whose keys and values are already in
// `cache`) and each of `heads` query heads: softmax(q · Kᵀ × scale) · V over positions ≤ its own,
// with query head h reading kv head h / (heads / kv_heads). q and out are [n, heads, head_dim].
void Attention(const CpuContext& ctx, const KvCache& cache, int layer, const float* q,
               std::size_t n, std::size_t p0, int heads, float scale, float* out);

}  // namespace lumen::llm::cpu
