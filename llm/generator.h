// Text generation over token ids: prefill the prompt in one Forward call, then decode one token
// at a time with a Sampler until a stop id, max_tokens, or the end of the context.
// Not thread-safe: one Generate call at a time per model (see causal_lm.h).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "llm/causal_lm.h"
#include "llm/sampler.h"

namespace lumen::llm {

struct GenerationOptions {
  int max_tokens = 256;       // must be >= 1
  int context_length = 4096;  // prompt + generated tokens never exceed it (nor the model's limit)
  SamplingParams sampling;
  std::vector<int> stop_ids;  // e.g. generation_config.json's eos_token_id
  // Called before each token is chosen with the ids generated so far and the next-token logits,
  // which it may change — e.g. set to -infinity for tokens that must not come next (citation-
  // constrained decoding, llm/answer/citation_mask.h). It must leave at least one token finite
  // (Generate fails with kInternal otherwise). Empty: the logits are sampled as they are.
  std::function<void(std::span<const int> generated, std::span<float> logits)> logit_processor;
};

struct GenerationResult {
  std::vector<int> tokens;  // generated ids, without the stop id
  std::string stop_reason;  // "stop" (a stop id), "length" (max_tokens), "context", "caller"
  int prompt_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;  // for tokens after the first

  double prefill_tokens_per_second() const;
  double decode_tokens_per_second() const;
};

// Generates after `prompt`. `on_token` (may be empty) sees each generated id as it is chosen
// (stop ids are not passed) and may return false to stop. Errors: empty prompt, max_tokens < 1,
// a prompt that does not leave room for one token in the context, invalid sampling parameters,
// and any Forward error.
Result<GenerationResult> Generate(CausalLM& model, std::span<const int> prompt,
                                  const GenerationOptions& options,
                                  const std::function<bool(int)>& on_token = {});

}  // namespace lumen::llm
