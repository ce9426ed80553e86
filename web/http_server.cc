#include "web/http_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

namespace lumen::web {
namespace {

using Clock = std::chrono::steady_clock;

// Per-request bookkeeping. httplib handles a request start to finish on one worker thread
// (pre-routing handler, route handler, then logger), so a thread_local carries it between them.
struct RequestTrace {
  bool started = false;
  Clock::time_point t0;
  std::string route;
};
thread_local RequestTrace t_trace;

bool IsApiPath(const std::string& path) {
  return path.rfind("/api/", 0) == 0 || path.rfind("/v1/", 0) == 0;
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Server Error" : "Client Error";
  }
}

// `v` without the spaces and tabs around it (the optional whitespace of HTTP header lists).
std::string_view TrimSpaces(std::string_view v) {
  const std::size_t first = v.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return v.substr(first, v.find_last_not_of(" \t") - first + 1);
}

}  // namespace

void PreferGzipOverBrotli(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  auto it = headers.find("Accept-Encoding");
  if (it == headers.end()) return;
  std::string kept;
  std::size_t start = 0;
  const std::string& value = it->second;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    const std::string_view coding = TrimSpaces(std::string_view(value).substr(start, end - start));
    const std::string_view name = TrimSpaces(coding.substr(0, coding.find(';')));
    if (!coding.empty() && name != "br") {
      if (!kept.empty()) kept += ", ";
      kept += coding;
    }
    start = end + 1;
  }
  it->second = kept;
}

bool ApplyBodyFraming(const httplib::Request& req, httplib::Response& res) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  const auto te = headers.find("Transfer-Encoding");
  if (te == headers.end()) {
    if (headers.find("Content-Length") == headers.end()) headers.emplace("Content-Length", "0");
    return false;
  }
  // httplib decodes exactly one coding, chunked (the whole value, in any case).
  const auto is_chunked = [](std::string_view coding) {
    coding = TrimSpaces(coding);
    return coding.size() == 7 &&
           std::equal(coding.begin(), coding.end(), "chunked", [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  };
  const std::string_view value = te->second;
  if (is_chunked(value)) return false;
  // Chunked last but other codings before it: framed, but in codings we do not decode (501).
  // Not chunked last: the body cannot be delimited at all (400).
  const bool chunked_last = is_chunked(value.substr(value.rfind(',') + 1));
  const int status = chunked_last ? 501 : 400;
  res.status = status;  // pages get the server's error page
  if (IsApiPath(req.path)) {
    SetJsonError(res, status, chunked_last ? "not_implemented" : "bad_request",
                 "Transfer-Encoding \"" + te->second + "\": " +
                     (chunked_last ? "only chunked alone is supported"
                                   : "does not end in chunked, so the request body cannot be "
                                     "delimited"));
  }
  res.set_header("Connection", "close");
  return true;
}

void SetJsonError(httplib::Response& res, int status, const std::string& code,
                  const std::string& message) {
  res.status = status;
  const nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

Result<HttpServerOptions> HttpServerOptions::FromConfig(const Config& config) {
  HttpServerOptions o;
  o.host = config.GetString("server.host");
  if (o.host.empty()) return config.ValueError("server.host", "must not be empty");
  const std::int64_t port = config.GetInt("server.port");
  if (port < 0 || port > 65535) return config.ValueError("server.port", "must be 0..65535");
  o.port = static_cast<int>(port);
  const std::int64_t threads = config.GetInt("server.threads");
  if (threads < 0 || threads > 1024) return config.ValueError("server.threads", "must be 0..1024");
  o.threads = static_cast<int>(threads);
  o.max_body_bytes = config.GetInt("server.max_body_bytes");
  if (o.max_body_bytes < 1024) {
    return config.ValueError("server.max_body_bytes", "must be at least 1024");
  }
  auto timeout = [&](const char* key, int& out) -> Status {
    const std::int64_t ms = config.GetInt(key);
    if (ms < 1 || ms > 3'600'000) return config.ValueError(key, "must be 1..3600000 ms");
    out = static_cast<int>(ms);
    return Status::Ok();
  };
  LUMEN_RETURN_IF_ERROR(timeout("server.read_timeout_ms", o.read_timeout_ms));
  LUMEN_RETURN_IF_ERROR(timeout("server.write_timeout_ms", o.write_timeout_ms));
  LUMEN_RETURN_IF_ERROR(timeout("server.keep_alive_timeout_ms", o.keep_alive_timeout_ms));
  o.access_log = config.GetBool("server.access_log");
  return o;
}

HttpServer::HttpServer(HttpServerOptions options, Logger& log)
    : options_(std::move(options)), log_(log), server_(std::make_unique<httplib::Server>()) {
  // cpp-httplib serves a keep-alive connection on one worker until it closes, so the pool must
  // be larger than the number of clients holding connections open (browsers keep them for
  // seconds): with 4 workers a fifth keep-alive client waited up to the keep-alive timeout.
  // Idle workers cost only their stacks.
  const int threads =
      options_.threads > 0
          ? options_.threads
          : std::max(64, 16 * static_cast<int>(std::thread::hardware_concurrency()));
  // httplib's interface takes ownership of a raw pointer here.
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(static_cast<std::size_t>(options_.max_body_bytes));
  server_->set_read_timeout(options_.read_timeout_ms / 1000,
                            (options_.read_timeout_ms % 1000) * 1000);
  server_->set_write_timeout(options_.write_timeout_ms / 1000,
                             (options_.write_timeout_ms % 1000) * 1000);
  server_->set_keep_alive_timeout(std::max(1, options_.keep_alive_timeout_ms / 1000));
  // httplib closes a keep-alive connection after 5 requests by default; reconnecting costs more
  // than most cached answers.
  server_->set_keep_alive_max_count(1000);
  // A response goes out as several writes (status and headers, then the body): with Nagle's
  // algorithm the second waits for the client's delayed ACK, adding ~40 ms to every keep-alive
  // response. Accepted sockets inherit TCP_NODELAY from the listening socket.
  server_->set_tcp_nodelay(true);
  server_->set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  });

  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    PreferGzipOverBrotli(req);
    t_trace = RequestTrace{true, Clock::now(), "unmatched"};
    metrics_.InFlightAdd(1);
    if (ApplyBodyFraming(req, res)) {
      t_trace.route = "invalid";
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib's default sets SO_REUSEPORT, which would let a second server share our port
  // silently; keep only SO_REUSEADDR so a busy port is an error.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already wrote its own error body
    const std::string reason = ReasonPhrase(res.status);
    if (IsApiPath(req.path)) {
      SetJsonError(res, res.status, res.status == 404 ? "not_found" : "http_error", reason);
    } else {
      res.set_content("<!doctype html><meta charset=utf-8><title>" + std::to_string(res.status) +
                          "</title><p>" + std::to_string(res.status) + " " + reason +
                          "</p><p><a href=\"/\">Lumen</a></p>",
                      "text/html; charset=utf-8");
    }
  });
  server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    RequestTrace trace = t_trace;
    t_trace = RequestTrace{};
    double seconds = 0;
    if (trace.started) {
      metrics_.InFlightAdd(-1);
      seconds = std::chrono::duration<double>(Clock::now() - trace.t0).count();
    } else {
      trace.route = "invalid";  // rejected before routing (malformed or oversized request)
    }
    metrics_.Observe(trace.route, req.method, res.status, seconds);
    const LogLevel level = options_.access_log ? LogLevel::kInfo : LogLevel::kDebug;
    if (log_.enabled(level)) {
      log_.Log(level, "request",
               {{"method", req.method},
                {"path", req.path},
                {"route", trace.route},
                {"status", res.status},
                {"ms", static_cast<long long>(seconds * 1000)},
                {"remote", req.remote_addr}});
    }
  });
}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::AddOperationalRoutes(std::function<bool()> ready) {
  Get("/healthz", "/healthz", [ready](const httplib::Request&, httplib::Response& res) {
    const bool ok = !ready || ready();
    res.status = ok ? 200 : 503;
    res.set_header("Cache-Control", "no-store");
    res.set_content(ok ? "{\"status\":\"ok\"}" : "{\"status\":\"starting\"}", "application/json");
  });
  Get("/metrics", "/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(metrics_.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

void HttpServer::Route(const std::string& method, const std::string& pattern,
                       const std::string& route, Handler handler) {
  auto wrapped = [this, route, handler = std::move(handler)](const httplib::Request& req,
                                                             httplib::Response& res) {
    t_trace.route = route;
    try {
      handler(req, res);
    } catch (const std::exception& e) {
      log_.Error("handler failed", {{"route", route}, {"error", e.what()}});
      SetJsonError(res, 500, "internal", "internal error");
    }
    if (res.status == -1) res.status = 200;
  };
  if (method == "GET") {
    server_->Get(pattern, wrapped);
  } else {
    server_->Post(pattern, wrapped);
  }
}

void HttpServer::Get(const std::string& pattern, const std::string& route, Handler handler) {
  Route("GET", pattern, route, std::move(handler));
}

void HttpServer::Post(const std::string& pattern, const std::string& route, Handler handler) {
  Route("POST", pattern, route, std::move(handler));
}

Status HttpServer::Bind() {
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
  } else {
    port_ = server_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ < 0) {
    return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       " (address in use, or not an address of this machine)");
  }
  return Status::Ok();
}

std::string HttpServer::url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" +
         std::to_string(port_) + "/";
}

void HttpServer::Run() {
  // Paired with Stop(): whichever of the two flags is written second sees the other, so a stop
  // requested while Run is starting is never lost.
  run_active_.store(true);
  if (!stop_requested_.load()) server_->listen_after_bind();
  run_active_.store(false);
}

void HttpServer::Stop() {
  stop_requested_.store(true);
  while (run_active_.load() && !server_->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (server_->is_running()) server_->stop();
}

}  // namespace lumen::web
