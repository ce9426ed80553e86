#include "llm/answer/remote_backend.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

namespace lumen::answer {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// State of one streaming call, shared with libcurl's write callback.
struct Stream {
  const GenerateRequest* request = nullptr;
  Clock::time_point t0;
  std::string pending;  // bytes not yet split into lines
  std::string body;     // the whole body, kept (bounded) for error messages and non-SSE replies
  GenerateResult result;
  bool first_token = false;
  bool cancelled = false;
  bool done = false;
  std::string error;  // an error object inside the stream
};

constexpr std::size_t kMaxBody = 8u << 20;

void HandleEvent(Stream& s, std::string_view data) {
  if (data == "[DONE]") {
    s.done = true;
    return;
  }
  Json event = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.is_object()) return;
  if (event.contains("error")) {
    const Json& e = event["error"];
    s.error = e.is_object() && e.contains("message") && e["message"].is_string()
                  ? e["message"].get<std::string>()
                  : e.dump();
    return;
  }
  if (event.contains("usage") && event["usage"].is_object()) {
    const Json& u = event["usage"];
    if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) {
      s.result.prompt_tokens = u["prompt_tokens"].get<int>();
    }
    if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer()) {
      s.result.completion_tokens = u["completion_tokens"].get<int>();
    }
  }
  if (!event.contains("choices") || !event["choices"].is_array() || event["choices"].empty()) {
    return;
  }
  const Json& choice = event["choices"][0];
  if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
    s.result.finish_reason = choice["finish_reason"].get<std::string>();
  }
  if (!choice.contains("delta") || !choice["delta"].is_object()) return;
  const Json& delta = choice["delta"];
  if (!delta.contains("content") || !delta["content"].is_string()) return;
  const std::string piece = delta["content"].get<std::string>();
  if (piece.empty()) return;
  if (!s.first_token) {
    s.first_token = true;
    s.result.time_to_first_token_ms = MsSince(s.t0);
  }
  s.result.text += piece;
  if (s.request->on_delta && !s.request->on_delta(piece)) s.cancelled = true;
}

std::size_t OnData(char* ptr, std::size_t size, std::size_t n, void* user) {
  Stream& s = *static_cast<Stream*>(user);
  const std::size_t bytes = size * n;
  if (s.body.size() < kMaxBody) s.body.append(ptr, std::min(bytes, kMaxBody - s.body.size()));
  s.pending.append(ptr, bytes);
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = s.pending.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(s.pending.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("data:", 0) == 0) {
      std::string_view data = line.substr(5);
      while (!data.empty() && data.front() == ' ') data.remove_prefix(1);
      HandleEvent(s, data);
    }
    start = nl + 1;
  }
  s.pending.erase(0, start);
  if (s.pending.size() > kMaxBody) return 0;  // a line longer than any event: give up
  return s.cancelled ? 0 : bytes;             // returning less than `bytes` aborts the transfer
}

// Retry-After in seconds (integer form only), or -1.
long RetryAfterSeconds(CURL* curl) {
  curl_header* h = nullptr;
  if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == nullptr) {
    return -1;
  }
  char* end = nullptr;
  const long v = std::strtol(h->value, &end, 10);
  return end != h->value && v >= 0 ? v : -1;
}

std::string ServerMessage(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      return e["message"].get<std::string>();
    }
    if (e.is_string()) return e.get<std::string>();
  }
  return body.substr(0, 200);
}

}  // namespace

RemoteBackend::RemoteBackend(RemoteBackendOptions options) : options_(std::move(options)) {
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0)
    base.resize(base.size() - 3);
  endpoint_ = base + "/v1/chat/completions";
}

std::string RemoteBackend::name() const {
  return "remote " + endpoint_ + " model=" + options_.model;
}

Result<GenerateResult> RemoteBackend::Generate(const GenerateRequest& request) {
  if (request.messages.empty()) return InvalidArgument("no messages to send");
  Json body = {{"model", options_.model},          {"stream", true},
               {"max_tokens", request.max_tokens}, {"temperature", request.temperature},
               {"top_p", request.top_p},           {"messages", Json::array()}};
  for (const llm::ChatMessage& m : request.messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  const std::string payload = body.dump();
  const Deadline deadline = request.deadline.Min(Deadline::AfterMs(options_.timeout_ms));
  const Clock::time_point t0 = Clock::now();

  int backoff_ms = options_.initial_backoff_ms;
  Status last;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    if (deadline.expired()) break;
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return Internal("curl_easy_init failed");
    std::unique_ptr<curl_slist, SlistDeleter> headers(
        curl_slist_append(nullptr, "Content-Type: application/json"));
    headers.reset(curl_slist_append(headers.release(), "Accept: text/event-stream"));
    if (!options_.api_key.empty()) {
      headers.reset(curl_slist_append(headers.release(),
                                      ("Authorization: Bearer " + options_.api_key).c_str()));
    }
    Stream s;
    s.request = &request;
    s.t0 = t0;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, endpoint_.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnData);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(
        c, CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::max<long long>(
            1, std::min<long long>(options_.connect_timeout_ms, deadline.remaining_ms()))));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, deadline.remaining_ms())));
    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

    if (s.cancelled) {
      s.result.finish_reason = "cancelled";
      s.result.total_ms = MsSince(t0);
      return s.result;
    }
    if (rc == CURLE_OK && status == 200) {
      if (!s.error.empty()) return Unavailable("model server reported an error: " + s.error);
      if (!s.first_token && !s.done && s.result.text.empty()) {
        // Not a stream: some servers ignore "stream": a plain JSON completion.
        Json j = Json::parse(s.body, nullptr, false);
        if (!j.is_discarded() && j.contains("choices") && j["choices"].is_array() &&
            !j["choices"].empty() && j["choices"][0].contains("message")) {
          const Json& msg = j["choices"][0]["message"];
          if (msg.contains("content") && msg["content"].is_string()) {
            s.result.text = msg["content"].get<std::string>();
            s.result.time_to_first_token_ms = MsSince(t0);
            if (request.on_delta) request.on_delta(s.result.text);
          }
        } else {
          return Unavailable("model server answered 200 without a completion");
        }
      }
      if (s.result.finish_reason.empty()) s.result.finish_reason = "stop";
      s.result.total_ms = MsSince(t0);
      return s.result;
    }
    if (s.first_token) {
      return Unavailable(
          "stream from " + endpoint_ + " broke after the first token: " +
          (rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status)));
    }
    long wait_ms = backoff_ms;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      last = DeadlineExceeded("model server " + endpoint_ + " did not answer in time");
    } else if (rc != CURLE_OK) {
      last = Unavailable("cannot reach model server " + endpoint_ + ": " + curl_easy_strerror(rc));
    } else if (status == 429 || status >= 500) {
      last = Unavailable("model server " + endpoint_ + " answered HTTP " + std::to_string(status) +
                         ": " + ServerMessage(s.body));
      const long after = RetryAfterSeconds(c);
      if (after >= 0) wait_ms = after * 1000;
    } else {
      return InvalidArgument("model server " + endpoint_ + " refused the request (HTTP " +
                             std::to_string(status) + "): " + ServerMessage(s.body));
    }
    if (attempt == options_.max_retries) break;
    if (wait_ms >= deadline.remaining_ms()) break;  // no time left to wait and try again
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    backoff_ms *= 2;
  }
  if (last.ok()) return DeadlineExceeded("no time left to call " + endpoint_);
  return last;
}

}  // namespace lumen::answer
