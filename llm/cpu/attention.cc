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
  if (simd.scores_bf16 != nullptr && simd.mix_bf16 != nullptr && hd % 16 == 0 &&
      cache.dtype() == KvDType::kBF16) {
    // One task per token and kv head: the cached keys and values are converted once for the
    // (up to 8 at a time) query heads that share them.
    const std::size_t kv_heads = static_cast<std::size_t>(cache.kv_heads());
    const std::size_t g = static_cast<std::size_t>(group);
    ctx.ParallelFor(n * kv_heads, [&](std::size_t task) {
      const std::size_t t = task / kv_heads;
      const int kvh = static_cast<int>(task % kv_heads);
      const std::uint16_t* keys = cache.Keys(layer, kvh).bf16;
      const std::uint16_t* values = cache.Values(layer, kvh).bf16;
      const std::size_t len = p0 + t + 1;
      thread_local std::vector<float> scores;
      scores.resize(8 * len);
      for (std::size_t i0 = 0; i0 < g; i0 += 8) {
        const std::size_t nq = std::min<std::size_t>(8, g - i0);
        const std::size_t h0 = static_cast<std::size_t>(kvh) * g + i0;
        const float* qh = q + (t * static_cast<std::size_t>(heads) + h0) * hd;
        simd.scores_bf16(qh, hd, nq, keys, stride, len, hd, scores.data(), len);
        for (std::size_t i = 0; i < nq; ++i) simd.softmax(scores.data() + i * len, len, scale);
        float* o = out + (t * static_cast<std::size_t>(heads) + h0) * hd;
        simd.mix_bf16(scores.data(), len, nq, values, stride, len, hd, o, hd);
      }
    });
    return;
  }
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
        simd.dot_bf16_rows4(keys.bf16 + s * stride, stride, 4 * stride, qv, hd, scores.data() + s);
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
