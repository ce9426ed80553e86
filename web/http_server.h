// HttpServer: Lumen's HTTP front door on cpp-httplib. Adds what every route needs — metrics per
// route (web/metrics.h), security headers, JSON errors under /api/, bounded bodies, request
// logging — and a graceful stop: Stop() refuses new connections, lets in-flight requests finish,
// then Run() returns.
//
// Register routes before Bind(). Run() blocks the calling thread; Stop() may be called from any
// other thread (typically a signal-waiting thread). Handlers run concurrently on the worker pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "web/metrics.h"

namespace lumen::web {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port
  int threads = 0;  // 0 = max(64, 16 x cores): one per open keep-alive connection
  std::int64_t max_body_bytes = 1 << 20;
  int read_timeout_ms = 10000;
  int write_timeout_ms = 10000;
  int keep_alive_timeout_ms = 5000;
  bool access_log = false;

  // Reads the server.* keys; out-of-range values are errors naming the key and its origin.
  static Result<HttpServerOptions> FromConfig(const Config& config);
};

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  HttpServer(HttpServerOptions options, Logger& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is an httplib path pattern (regex); `route` is the label used in metrics and logs.
  void Get(const std::string& pattern, const std::string& route, Handler handler);
  void Post(const std::string& pattern, const std::string& route, Handler handler);

  // GET /healthz ({"status":"ok"}, or 503 while `ready` returns false) and GET /metrics
  // (Prometheus text). `ready` may be empty (always ready); it is called concurrently.
  void AddOperationalRoutes(std::function<bool()> ready = {});

  // Binds the listening socket. Fails with kUnavailable when the address is taken or invalid.
  Status Bind();
  // The bound port (valid after Bind).
  int port() const { return port_; }
  // "http://host:port/" for printing (valid after Bind).
  std::string url() const;

  // Serves until Stop(); returns after in-flight requests have finished.
  void Run();
  // Stops accepting; safe from any thread, idempotent.
  void Stop();

  HttpMetrics& metrics() { return metrics_; }

 private:
  void Route(const std::string& method, const std::string& pattern, const std::string& route,
             Handler handler);

  HttpServerOptions options_;
  Logger& log_;
  HttpMetrics metrics_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = -1;
  std::atomic<bool> run_active_{false};
  std::atomic<bool> stop_requested_{false};
};

// Removes "br" from the request's Accept-Encoding so that the response is gzip-compressed (or
// not at all). Debian's libcpp-httplib is built with Brotli at its maximum quality (11), which
// takes seconds for a few hundred KB: a 750 KB documentation page took 6-9 s and crawlers gave
// up on it, and every page and JSON answer to a browser paid tens of ms. Call it from a
// pre-routing handler (compression is chosen after routing). The request object httplib hands
// the handler is its own, non-const one; only the header is rewritten.
void PreferGzipOverBrotli(const httplib::Request& req);

// The request-body framing rules of RFC 9112 section 6.3 where Debian's httplib (0.11) departs
// from them; call it from a pre-routing handler, which runs before the body is read. A request
// with neither Content-Length nor Transfer-Encoding has no body: httplib would instead read
// until the client closes or the read timeout (10 s by default) ends, holding a worker all that
// time, so a "Content-Length: 0" header is added (in httplib's own, non-const request, as
// PreferGzipOverBrotli does). httplib decodes only "Transfer-Encoding: chunked" alone and reads
// any other value like a missing length, so any other value is answered here, with a connection
// close: 501 where chunked comes last after codings we do not decode, 400 where the body cannot
// be delimited at all (chunked not last). Returns true when it answered, false otherwise.
bool ApplyBodyFraming(const httplib::Request& req, httplib::Response& res);

// Writes {"error": {"code": code, "message": message}} with `status`.
void SetJsonError(httplib::Response& res, int status, const std::string& code,
                  const std::string& message);

}  // namespace lumen::web
