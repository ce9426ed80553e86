#include "llm/kv_cache.h"

#include <new>

#include "llm/weights.h"

namespace lumen::llm {

std::size_t KvCache::BytesFor(int layers, int capacity, int kv_heads, int head_dim, KvDType dtype) {
  return 2 * static_cast<std::size_t>(layers) * static_cast<std::size_t>(capacity) *
         static_cast<std::size_t>(kv_heads) * static_cast<std::size_t>(head_dim) *
         (dtype == KvDType::kF32 ? 4 : 2);
}

KvCache::KvCache(int layers, int capacity, int kv_heads, int head_dim, KvDType dtype)
    : SequenceState(capacity),
      layers_(layers),
      kv_heads_(kv_heads),
      head_dim_(head_dim),
      dtype_(dtype) {}

Result<std::unique_ptr<KvCache>> KvCache::Create(int layers, int capacity, int kv_heads,
                                                 int head_dim, KvDType dtype) {
  if (layers < 1 || capacity < 1 || kv_heads < 1 || head_dim < 1) {
    return InvalidArgument("KV cache sizes must be positive");
  }
  const std::size_t n = static_cast<std::size_t>(layers) * static_cast<std::size_t>(capacity) *
                        static_cast<std::size_t>(kv_heads) * static_cast<std::size_t>(head_dim);
  std::unique_ptr<KvCache> c(new KvCache(layers, capacity, kv_heads, head_dim, dtype));
  try {
    if (dtype == KvDType::kF32) {
      c->k32_.resize(n);
      c->v32_.resize(n);
    } else {
      c->k16_.resize(n);
      c->v16_.resize(n);
    }
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(
        "KV cache for " + std::to_string(capacity) + " tokens needs " +
        std::to_string(BytesFor(layers, capacity, kv_heads, head_dim, dtype) >> 20) +
        " MiB, which could not be allocated");
  }
  return c;
}

std::size_t KvCache::Offset(int layer, int pos, int head) const {
  return ((static_cast<std::size_t>(layer) * static_cast<std::size_t>(capacity()) +
           static_cast<std::size_t>(pos)) *
              static_cast<std::size_t>(kv_heads_) +
          static_cast<std::size_t>(head)) *
         static_cast<std::size_t>(head_dim_);
}

void KvCache::Store(int layer, int pos, const float* k, const float* v) {
  const std::size_t off = Offset(layer, pos, 0);
  const std::size_t n = static_cast<std::size_t>(kv_heads_) * static_cast<std::size_t>(head_dim_);
  if (dtype_ == KvDType::kF32) {
    for (std::size_t i = 0; i < n; ++i) {
      k32_[off + i] = k[i];
      v32_[off + i] = v[i];
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      k16_[off + i] = FloatToBf16(k[i]);
      v16_[off + i] = FloatToBf16(v[i]);
    }
  }
}

KvCache::Rows KvCache::Keys(int layer, int head) const {
  const std::size_t off = Offset(layer, 0, head);
  if (dtype_ == KvDType::kF32) return {.f32 = k32_.data() + off};
  return {.bf16 = k16_.data() + off};
}

KvCache::Rows KvCache::Values(int layer, int head) const {
  const std::size_t off = Offset(layer, 0, head);
  if (dtype_ == KvDType::kF32) return {.f32 = v32_.data() + off};
  return {.bf16 = v16_.data() + off};
}

}  // namespace lumen::llm
