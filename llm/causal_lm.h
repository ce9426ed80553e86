// The forward interface every model implementation offers (the CPU engine today; a CUDA
// backend later implements the same two calls), and the loader that picks one for a folder.
//
//   LUMEN_ASSIGN_OR_RETURN(auto model, LoadCausalLM(dir, options));
//   LUMEN_ASSIGN_OR_RETURN(auto seq, model->NewSequence(prompt.size() + max_tokens));
//   std::vector<float> logits(model->config().vocab_size);
//   LUMEN_RETURN_IF_ERROR(model->Forward(*seq, prompt, logits));   // prefill
//   LUMEN_RETURN_IF_ERROR(model->Forward(*seq, {&next, 1}, logits)); // one decode step
//
// Threading: a CausalLM may be shared, but Forward calls must not run concurrently on one model
// (it uses its worker threads for each call). A SequenceState belongs to one caller.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "llm/model_config.h"

namespace lumen::llm {

// What a backend keeps per sequence (its KV cache). Created by CausalLM::NewSequence.
class SequenceState {
 public:
  virtual ~SequenceState() = default;
  int length() const { return length_; }      // tokens already processed
  int capacity() const { return capacity_; }  // most tokens it can hold
  // Forgets tokens after the first `n` (n ≤ length), e.g. to reuse a shared prompt prefix.
  void Truncate(int n) {
    if (n < length_) length_ = n < 0 ? 0 : n;
  }

 protected:
  explicit SequenceState(int capacity) : capacity_(capacity) {}
  void Advance(int n) { length_ += n; }
  friend class CausalLM;

 private:
  int length_ = 0;
  int capacity_ = 0;
};

enum class KvDType { kF32, kBF16 };

struct EngineOptions {
  int threads = 0;           // 0: one per hardware thread
  std::string isa = "auto";  // auto, avx512, avx2, scalar
  KvDType kv_dtype = KvDType::kBF16;
  bool verify_weights = true;  // scan weights for NaN/inf at load
  // cpu, cuda (an error when this build or machine has no usable GPU) or auto (the GPU when
  // there is one, else the CPU); see llm/cuda/plan/backend_choice.h.
  std::string device = "cpu";
  // CUDA: kernels launched with programmatic dependent launch on GPUs that have it (Hopper
  // and later); off serialises every kernel after the previous one (for comparisons).
  bool cuda_pdl = true;
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;

  virtual const ModelConfig& config() const = 0;
  // "cpu/avx512 × 16 threads" and the like.
  virtual std::string backend() const = 0;

  // An empty sequence able to hold `capacity` tokens. Errors: capacity < 1 or beyond
  // max_position_embeddings, or the cache does not fit in memory.
  virtual Result<std::unique_ptr<SequenceState>> NewSequence(int capacity) const = 0;

  // Processes `tokens` (at least one) after the sequence's current tokens, appends them to it,
  // and writes the next-token logits of the last one into `logits` (vocab_size floats).
  // Errors (the sequence is then unchanged): empty input, an id outside the vocabulary, more
  // tokens than the sequence has room for, a logits span of the wrong size, non-finite logits.
  virtual Status Forward(SequenceState& seq, std::span<const int> tokens,
                         std::span<float> logits) = 0;

 protected:
  static void Advance(SequenceState& seq, int n) { seq.Advance(n); }
  // Checks the arguments of Forward as documented above.
  Status CheckForward(const SequenceState& seq, std::span<const int> tokens,
                      std::span<float> logits) const;
};

// Loads the model in `dir` (config.json, safetensors) on the backend options.device selects
// (the CPU engine, or the CUDA engine of llm/cuda/qwen3_cuda.h).
Result<std::unique_ptr<CausalLM>> LoadCausalLM(const std::string& dir,
                                               const EngineOptions& options);

}  // namespace lumen::llm
