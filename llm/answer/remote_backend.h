// RemoteBackend: a ModelBackend over an OpenAI-compatible `POST {base_url}/v1/chat/completions`
// with server-sent-event streaming — how Lumen uses vLLM or SGLang serving DeepSeek-V3 or
// Qwen3-235B FP8 across GPUs when one machine is not enough.
//
// Retries: connection failures, HTTP 429 and 5xx are retried with exponential backoff (honouring
// Retry-After up to the deadline) — but only before the first token has arrived; a stream that
// breaks midway fails with kUnavailable and keeps nothing. HTTP 4xx other than 429 is not retried
// (kInvalidArgument with the server's error message). Every call is bounded by the request's
// deadline and by `timeout_ms`.
//
// Thread-safe: Generate may be called concurrently (one libcurl easy handle per call).
#pragma once

#include <string>

#include "llm/answer/backend.h"

namespace lumen::answer {

struct RemoteBackendOptions {
  std::string base_url;  // e.g. "http://127.0.0.1:8000" (a trailing "/v1" is accepted)
  std::string model;     // the "model" field sent
  std::string api_key;   // sent as "Authorization: Bearer ..." when not empty
  int connect_timeout_ms = 2000;
  int timeout_ms = 60000;  // whole call, also bounded by the request deadline
  int max_retries = 2;
  int initial_backoff_ms = 200;
};

class RemoteBackend final : public ModelBackend {
 public:
  explicit RemoteBackend(RemoteBackendOptions options);
  Result<GenerateResult> Generate(const GenerateRequest& request) override;
  std::string name() const override;

  // The endpoint URL calls go to.
  const std::string& endpoint() const { return endpoint_; }

 private:
  RemoteBackendOptions options_;
  std::string endpoint_;
};

}  // namespace lumen::answer
