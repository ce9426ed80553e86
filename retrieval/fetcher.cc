#include "retrieval/fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "retrieval/charset.h"
#include "retrieval/url.h"

namespace lumen::retrieval {

struct Fetcher::Transfer {
  FetchRequest request;
  std::string url;  // of the current hop
  std::string host;
  std::vector<std::string> redirects;
  std::set<std::string> seen;
  Clock::time_point started{};        // of the whole fetch
  Clock::time_point last_activity{};  // of the current hop: start, or last byte
  Deadline deadline = Deadline::Infinite();
  bool running = false;  // the first hop has started
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  const AddressPolicy* policy = nullptr;
  const FetcherOptions* options = nullptr;
  // Current answer.
  int status = 0;
  std::string content_type;  // full header value
  std::string location;
  std::string retry_after;
  std::string body;
  std::size_t received = 0;
  bool body_checked = false;
  std::string abort_reason;  // set by a callback that aborted the transfer
  std::string abort_detail;

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
  void ResetAnswer() {
    status = 0;
    content_type.clear();
    location.clear();
    retry_after.clear();
    body.clear();
    received = 0;
    body_checked = false;
  }
};

namespace {

std::once_flag g_curl_init;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string MediaType(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  return Lower(Trim(content_type.substr(0, semi)));
}

bool AcceptedType(const std::string& media) {
  return media == "text/html" || media == "application/xhtml+xml" || media == "text/plain" ||
         media.empty();
}

std::string HostOf(const std::string& url) {
  Result<UrlParts> p = SplitUrl(url);
  return p.ok() ? p->host + ":" + std::to_string(p->port) : std::string("?");
}

std::optional<int> ParseRetryAfter(const std::string& value, int cap) {
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  long long secs = -1;
  if (digits && value.size() < 12) {
    secs = std::stoll(value);
  } else {
    const time_t when = curl_getdate(value.c_str(), nullptr);
    if (when < 0) return std::nullopt;
    secs = std::max<long long>(0, static_cast<long long>(when - time(nullptr)));
  }
  return static_cast<int>(std::min<long long>(secs, cap));
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Fetcher::Transfer*>(user);
  const size_t len = size * n;
  t->last_activity = std::chrono::steady_clock::now();
  std::string_view line(data, len);
  if (line.substr(0, 5) == "HTTP/") {
    t->ResetAnswer();
    const std::size_t sp = line.find(' ');
    if (sp != std::string_view::npos)
      t->status = std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return len;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  const std::string key = Lower(Trim(line.substr(0, colon)));
  const std::string_view value = Trim(line.substr(colon + 1));
  if (key == "content-type") {
    t->content_type = std::string(value.substr(0, 256));
  } else if (key == "location") {
    t->location = std::string(value.substr(0, 8192));
  } else if (key == "retry-after") {
    t->retry_after = std::string(value.substr(0, 64));
  } else if (key == "content-length" && t->status >= 200 && t->status < 300) {
    const long long declared = std::atoll(std::string(value).c_str());
    if (!t->request.keep_truncated &&
        declared > static_cast<long long>(t->request.max_body_bytes > 0
                                              ? t->request.max_body_bytes
                                              : t->options->max_body_bytes)) {
      t->abort_reason = "too_large";
      t->abort_detail = "declared Content-Length " + std::to_string(declared);
      return 0;
    }
  }
  return len;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Fetcher::Transfer*>(user);
  const size_t len = size * n;
  t->last_activity = std::chrono::steady_clock::now();
  if (!t->body_checked) {
    t->body_checked = true;
    if (t->status >= 300 && t->status < 400) {
      // A redirect's body is not needed.
    } else if (t->status < 200 || t->status >= 300) {
      t->abort_reason = "http_" + std::to_string(t->status);
      return 0;
    } else if (!t->request.any_content_type && !AcceptedType(MediaType(t->content_type))) {
      t->abort_reason = "unsupported_content_type";
      t->abort_detail = MediaType(t->content_type);
      return 0;
    }
  }
  if (t->status < 200 || t->status >= 300) return len;
  const std::size_t limit =
      t->request.max_body_bytes > 0 ? t->request.max_body_bytes : t->options->max_body_bytes;
  t->received += len;
  if (t->received > limit) {
    if (t->request.keep_truncated) {
      t->body.append(data, std::min(len, limit - std::min(limit, t->body.size())));
      t->abort_reason = "truncated";
      return 0;
    }
    t->abort_reason = "too_large";
    t->abort_detail = "more than " + std::to_string(limit) + " bytes";
    return 0;
  }
  t->body.append(data, len);
  return len;
}

curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Fetcher::Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    const Status allowed = t->policy->CheckSockaddr(&address->addr);
    if (!allowed.ok()) {
      t->abort_reason = "blocked_address";
      t->abort_detail = allowed.message();
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype, address->protocol);
}

// True when `url` starts with a scheme other than http(s) ("ftp:", "file:", "javascript:").
bool HasOtherScheme(std::string_view url) {
  std::size_t i = 0;
  while (i < url.size() && (std::isalnum(static_cast<unsigned char>(url[i])) || url[i] == '+' ||
                            url[i] == '-' || url[i] == '.')) {
    ++i;
  }
  if (i == 0 || i >= url.size() || url[i] != ':' ||
      !std::isalpha(static_cast<unsigned char>(url[0]))) {
    return false;
  }
  const std::string scheme = Lower(url.substr(0, i));
  return scheme != "http" && scheme != "https";
}

Status StatusForReason(const std::string& reason, const std::string& detail) {
  const std::string msg = detail.empty() ? reason : reason + ": " + detail;
  if (reason == "ok") return Status::Ok();
  if (reason == "blocked_scheme" || reason == "blocked_address") return PermissionDenied(msg);
  if (reason == "bad_url") return InvalidArgument(msg);
  if (reason == "timeout" || reason == "stalled" || reason == "connect_timeout") {
    return DeadlineExceeded(msg);
  }
  if (reason == "too_large" || reason == "too_many_redirects" || reason == "redirect_loop") {
    return ResourceExhausted(msg);
  }
  if (reason == "http_404" || reason == "http_410") return NotFound(msg);
  if (reason == "unsupported_content_type" || reason == "binary_content") {
    return InvalidArgument(msg);
  }
  return Unavailable(msg);
}

std::string ReasonForCurlCode(CURLcode code, bool connected) {
  switch (code) {
    case CURLE_OK: return "ok";
    case CURLE_COULDNT_RESOLVE_HOST: return "dns_failed";
    case CURLE_COULDNT_CONNECT: return "connect_failed";
    case CURLE_OPERATION_TIMEDOUT: return connected ? "timeout" : "connect_timeout";
    case CURLE_UNSUPPORTED_PROTOCOL: return "blocked_scheme";
    case CURLE_URL_MALFORMAT: return "bad_url";
    case CURLE_FILESIZE_EXCEEDED: return "too_large";
    case CURLE_BAD_CONTENT_ENCODING: return "bad_encoding";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE: return "tls_error";
    default: return "transfer_error";
  }
}

}  // namespace

Result<FetcherOptions> FetcherOptions::FromConfig(const Config& config) {
  FetcherOptions o;
  o.user_agent = config.GetString("fetch.user_agent");
  o.max_connections = static_cast<int>(config.GetInt("fetch.max_connections"));
  o.max_per_host = static_cast<int>(config.GetInt("fetch.max_connections_per_host"));
  o.per_host_delay_ms = static_cast<int>(config.GetInt("fetch.per_host_delay_ms"));
  o.connect_timeout_ms = static_cast<int>(config.GetInt("fetch.connect_timeout_ms"));
  o.idle_timeout_ms = static_cast<int>(config.GetInt("fetch.idle_timeout_ms"));
  o.total_timeout_ms = static_cast<int>(config.GetInt("fetch.total_timeout_ms"));
  o.max_redirects = static_cast<int>(config.GetInt("fetch.max_redirects"));
  o.max_retry_after_s = static_cast<int>(config.GetInt("fetch.max_retry_after_s"));
  const std::int64_t body = config.GetInt("fetch.max_body_bytes");
  if (o.user_agent.empty()) return config.ValueError("fetch.user_agent", "must not be empty");
  if (o.max_connections < 1) return config.ValueError("fetch.max_connections", "must be >= 1");
  if (o.max_per_host < 1)
    return config.ValueError("fetch.max_connections_per_host", "must be >= 1");
  if (o.per_host_delay_ms < 0) return config.ValueError("fetch.per_host_delay_ms", "must be >= 0");
  if (o.connect_timeout_ms < 1)
    return config.ValueError("fetch.connect_timeout_ms", "must be >= 1");
  if (o.idle_timeout_ms < 1) return config.ValueError("fetch.idle_timeout_ms", "must be >= 1");
  if (o.total_timeout_ms < 1) return config.ValueError("fetch.total_timeout_ms", "must be >= 1");
  if (o.max_redirects < 0 || o.max_redirects > 20) {
    return config.ValueError("fetch.max_redirects", "must be between 0 and 20");
  }
  if (body < 1024) return config.ValueError("fetch.max_body_bytes", "must be >= 1024");
  o.max_body_bytes = static_cast<std::size_t>(body);
  return o;
}

Fetcher::Fetcher(FetcherOptions options, AddressPolicy policy)
    : options_(std::move(options)), policy_(std::move(policy)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(options_.max_connections));
}

Fetcher::~Fetcher() {
  for (auto& [raw, t] : active_) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
  }
  active_.clear();
  queue_.clear();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void Fetcher::Add(FetchRequest request) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->url = t->request.url;
  t->started = Clock::now();
  // total_timeout_ms counts from the first byte sent (see StartEligible); until then only the
  // caller's own deadline applies.
  t->deadline = t->request.deadline;
  t->policy = &policy_;
  t->options = &options_;
  Result<std::string> normalized = NormalizeUrl(t->url);
  const Status allowed = policy_.CheckUrl(t->url);
  if (!normalized.ok() || !allowed.ok()) {
    std::string reason = "bad_url";
    if (HasOtherScheme(t->url)) {
      reason = "blocked_scheme";
    } else if (normalized.ok() && allowed.code() == StatusCode::kPermissionDenied) {
      reason = "blocked_address";
    }
    t->abort_detail = !allowed.ok() ? allowed.message() : normalized.status().message();
    done_.push_back(MakeResult(*t, reason));
    return;
  }
  t->url = *normalized;
  t->seen.insert(t->url);
  t->host = HostOf(t->url);
  queue_.push_back(std::move(t));
}

std::size_t Fetcher::pending() const {
  return queue_.size() + active_.size();
}

int Fetcher::HostDelayMs(const HostState& h) const {
  return std::max(options_.per_host_delay_ms, h.delay_ms);
}

void Fetcher::SetHostDelay(const std::string& host, int delay_ms) {
  hosts_[host].delay_ms = delay_ms;
}

void Fetcher::StartEligible() {
  const auto now = Clock::now();
  for (auto it = queue_.begin();
       it != queue_.end() && static_cast<int>(active_.size()) < options_.max_connections;) {
    Transfer& t = **it;
    if (t.deadline.expired()) {
      done_.push_back(MakeResult(t, "timeout"));
      it = queue_.erase(it);
      continue;
    }
    HostState& h = hosts_[t.host];
    if (h.active >= options_.max_per_host || now < h.next_start) {
      ++it;
      continue;
    }
    h.active++;
    h.next_start = now + std::chrono::milliseconds(HostDelayMs(h));
    std::unique_ptr<Transfer> owned = std::move(*it);
    it = queue_.erase(it);
    if (!owned->running) {
      owned->running = true;
      owned->started = now;
      owned->deadline = owned->request.deadline.Min(Deadline::AfterMs(options_.total_timeout_ms));
    }
    StartHop(std::move(owned));
  }
}

void Fetcher::StartHop(std::unique_ptr<Transfer> t) {
  if (t->easy != nullptr) curl_easy_cleanup(t->easy);
  if (t->headers != nullptr) curl_slist_free_all(t->headers);
  t->headers = nullptr;
  t->ResetAnswer();
  t->abort_reason.clear();
  t->abort_detail.clear();
  t->last_activity = Clock::now();
  CURL* e = curl_easy_init();
  t->easy = e;
  const long remaining = static_cast<long>(std::max<long long>(1, t->deadline.remaining_ms()));
  curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");  // never an environment proxy: it would bypass checks
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, options_.accept_encoding.c_str());
  curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, remaining);
  if (!t->request.keep_truncated) {
    const std::size_t limit =
        t->request.max_body_bytes > 0 ? t->request.max_body_bytes : options_.max_body_bytes;
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limit));
  }
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, OnOpenSocket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
  t->headers = curl_slist_append(
      nullptr, "Accept: text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_multi_add_handle(static_cast<CURLM*>(multi_), e);
  Transfer* raw = t.get();
  active_[raw] = std::move(t);
}

void Fetcher::Detach(Transfer* t) {
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
  HostState& h = hosts_[t->host];
  if (h.active > 0) h.active--;
}

FetchResult Fetcher::MakeResult(Transfer& t, std::string reason) {
  FetchResult r;
  r.tag = t.request.tag;
  r.url = t.request.url;
  r.final_url = t.url;
  r.redirects = t.redirects;
  r.http_status = t.status;
  r.content_type = MediaType(t.content_type);
  r.bytes_received = t.received;
  r.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - t.started).count();
  if (t.easy != nullptr) {
    char* ip = nullptr;
    if (curl_easy_getinfo(t.easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr) {
      r.remote_ip = ip;
    }
  }
  if ((t.status == 429 || t.status == 503)) {
    r.retry_after_s = ParseRetryAfter(t.retry_after, options_.max_retry_after_s);
  }
  if (reason == "ok") {
    const std::string_view head = std::string_view(t.body).substr(0, 1024);
    if (!t.request.any_content_type && head.find('\0') != std::string_view::npos) {
      reason = "binary_content";
    } else {
      CharsetGuess guess;
      r.body = DecodeToUtf8(t.body, t.content_type, &guess);
      r.charset = guess.charset;
    }
  }
  r.reason = reason;
  r.status = StatusForReason(reason, t.abort_detail);
  return r;
}

void Fetcher::FinishTransfer(Transfer* t, std::string reason, std::vector<FetchResult>& out) {
  Detach(t);
  out.push_back(MakeResult(*t, std::move(reason)));
  active_.erase(t);
}

void Fetcher::Complete(Transfer* t, int curl_code) {
  const CURLcode code = static_cast<CURLcode>(curl_code);
  curl_off_t connected = 0;
  curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connected);
  std::string reason;
  const bool truncated = t->abort_reason == "truncated";
  if (truncated) {
    reason = "ok";
  } else if (!t->abort_reason.empty()) {
    reason = t->abort_reason;
  } else {
    reason = ReasonForCurlCode(code, connected > 0 || t->status > 0);
  }
  // The address actually connected to, whatever path libcurl took.
  if (reason == "ok") {
    char* ip = nullptr;
    if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr &&
        *ip != '\0') {
      if (Result<IpAddress> a = ParseIpAddress(ip); a.ok()) {
        if (Status s = policy_.CheckAddress(*a); !s.ok()) {
          reason = "blocked_address";
          t->abort_detail = s.message();
        }
      }
    }
  }
  if (reason == "ok" && t->status >= 300 && t->status < 400) {
    if (t->location.empty()) {
      reason = "http_" + std::to_string(t->status);
    } else if (static_cast<int>(t->redirects.size()) >= options_.max_redirects) {
      reason = "too_many_redirects";
    } else {
      Result<std::string> next = ResolveUrl(t->url, t->location);
      const Status allowed = next.ok() ? policy_.CheckUrl(*next) : next.status();
      if (!next.ok()) {
        reason = HasOtherScheme(t->location) ? "blocked_scheme" : "bad_url";
        t->abort_detail = next.status().message();
      } else if (!allowed.ok()) {
        reason = allowed.message().find("scheme") != std::string::npos ? "blocked_scheme"
                                                                       : "blocked_address";
        t->abort_detail = allowed.message();
      } else if (t->seen.count(*next)) {
        reason = "redirect_loop";
        t->abort_detail = *next;
      } else {
        // Next hop: back into the queue, so host limits and delays apply to it too.
        Detach(t);
        auto it = active_.find(t);
        std::unique_ptr<Transfer> owned = std::move(it->second);
        active_.erase(it);
        owned->redirects.push_back(*next);
        owned->seen.insert(*next);
        owned->url = *next;
        owned->host = HostOf(*next);
        queue_.push_front(std::move(owned));
        return;
      }
    }
  } else if (reason == "ok" && (t->status < 200 || t->status >= 300)) {
    reason = "http_" + std::to_string(t->status);
  }
  if (reason.rfind("http_", 0) == 0 && (t->status == 429 || t->status == 503)) {
    if (std::optional<int> after = ParseRetryAfter(t->retry_after, options_.max_retry_after_s)) {
      HostState& h = hosts_[t->host];
      h.next_start = std::max(h.next_start, Clock::now() + std::chrono::seconds(*after));
    }
  }
  FinishTransfer(t, reason, done_);
  if (truncated) done_.back().truncated = true;
}

std::vector<FetchResult> Fetcher::Poll(int max_wait_ms) {
  auto* multi = static_cast<CURLM*>(multi_);
  const auto until = Clock::now() + std::chrono::milliseconds(std::max(0, max_wait_ms));
  if (last_poll_return_ != Clock::time_point{}) {
    const Clock::duration away = Clock::now() - last_poll_return_;
    for (auto& [raw, t] : active_) t->last_activity += away;
  }
  while (true) {
    StartEligible();
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      if (t != nullptr && active_.count(t)) Complete(t, msg->data.result);
    }
    // Deadlines libcurl does not know about: idle time and the chain's total.
    const auto now = Clock::now();
    std::vector<Transfer*> expired;
    for (auto& [raw, t] : active_) {
      if (t->deadline.expired()) {
        t->abort_reason = "timeout";
        expired.push_back(raw);
      } else if (now - t->last_activity > std::chrono::milliseconds(options_.idle_timeout_ms)) {
        t->abort_reason = "stalled";
        t->abort_detail = "no data for " + std::to_string(options_.idle_timeout_ms) + " ms";
        expired.push_back(raw);
      }
    }
    for (Transfer* t : expired) {
      std::string reason = t->abort_reason;
      FinishTransfer(t, reason, done_);
    }
    if (!done_.empty() || pending() == 0 || Clock::now() >= until) break;
    // Sleep until socket activity, a queued request may start, or a deadline check is due.
    int wait = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
    wait = std::clamp(wait, 0, 25);
    curl_multi_poll(multi, nullptr, 0, wait, nullptr);
  }
  std::vector<FetchResult> out;
  out.swap(done_);
  last_poll_return_ = Clock::now();
  return out;
}

std::vector<FetchResult> Fetcher::CancelAll() {
  std::vector<FetchResult> out;
  std::vector<Transfer*> running;
  for (auto& [raw, t] : active_) running.push_back(raw);
  for (Transfer* t : running) FinishTransfer(t, "cancelled", out);
  for (auto& t : queue_) out.push_back(MakeResult(*t, "cancelled"));
  queue_.clear();
  for (FetchResult& r : done_) out.push_back(std::move(r));
  done_.clear();
  return out;
}

void Fetcher::FetchAll(std::vector<FetchRequest> requests,
                       const std::function<void(FetchResult&&)>& on_done,
                       const std::atomic<bool>* cancel) {
  for (FetchRequest& r : requests) Add(std::move(r));
  while (pending() > 0 || !done_.empty()) {
    if (cancel != nullptr && cancel->load()) {
      for (FetchResult& r : CancelAll()) on_done(std::move(r));
      return;
    }
    for (FetchResult& r : Poll(100)) on_done(std::move(r));
  }
}

FetchResult Fetcher::Fetch(const std::string& url, Deadline deadline) {
  FetchResult out;
  bool got = false;
  FetchAll({FetchRequest{.url = url, .deadline = deadline}}, [&](FetchResult&& r) {
    out = std::move(r);
    got = true;
  });
  if (!got) out.reason = "cancelled";
  return out;
}

}  // namespace lumen::retrieval
