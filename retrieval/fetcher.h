// The fetcher: concurrent HTTP(S) GETs on libcurl's multi interface, for crawling and for live
// retrieval. It is polite (total and per-host connection limits, a delay between requests to one
// host, Retry-After honoured), safe against hostile servers and URLs, and every fetch ends with
// a result that names a reason — never a hang beyond its deadline.
//
// Per request:
//   - URL policy: http/https only; every socket's address is checked by the AddressPolicy
//     (retrieval/address_policy.h) before connecting, including each redirect hop.
//   - Redirects are followed by the fetcher itself (at most max_redirects hops), each hop
//     re-checked; a URL seen twice in one chain is a redirect loop.
//   - Deadlines: connect_timeout_ms per connection; idle_timeout_ms without a byte ("stalled":
//     servers that hang after headers or before them); total_timeout_ms (or the request's own
//     deadline, whichever is earlier) for the whole chain from its first request, time
//     spent queued behind the connection limits not included ("timeout": slow trickles).
//   - Bodies: gzip/deflate/br decoded by libcurl; at most max_body_bytes after decoding, else
//     the transfer is aborted ("too_large"); only text/html, application/xhtml+xml and
//     text/plain are read ("unsupported_content_type" otherwise, unless the request accepts any
//     type); NUL bytes in the first KiB mean "binary_content"; the body is converted to UTF-8
//     (retrieval/charset.h).
//   - 429 and 503 answers: Retry-After (seconds or HTTP date, capped) is returned and the host
//     gets no new request before it has passed.
//
// Reasons (FetchResult::reason): ok, bad_url, blocked_scheme, blocked_address, dns_failed,
// connect_failed, connect_timeout, timeout, stalled, too_large, too_many_redirects,
// redirect_loop, unsupported_content_type, binary_content, tls_error, bad_encoding,
// transfer_error, cancelled, http_<code>.
//
// Threading: a Fetcher is used by one thread at a time (it owns a curl multi handle).
// Different Fetchers may run on different threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/deadline.h"
#include "core/status.h"
#include "retrieval/address_policy.h"

namespace lumen::retrieval {

struct FetcherOptions {
  std::string user_agent = "LumenBot/0.1 (+https://lumen.invalid/bot)";
  int max_connections = 16;      // transfers at once, all hosts together
  int max_per_host = 2;          // transfers at once to one host
  int per_host_delay_ms = 1000;  // between two request starts to one host
  int connect_timeout_ms = 5000;
  int idle_timeout_ms = 10000;
  int total_timeout_ms = 30000;
  std::size_t max_body_bytes = 5 << 20;
  int max_redirects = 5;
  int max_retry_after_s = 3600;
  // Accept-Encoding sent; "" offers every encoding libcurl decodes (gzip, deflate, br, zstd).
  std::string accept_encoding;

  // Reads the `fetch` section of the configuration (configs/lumen.json).
  static Result<FetcherOptions> FromConfig(const Config& config);
};

struct FetchRequest {
  std::string url;
  Deadline deadline = Deadline::Infinite();  // besides total_timeout_ms
  std::uint64_t tag = 0;                     // returned in the result, for the caller
  bool any_content_type = false;             // robots.txt: read whatever type it is served as
  // Body limit for this request (0: the fetcher's max_body_bytes). With keep_truncated, a
  // longer body is cut at the limit and the fetch still succeeds (FetchResult::truncated);
  // robots.txt is read that way.
  std::size_t max_body_bytes = 0;
  bool keep_truncated = false;
};

struct FetchResult {
  std::uint64_t tag = 0;
  std::string url;                     // as requested
  std::string final_url;               // after redirects
  std::vector<std::string> redirects;  // the hops after `url`, in order
  std::string reason = "ok";
  Status status;                   // OK iff reason == "ok"
  int http_status = 0;             // of the last answer; 0 when none came
  std::string content_type;        // media type, lower case, without parameters
  std::string charset;             // detected charset of the body
  std::string body;                // UTF-8 (for text types)
  std::size_t bytes_received = 0;  // decoded body bytes received (before conversion)
  std::string remote_ip;
  std::optional<int> retry_after_s;  // from a 429/503 answer
  double elapsed_ms = 0;
  bool truncated = false;  // cut at the request's limit (keep_truncated)
  bool ok() const { return status.ok(); }
};

class Fetcher {
 public:
  Fetcher(FetcherOptions options, AddressPolicy policy);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Queues a request; it starts when the connection limits and the host's delay allow.
  void Add(FetchRequest request);
  // Runs transfers for up to `max_wait_ms` or until at least one fetch finishes; returns the
  // finished ones (possibly none).
  std::vector<FetchResult> Poll(int max_wait_ms);
  // Requests queued or running.
  std::size_t pending() const;
  // Ends every queued and running request with reason "cancelled" and returns them.
  std::vector<FetchResult> CancelAll();

  // Fetches every request, calling `on_done` as each finishes; returns when all are done, or
  // early (the rest cancelled) when `cancel` becomes true.
  void FetchAll(std::vector<FetchRequest> requests,
                const std::function<void(FetchResult&&)>& on_done,
                const std::atomic<bool>* cancel = nullptr);
  // One fetch, blocking.
  FetchResult Fetch(const std::string& url, Deadline deadline = Deadline::Infinite());

  // Sets the delay between requests to `host` (e.g. a robots.txt Crawl-delay), in ms; the
  // larger of this and per_host_delay_ms applies.
  void SetHostDelay(const std::string& host, int delay_ms);

  const FetcherOptions& options() const { return options_; }

  struct Transfer;  // one request's state (internal)

 private:
  using Clock = std::chrono::steady_clock;
  struct HostState {
    int active = 0;
    Clock::time_point next_start{};
    int delay_ms = -1;  // from SetHostDelay
  };

  void StartEligible();
  void StartHop(std::unique_ptr<Transfer> t);
  void Complete(Transfer* t, int curl_code);
  void FinishTransfer(Transfer* t, std::string reason, std::vector<FetchResult>& out);
  void Detach(Transfer* t);
  FetchResult MakeResult(Transfer& t, std::string reason);
  int HostDelayMs(const HostState& h) const;

  FetcherOptions options_;
  AddressPolicy policy_;
  void* multi_ = nullptr;  // CURLM*
  std::deque<std::unique_ptr<Transfer>> queue_;
  std::map<Transfer*, std::unique_ptr<Transfer>> active_;
  std::map<std::string, HostState> hosts_;
  std::vector<FetchResult> done_;
  // When the last Poll returned: the time until the next one is the caller's (processing pages,
  // say), when no transfer can make progress, so it does not count towards idle timeouts.
  Clock::time_point last_poll_return_{};
};

}  // namespace lumen::retrieval
