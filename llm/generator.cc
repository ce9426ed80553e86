#include "llm/generator.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace lumen::llm {
namespace {

constexpr float kInfinity = std::numeric_limits<float>::infinity();

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

double GenerationResult::prefill_tokens_per_second() const {
  return prefill_seconds > 0 ? prompt_tokens / prefill_seconds : 0.0;
}

double GenerationResult::decode_tokens_per_second() const {
  const std::size_t steps = tokens.size() > 1 ? tokens.size() - 1 : 0;
  return decode_seconds > 0 ? static_cast<double>(steps) / decode_seconds : 0.0;
}

Result<GenerationResult> Generate(CausalLM& model, std::span<const int> prompt,
                                  const GenerationOptions& options,
                                  const std::function<bool(int)>& on_token) {
  if (prompt.empty()) return InvalidArgument("the prompt is empty");
  if (options.max_tokens < 1) return InvalidArgument("max tokens must be at least 1");
  LUMEN_RETURN_IF_ERROR(options.sampling.Validate());
  const int context = std::min(options.context_length, model.config().max_position_embeddings);
  if (prompt.size() >= static_cast<std::size_t>(context)) {
    return InvalidArgument("the prompt has " + std::to_string(prompt.size()) +
                           " tokens, which leaves no room in the context of " +
                           std::to_string(context) + " tokens");
  }
  const int capacity = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(context),
                            prompt.size() + static_cast<std::size_t>(options.max_tokens)));
  LUMEN_ASSIGN_OR_RETURN(auto seq, model.NewSequence(capacity));

  GenerationResult result;
  result.prompt_tokens = static_cast<int>(prompt.size());
  std::vector<float> logits(static_cast<std::size_t>(model.config().vocab_size));
  std::vector<int> seen(prompt.begin(), prompt.end());
  Sampler sampler(options.sampling);

  auto t0 = std::chrono::steady_clock::now();
  LUMEN_RETURN_IF_ERROR(model.Forward(*seq, prompt, logits));
  auto t1 = std::chrono::steady_clock::now();
  result.prefill_seconds = Seconds(t0, t1);
  for (;;) {
    if (options.logit_processor) options.logit_processor(result.tokens, logits);
    const int next = sampler.Sample(logits, seen);
    if (options.logit_processor && !(logits[static_cast<std::size_t>(next)] > -kInfinity)) {
      return Internal("the logit processor left no token that may come next");
    }
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) !=
        options.stop_ids.end()) {
      result.stop_reason = "stop";
      break;
    }
    result.tokens.push_back(next);
    seen.push_back(next);
    if (on_token && !on_token(next)) {
      result.stop_reason = "caller";
      break;
    }
    if (result.tokens.size() >= static_cast<std::size_t>(options.max_tokens)) {
      result.stop_reason = "length";
      break;
    }
    if (prompt.size() + result.tokens.size() >= static_cast<std::size_t>(context)) {
      result.stop_reason = "context";
      break;
    }
    LUMEN_RETURN_IF_ERROR(model.Forward(*seq, {&next, 1}, logits));
  }
  result.decode_seconds = Seconds(t1, std::chrono::steady_clock::now());
  return result;
}

}  // namespace lumen::llm
