#include "llm/answer/local_backend.h"

#include <algorithm>
#include <chrono>

#include "llm/generator.h"
#include "llm/model_config.h"

namespace lumen::answer {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

Result<LocalBackendOptions> LocalBackendOptionsFromConfig(const Config& config) {
  LocalBackendOptions o;
  o.model_dir = Config::ExpandHome(config.GetString("engine.model_dir"));
  if (o.model_dir.empty()) {
    return config.ValueError("engine.model_dir",
                             "must name a model folder when answer.backend is \"local\"");
  }
  const std::int64_t threads = config.GetInt("engine.threads");
  if (threads < 0 || threads > 1024) {
    return config.ValueError("engine.threads", "must be between 0 and 1024");
  }
  o.engine.threads = static_cast<int>(threads);
  o.engine.isa = config.GetString("engine.isa");
  o.engine.device = config.GetString("engine.device");
  if (o.engine.device != "cpu" && o.engine.device != "cuda" && o.engine.device != "auto") {
    return config.ValueError("engine.device", "expected \"cpu\", \"cuda\" or \"auto\"");
  }
  const std::string kv = config.GetString("engine.kv_cache_dtype");
  if (kv == "bf16") {
    o.engine.kv_dtype = llm::KvDType::kBF16;
  } else if (kv == "f32") {
    o.engine.kv_dtype = llm::KvDType::kF32;
  } else {
    return config.ValueError("engine.kv_cache_dtype", "expected \"bf16\" or \"f32\"");
  }
  o.engine.verify_weights = config.GetBool("engine.verify_weights");
  const std::int64_t context = config.GetInt("engine.context_length");
  if (context < 16 || context > 1'000'000) {
    return config.ValueError("engine.context_length", "must be between 16 and 1000000");
  }
  o.context_length = static_cast<int>(context);
  o.constrain_citations = config.GetBool("answer.constrain_citations");
  return o;
}

Result<std::unique_ptr<LocalBackend>> LocalBackend::Open(LocalBackendOptions options) {
  std::unique_ptr<LocalBackend> b(new LocalBackend());
  const std::string& dir = options.model_dir;
  Result<llm::Tokenizer> tokenizer = llm::Tokenizer::Load(dir);
  if (!tokenizer.ok()) return tokenizer.status().WithContext("loading the tokenizer of " + dir);
  b->tokenizer_.emplace(std::move(*tokenizer));
  Result<llm::ChatTemplate> chat = llm::ChatTemplate::Load(dir);
  if (!chat.ok()) return chat.status().WithContext("loading the chat template of " + dir);
  b->chat_.emplace(std::move(*chat));
  Result<llm::GenerationConfig> generation = llm::LoadGenerationConfig(dir);
  if (!generation.ok()) return generation.status().WithContext("loading " + dir);
  b->stop_ids_ = generation->eos_token_ids;
  b->top_k_ = generation->top_k.value_or(0);
  b->min_p_ = generation->min_p.value_or(0.0);
  const int end_of_turn = b->tokenizer_->TokenId(b->chat_->eos_token());
  if (end_of_turn >= 0 &&
      std::find(b->stop_ids_.begin(), b->stop_ids_.end(), end_of_turn) == b->stop_ids_.end()) {
    b->stop_ids_.push_back(end_of_turn);
  }
  Result<std::unique_ptr<llm::CausalLM>> model = llm::LoadCausalLM(dir, options.engine);
  if (!model.ok()) return model.status().WithContext("loading the model in " + dir);
  b->model_ = std::move(*model);
  const int vocab = b->model_->config().vocab_size;
  for (const auto& [id, bias] : options.logit_bias) {
    if (id < 0 || id >= vocab) {
      return InvalidArgument("logit bias for token " + std::to_string(id) +
                             ", outside the vocabulary of " + std::to_string(vocab));
    }
  }
  b->citation_vocab_ = CitationVocabulary::Build(*b->tokenizer_, vocab);
  b->options_ = std::move(options);
  return b;
}

std::string LocalBackend::name() const {
  return "local " + options_.model_dir + " (" + model_->backend() + ")";
}

Result<GenerateResult> LocalBackend::Generate(const GenerateRequest& request) {
  const Clock::time_point t0 = Clock::now();
  if (request.max_tokens < 1) return InvalidArgument("max_tokens must be at least 1");
  if (request.deadline.expired()) return DeadlineExceeded("no time left to run the local model");
  LUMEN_ASSIGN_OR_RETURN(
      const std::string prompt_text,
      chat_->Render(request.messages, {.add_generation_prompt = true, .enable_thinking = false}));
  const std::vector<std::int32_t> encoded = tokenizer_->Encode(prompt_text);
  const std::vector<int> prompt(encoded.begin(), encoded.end());

  std::unique_lock<std::timed_mutex> lock(engine_mu_, std::defer_lock);
  if (request.deadline.infinite()) {
    lock.lock();
  } else if (!lock.try_lock_for(request.deadline.remaining())) {
    return DeadlineExceeded("the local model was busy with another answer until the deadline");
  }

  llm::GenerationOptions g;
  g.max_tokens = request.max_tokens;
  g.context_length = options_.context_length;
  g.stop_ids = stop_ids_;
  g.sampling.temperature = request.temperature;
  g.sampling.top_p = request.top_p;
  g.sampling.top_k = top_k_;
  g.sampling.min_p = min_p_;
  g.sampling.seed = options_.seed + calls_++;
  std::optional<CitationMask> mask;
  if (options_.constrain_citations && request.num_sources > 0) {
    mask.emplace(citation_vocab_, request.num_sources);
  }
  if (mask || !options_.logit_bias.empty()) {
    // The mask follows the generated ids through on_token (below), which needs its state to
    // hold back an open marker.
    g.logit_processor = [&](std::span<const int>, std::span<float> logits) {
      for (const auto& [id, bias] : options_.logit_bias) {
        logits[static_cast<std::size_t>(id)] += bias;
      }
      if (mask) mask->MaskLogits(logits);
    };
  }

  GenerateResult out;
  out.prompt_tokens = static_cast<int>(prompt.size());
  llm::Tokenizer::StreamDecoder decoder(*tokenizer_, /*skip_special_tokens=*/true);
  std::size_t emitted = 0;  // bytes of out.text already passed to on_delta
  bool cancelled = false, late = false;
  // Passes on the text up to `end`, marking the first token's time.
  auto flush = [&](std::size_t end) {
    if (end <= emitted) return true;
    if (out.time_to_first_token_ms == 0) out.time_to_first_token_ms = MsSince(t0);
    const std::string_view delta = std::string_view(out.text).substr(emitted, end - emitted);
    emitted = end;
    return !request.on_delta || request.on_delta(delta);
  };
  // Where an open citation marker starts (it is held back until it closes), else the end.
  auto shown_end = [&] {
    if (!mask || !mask->state().inside_marker()) return out.text.size();
    const std::size_t open = out.text.rfind('[');
    return open == std::string::npos ? out.text.size() : open;
  };
  auto on_token = [&](int id) {
    out.text += decoder.Next(id);
    if (mask) mask->Accept(id);
    if (!flush(shown_end())) {
      cancelled = true;
      return false;
    }
    if (request.deadline.expired()) {
      late = true;
      return false;
    }
    return true;
  };
  Result<llm::GenerationResult> r = llm::Generate(*model_, prompt, g, on_token);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kInvalidArgument) return r.status();
    return Unavailable("the local model failed: " + r.status().ToString());
  }
  out.completion_tokens = static_cast<int>(r->tokens.size());
  if (late) {
    return DeadlineExceeded("the local model ran out of time after " +
                            std::to_string(out.completion_tokens) + " tokens");
  }
  if (cancelled) {
    out.finish_reason = "cancelled";
    out.total_ms = MsSince(t0);
    return out;
  }
  out.finish_reason = r->stop_reason == "stop" ? "stop" : "length";
  out.text += decoder.Finish();
  if (mask && mask->state().inside_marker()) {
    out.text.resize(shown_end());  // a marker cut off by max_tokens: dropped
  }
  flush(out.text.size());
  out.total_ms = MsSince(t0);
  if (out.time_to_first_token_ms == 0) out.time_to_first_token_ms = out.total_ms;
  return out;
}

}  // namespace lumen::answer
