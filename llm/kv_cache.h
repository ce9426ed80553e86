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
  // The keys (values) of kv head `head` in `layer` as a matrix whose row p, row_stride()
  // elements after row p - 1, holds position p: fp32 when dtype() is kF32, bf16 bits when it is
  // kBF16 (the other pointer is null). Valid while the cache lives; rows at or beyond length()
  // hold nothing meaningful.
  struct Rows {
    const float* f32 = nullptr;
    const std::uint16_t* bf16 = nullptr;
  };
  Rows Keys(int layer, int head) const;
  Rows Values(int layer, int head) const;
  std::size_t row_stride() const {
    return static_cast<std::size_t>(kv_heads_) * static_cast<std::size_t>(head_dim_);
  }

 private:
  KvCache(int layers, int capacity, int kv_heads, int head_dim, KvDType dtype);
  std::size_t Offset(int layer, int pos, int head) const;

  int layers_, kv_heads_, head_dim_;
  KvDType dtype_;
  std::vector<float> k32_, v32_;
  std::vector<std::uint16_t> k16_, v16_;
};

}  // namespace lumen::llm
