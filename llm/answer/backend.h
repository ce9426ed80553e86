// ModelBackend: where generated answers come from — the local engine (CPU or CUDA) or a remote
// OpenAI-compatible server (vLLM, SGLang, llama.cpp server, Ollama). One interface, streaming.
//
// Thread-safety: implementations say whether one backend may serve concurrent calls; the remote
// backend may (each call has its own connection).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.h"
#include "core/status.h"
#include "llm/chat_template.h"

namespace lumen::answer {

struct GenerateRequest {
  std::vector<llm::ChatMessage> messages;
  int max_tokens = 512;
  double temperature = 0.2;
  double top_p = 0.95;
  // Number of sources: a backend that can constrain decoding lets citation markers name only
  // [1]..[num_sources]; 0 means no constraint.
  int num_sources = 0;
  Deadline deadline = Deadline::Infinite();
  // Called with each piece of text as it arrives; returning false cancels generation (the call
  // then returns what was generated so far with kDeadlineExceeded... see GenerateResult).
  std::function<bool(std::string_view delta)> on_delta;
};

struct GenerateResult {
  std::string text;           // everything generated
  std::string finish_reason;  // "stop", "length", "cancelled"
  int prompt_tokens = 0;      // when the backend reports them
  int completion_tokens = 0;
  double time_to_first_token_ms = 0;
  double total_ms = 0;
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  // Generates a reply to `request.messages`. Errors: kUnavailable (cannot reach or load the
  // model, after retries), kDeadlineExceeded (out of time before or while generating),
  // kInvalidArgument (the request is malformed, e.g. a prompt longer than the context).
  virtual Result<GenerateResult> Generate(const GenerateRequest& request) = 0;
  // A short description for logs and responses ("remote http://host:8000 model=qwen3").
  virtual std::string name() const = 0;
};

}  // namespace lumen::answer
