#include "llm/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lumen::llm::cpu {

void Attention(const CpuContext& ctx, const KvCache& cache, int layer, const float* q,
               std::size_t n, std::size_t p0, int heads, float scale, float* out) {
  const std::size_t hd = static_cast<std::size_t>(cache.head_dim());
  const int group = heads / cache.kv_heads();
  const SimdKernels& simd = *ctx.simd;
  ctx.ParallelFor(n * static_cast<std::size_t>(heads), [&](std::size_t task) {
    const std::size_t t = task / static_cast<std::size_t>(heads);
    const int h = static_cast<int>(task % static_cast<std::size_t>(heads));
    const int kvh = h / group;
    const std::size_t len = p0 + t + 1;
    thread_local std::vector<float> scores, scratch;
    scores.resize(len);
    scratch.resize(hd);
    const float* qv = q + (t * static_cast<std::size_t>(heads) + static_cast<std::size_t>(h)) * hd;
    float max = -INFINITY;
    for (std::size_t s = 0; s < len; ++s) {
      const float* k = cache.Key(layer, static_cast<int>(s), kvh, scratch.data());
      scores[s] = simd.dot(qv, k, hd) * scale;
      max = std::max(max, scores[s]);
    }
    float sum = 0.0f;
    for (std::size_t s = 0; s < len; ++s) sum += scores[s] = std::exp(scores[s] - max);
    const float inv = 1.0f / sum;
    float* o = out + (t * static_cast<std::size_t>(heads) + static_cast<std::size_t>(h)) * hd;
    std::fill(o, o + hd, 0.0f);
    for (std::size_t s = 0; s < len; ++s) {
      const float* v = cache.Value(layer, static_cast<int>(s), kvh, scratch.data());
      simd.axpy(scores[s] * inv, v, o, hd);
    }
  });
}

}  // namespace lumen::llm::cpu
