// Choosing the next token from logits: greedy, or sampling with temperature, top-k, top-p
// (nucleus), min-p and a repetition penalty, from a seeded generator (same seed, same logits,
// same choices). Not thread-safe (holds the random state); one Sampler per sequence.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/status.h"

namespace lumen::llm {

struct SamplingParams {
  double temperature = 0.0;         // 0: greedy (argmax, lowest id on ties)
  int top_k = 0;                    // 0: off
  double top_p = 1.0;               // 1: off
  double min_p = 0.0;               // 0: off; else drop tokens below min_p × p(best)
  double repetition_penalty = 1.0;  // 1: off; > 1 discourages tokens already seen (as in HF)
  std::uint64_t seed = 0;

  // InvalidArgument for temperature < 0, top_p outside (0, 1], min_p outside [0, 1], top_k < 0,
  // repetition_penalty ≤ 0, or any NaN.
  Status Validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

  // The next token id. `logits` is modified (penalty, temperature); `seen` are the ids the
  // penalty applies to (prompt and generated so far).
  int Sample(std::span<float> logits, std::span<const int> seen);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<int> order_;
  std::vector<double> probs_;
};

}  // namespace lumen::llm
