// Qwen3-MoE and dense Qwen3 on one CUDA GPU: the same CausalLM contract as the CPU engine
// (llm/qwen3_moe.h), computed on the device.
//
// Residency: every weight is uploaded once at load with cudaMalloc (FP8 stays FP8, with its
// fp32 block-scale grid; BF16 stays BF16; F16 is widened to F32); each sequence's KV cache lives
// on the device. Per token all work runs on the GPU and one host round trip remains: the token
// ids and cache positions go up, the next-token logits (Forward) or greedy ids (DecodeGreedy)
// come back. Steps of up to 8 tokens replay a CUDA graph captured per (batch, KV-length bucket)
// (llm/cuda/plan/launch_plan.h); longer inputs (prefill) run eagerly in chunks of 512 tokens.
//
// Threading: as CausalLM (one call at a time per model). The model uses the GPU chosen at load
// on every call, whichever thread makes it.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "llm/causal_lm.h"
#include "llm/safetensors.h"

namespace lumen::llm::cuda {

class CudaCausalLM : public CausalLM {
 public:
  // Most sequences DecodeGreedy takes at once.
  static constexpr int kMaxBatch = 8;

  // One greedy step for up to kMaxBatch distinct sequences of this model, one token each:
  // processes tokens[i] after seqs[i] and writes the argmax of its next-token logits (ties: the
  // lower id) to next[i]. Only the ids cross to the host. Errors (no sequence changed): sizes
  // that differ or exceed kMaxBatch, a sequence twice or from another model, a full sequence, an
  // id outside the vocabulary, non-finite logits.
  virtual Status DecodeGreedy(std::span<SequenceState* const> seqs, std::span<const int> tokens,
                              std::span<int> next) = 0;

  // Fills the device activation and logits buffers with NaN, so a test sees any value a later
  // call fails to write.
  virtual Status PoisonActivations() = 0;
};

// Builds the model over an opened checkpoint on CUDA device `gpu`. Errors: those of the CPU
// loader (missing or malformed tensors), a shape the kernels do not support (attention groups
// above 16 query heads per kv head, more than 1024 experts or top-k above 32, odd head_dim),
// and CUDA errors (out of device memory: kResourceExhausted).
Result<std::unique_ptr<CudaCausalLM>> LoadQwen3Cuda(Checkpoint checkpoint,
                                                    const ModelConfig& config,
                                                    const EngineOptions& options, int gpu);

// Opens `dir` and loads it on CUDA device `gpu` (tests and benchmarks that need DecodeGreedy).
Result<std::unique_ptr<CudaCausalLM>> LoadCudaCausalLM(const std::string& dir,
                                                       const EngineOptions& options, int gpu);

}  // namespace lumen::llm::cuda
