#include "llm/cpu/attention.h"

#include <algorithm>
#include <vector>

namespace lumen::llm::cpu {

void Attention(const CpuContext& ctx, const KvCache& cache, int layer, const float* q,
               std::size_t n, std::size_t p0, int heads, float scale, float* out) {
  const std::size_t hd = static_cast<std::size_t>(cache.head_dim());
  const std::size_t stride = cache.row_stride();
  const int group = heads / cache.kv_heads();
  const SimdKernels& simd = *ctx.simd;
  ctx.ParallelFor(n * static_cast<std::size_t>(heads), [&](std::size_t task) {
    const std::size_t t = task / static_cast<std::size_t>(heads);
    const int h = static_cast<int>(task % static_cast<std::size_t>(heads));
    const KvCache::Rows keys = cache.Keys(layer, h / group);
    const KvCache::Rows values = cache.Values(layer, h / group);
    const std::size_t len = p0 + t + 1;
    thread_local std::vector<float> scores, scratch;
    scores.resize(len);
    scratch.resize(hd);
    const float* qv = q + (t * static_cast<std::size_t>(heads) + static_cast<std::size_t>(h)) * hd;
    std::size_t s = 0;
    if (keys.bf16 != nullptr) {
      // Four positions per call, converted in registers (the cache rows are `stride` apart).
      for (; s + 4 <= len; s += 4) {
        simd.dot_bf16_rows4(keys.bf16 + s * stride, stride, qv, hd, scores.data() + s);
      }
      for (; s < len; ++s) {
        simd.decode_bf16(keys.bf16 + s * stride, hd, scratch.data());
        scores[s] = simd.dot(qv, scratch.data(), hd);
      }
    } else {
      for (; s < len; ++s) scores[s] = simd.dot(qv, keys.f32 + s * stride, hd);
    }
    simd.softmax(scores.data(), len, scale);
    float* o = out + (t * static_cast<std::size_t>(heads) + static_cast<std::size_t>(h)) * hd;
    std::fill(o, o + hd, 0.0f);
    if (values.bf16 != nullptr) {
      simd.axpy_bf16_rows(scores.data(), values.bf16, stride, len, hd, o);
    } else {
      for (s = 0; s < len; ++s) simd.axpy(scores[s], values.f32 + s * stride, o, hd);
    }
  });
}

}  // namespace lumen::llm::cpu
