// The CPU backend's per-sequence state: keys and values of every layer, for every position so
// far, in fp32 or bf16. Layout per layer: [capacity, kv_heads, head_dim] for K and for V.
// Memory is allocated once, at creation, for the whole capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "llm/causal_lm.h"

namespace lumen::llm {

class KvCache final : public SequenceState {
 public:
  // Errors: sizes < 1, or more memory than can be allocated (kResourceExhausted).
  static Result<std::unique_ptr<KvCache>> Create(int layers, int capacity, int kv_heads,
                                                 int head_dim, KvDType dtype);

  static std::size_t BytesFor(int layers, int capacity, int kv_heads, int head_dim, KvDType dtype);

  KvDType dtype() const { return dtype_; }
  int layers() const { return layers_; }
  int kv_heads() const { return kv_heads_; }
  int head_dim() const { return head_dim_; }

  // Stores keys and values ([kv_heads, head_dim] each) of position `pos` in `layer`.
  void Store(int layer, int pos, const float* k, const float* v);
  // Key / value of (layer, pos, head) as floats: a pointer into the cache (fp32) or into
  // `scratch` (head_dim floats) after conversion (bf16).
  const float* Key(int layer, int pos, int head, float* scratch) const;
  const float* Value(int layer, int pos, int head, float* scratch) const;

 private:
  KvCache(int layers, int capacity, int kv_heads, int head_dim, KvDType dtype);
  std::size_t Offset(int layer, int pos, int head) const;

  int layers_, kv_heads_, head_dim_;
  KvDType dtype_;
  std::vector<float> k32_, v32_;
  std::vector<std::uint16_t> k16_, v16_;
};

}  // namespace lumen::llm
