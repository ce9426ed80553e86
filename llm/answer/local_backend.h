// LocalBackend: a ModelBackend over Lumen's own engine (llm/): the model folder is loaded once,
// each request's messages go through the folder's chat template (without thinking) and
// tokenizer, and the answer streams out as UTF-8 text while it is generated.
//
//   LUMEN_ASSIGN_OR_RETURN(auto backend, LocalBackend::Open({.model_dir = dir}));
//   AnswerWriter writer(backend.get());
//
// Streaming: each delta is whole UTF-8 characters (bytes of a character split across tokens are
// held until it completes), and an open citation marker ("[1") is held back until it closes, so
// a reader never sees half a marker; a marker left open when max_tokens runs out is dropped. The
// deltas joined are exactly GenerateResult::text.
//
// Citation-constrained decoding (citation_mask.h) is on whenever the request names its sources
// (num_sources > 0) and `constrain_citations` is set. Stop ids, top-k and min-p are
// generation_config.json's (plus the chat template's end-of-turn token as a stop id); the
// temperature and top-p are the request's.
//
// Errors: Open — whatever loading the model, tokenizer or chat template reports (NotFound,
// Corruption, ...). Generate — kDeadlineExceeded when the deadline passes before or while
// generating (waiting for another generation included); kInvalidArgument for a prompt that
// leaves no room in the context, max_tokens < 1 or bad sampling values; kUnavailable for an
// engine failure. A caller's on_delta returning false ends the call with finish_reason
// "cancelled" and the text so far.
//
// Thread-safety: Generate may be called from many threads; the engine runs one generation at a
// time (the others wait, within their deadlines).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "llm/answer/backend.h"
#include "llm/answer/citation_mask.h"
#include "llm/causal_lm.h"
#include "llm/chat_template.h"
#include "llm/tokenizer.h"

namespace lumen::answer {

struct LocalBackendOptions {
  std::string model_dir;  // Hugging Face layout: config.json, *.safetensors, tokenizer files
  llm::EngineOptions engine;
  int context_length = 4096;  // prompt + answer tokens (capped by the model's limit)
  bool constrain_citations = true;
  // Sampling seed of the first call; each later call uses the next seed (greedy decoding, at
  // temperature 0, does not depend on it).
  std::uint64_t seed = 0;
  // Added to these token ids' logits before sampling (as OpenAI's logit_bias); the citation
  // mask applies after it. Tests use it to make a random model open markers often.
  std::vector<std::pair<int, float>> logit_bias;
};

// engine.model_dir (required, "~/" expanded), engine.device, engine.threads, engine.isa,
// engine.kv_cache_dtype, engine.verify_weights, engine.context_length and
// answer.constrain_citations. InvalidArgument naming the key for a bad value.
Result<LocalBackendOptions> LocalBackendOptionsFromConfig(const Config& config);

class LocalBackend final : public ModelBackend {
 public:
  static Result<std::unique_ptr<LocalBackend>> Open(LocalBackendOptions options);

  Result<GenerateResult> Generate(const GenerateRequest& request) override;
  // "local <model_dir> (cpu/avx512 × 2 threads)".
  std::string name() const override;

  const llm::Tokenizer& tokenizer() const { return *tokenizer_; }
  const llm::CausalLM& model() const { return *model_; }

 private:
  LocalBackend() = default;

  LocalBackendOptions options_;
  std::unique_ptr<llm::CausalLM> model_;
  std::optional<llm::Tokenizer> tokenizer_;
  std::optional<llm::ChatTemplate> chat_;
  std::vector<int> stop_ids_;
  int top_k_ = 0;       // generation_config.json's, 0 = off
  double min_p_ = 0.0;  // generation_config.json's
  std::shared_ptr<const CitationVocabulary> citation_vocab_;
  std::timed_mutex engine_mu_;  // one generation at a time; guards calls_ too
  std::uint64_t calls_ = 0;
};

}  // namespace lumen::answer
