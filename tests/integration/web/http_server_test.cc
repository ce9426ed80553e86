// HttpServer on a real loopback socket: graceful stop, metrics per route, bounded bodies.
#include "web/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "web/static_site.h"

namespace lumen::web {
namespace {

using namespace std::chrono_literals;

// A client that writes exactly the bytes given (httplib's client always frames its bodies) on
// one loopback connection, and reads answers with a receive timeout.
class RawConnection {
 public:
  explicit RawConnection(int port, int timeout_s = 5) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{.tv_sec = timeout_s, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // One whole answer (headers, then Content-Length bytes of body); "" on timeout or close.
  std::string ReadAnswer() {
    for (;;) {
      const std::size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t cl = buffer_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(buffer_.substr(cl + 16));
        if (buffer_.size() >= end + 4 + length) {
          std::string answer = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, end + 4 + length);
          return answer;
        }
      }
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : log_(LogLevel::kOff) {}

  void Start(HttpServerOptions options = {}) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, log_);
    server_->AddOperationalRoutes();
    server_->Get("/slow", "/slow", [this](const httplib::Request&, httplib::Response& res) {
      slow_started_.store(true);
      std::this_thread::sleep_for(600ms);
      res.set_content("finished", "text/plain");
    });
    server_->Post("/echo", "/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    server_->Get("/throws", "/throws", [](const httplib::Request&, httplib::Response&) {
      throw std::runtime_error("bug");
    });
    ASSERT_TRUE(server_->Bind().ok());
    runner_ = std::async(std::launch::async, [this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (runner_.valid()) runner_.wait();
  }

  Logger log_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> runner_;
  std::atomic<bool> slow_started_{false};
};

TEST_F(HttpServerTest, InFlightRequestFinishesAfterStop) {
  Start();
  auto response = std::async(std::launch::async, [port = server_->port()] {
    httplib::Client client("127.0.0.1", port);
    return client.Get("/slow");
  });
  while (!slow_started_.load()) std::this_thread::sleep_for(5ms);
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  // Run() returns only once the in-flight request is done...
  ASSERT_EQ(runner_.wait_for(5s), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  // ...and that request got its full answer.
  auto res = response.get();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "finished");
}

TEST_F(HttpServerTest, StopBeforeRunIsNotLost) {
  server_ = std::make_unique<HttpServer>(HttpServerOptions{.port = 0}, log_);
  ASSERT_TRUE(server_->Bind().ok());
  server_->Stop();
  runner_ = std::async(std::launch::async, [this] { server_->Run(); });
  EXPECT_EQ(runner_.wait_for(5s), std::future_status::ready);
}

TEST_F(HttpServerTest, MetricsCountRoutesStatusesAndUnmatchedPaths) {
  Start();
  httplib::Client client("127.0.0.1", server_->port());
  ASSERT_TRUE(client.Get("/healthz"));
  ASSERT_TRUE(client.Get("/healthz"));
  ASSERT_TRUE(client.Get("/nope"));
  auto thrown = client.Get("/throws");
  ASSERT_TRUE(thrown);
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(thrown->body, R"({"error":{"code":"internal","message":"internal error"}})");
  // A request is counted by the server's logger, which runs just after the response has been
  // written: the client can read the response first (with TCP_NODELAY it usually does).
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text = server_->metrics().RenderPrometheus();
    if (text.find("lumen_http_requests_in_flight 0\n") != std::string::npos &&
        text.find(R"(route="/throws",method="GET",code="500"} 1)") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(text.find(R"(lumen_http_requests_total{route="/healthz",method="GET",code="200"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(lumen_http_requests_total{route="unmatched",method="GET",code="404"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(lumen_http_requests_total{route="/throws",method="GET",code="500"} 1)"),
            std::string::npos);
  EXPECT_NE(
      text.find(R"(lumen_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 2)"),
      std::string::npos);
  EXPECT_NE(text.find("lumen_http_requests_in_flight 0\n"), std::string::npos);
}

TEST_F(HttpServerTest, OversizedBodyIsRejectedWith413) {
  Start(HttpServerOptions{.max_body_bytes = 4096});
  httplib::Client client("127.0.0.1", server_->port());
  auto small = client.Post("/echo", std::string(100, 'a'), "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  auto big = client.Post("/echo", std::string(10000, 'a'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

// Browsers accept "br", which Debian's httplib would answer at Brotli's slowest quality; Lumen
// answers them with gzip instead (and leaves other codings alone).
TEST_F(HttpServerTest, BrowsersGetGzipNotBrotli) {
  Start();
  httplib::Client client("127.0.0.1", server_->port());
  client.set_decompress(false);
  const std::string body(20000, 'x');
  auto gz = client.Post("/echo", httplib::Headers{{"Accept-Encoding", "gzip, deflate, br"}}, body,
                        "text/plain");
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  EXPECT_LT(gz->body.size(), body.size());
  auto br_only =
      client.Post("/echo", httplib::Headers{{"Accept-Encoding", "br;q=1.0"}}, body, "text/plain");
  ASSERT_TRUE(br_only);
  EXPECT_EQ(br_only->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(br_only->body, body);
}

TEST(PreferGzipOverBrotliTest, DropsOnlyTheBrCoding) {
  httplib::Request req;
  req.headers.emplace("Accept-Encoding", "br, gzip;q=0.8,deflate ,  br;q=1, zstd");
  PreferGzipOverBrotli(req);
  EXPECT_EQ(req.get_header_value("Accept-Encoding"), "gzip;q=0.8, deflate, zstd");
  httplib::Request none;
  PreferGzipOverBrotli(none);
  EXPECT_FALSE(none.has_header("Accept-Encoding"));
}

// RFC 9112 section 6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
// httplib 0.11 read such a body until the read timeout; with a 60 s timeout here the answers
// below would time out the 5 s receive instead of arriving.
TEST_F(HttpServerTest, BodyWithoutLengthIsEmptyAndAnsweredAtOnce) {
  Start(HttpServerOptions{.read_timeout_ms = 60000});
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\n"));
  const std::string echo = c.ReadAnswer();
  EXPECT_EQ(echo.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << echo;
  EXPECT_NE(echo.find("Content-Length: 0\r\n"), std::string::npos) << echo;
  // The connection is still in step: the next request on it gets its own answer.
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string health = c.ReadAnswer();
  EXPECT_EQ(health.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << health;
  EXPECT_NE(health.find(R"({"status":"ok"})"), std::string::npos) << health;
  // Framed bodies are read as before: chunked, and with a Content-Length.
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  const std::string chunked = c.ReadAnswer();
  EXPECT_EQ(chunked.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << chunked;
  EXPECT_TRUE(chunked.ends_with("\r\n\r\nhello world")) << chunked;
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  const std::string sized = c.ReadAnswer();
  EXPECT_TRUE(sized.ends_with("\r\n\r\nabc")) << sized;
}

TEST_F(HttpServerTest, TransferCodingsOtherThanChunkedAreRejected) {
  Start(HttpServerOptions{.read_timeout_ms = 60000});
  server_->Post("/api/echo", "/api/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.body, "text/plain");
  });
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"));
  const std::string answer = c.ReadAnswer();
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"("code":"bad_request")"), std::string::npos) << answer;
  EXPECT_NE(answer.find("does not end in chunked"), std::string::npos) << answer;
  // httplib decodes chunked alone; other codings before it would be read as an unframed body.
  RawConnection d(server_->port());
  ASSERT_TRUE(d.connected());
  ASSERT_TRUE(
      d.Send("POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
             "3\r\nabc\r\n0\r\n\r\n"));
  const std::string gzip_chunked = d.ReadAnswer();
  EXPECT_EQ(gzip_chunked.rfind("HTTP/1.1 501 Not Implemented\r\n", 0), 0u) << gzip_chunked;
  EXPECT_NE(gzip_chunked.find(R"("code":"not_implemented")"), std::string::npos) << gzip_chunked;
}

// The demo's corpus server has the same rule: a stray POST does not hold one of its workers.
// It keeps httplib's 5 s read timeout, after which httplib answers 400 on the same connection;
// the 3 s receive timeout tells that apart from an answer at once.
TEST(StaticSiteTest, BodyWithoutLengthIsAnsweredAtOnce) {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("lumen-static-framing-" + std::to_string(getpid()));
  std::filesystem::create_directories(root);
  std::ofstream(root / "index.html") << "<p>hi</p>";
  {
    StaticSite site({.root = root.string()});
    ASSERT_TRUE(site.Start().ok());
    RawConnection c(site.port(), 3);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send("POST /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string post = c.ReadAnswer();
    EXPECT_EQ(post.rfind("HTTP/1.1 4", 0), 0u) << post;  // no POST route: 404 or 405
    ASSERT_TRUE(c.Send("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string get = c.ReadAnswer();
    EXPECT_EQ(get.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << get;
    EXPECT_TRUE(get.ends_with("<p>hi</p>")) << get;
  }
  std::filesystem::remove_all(root);
}

TEST(ApplyBodyFramingTest, AddsAZeroLengthOnlyWhereNothingFramesTheBody) {
  httplib::Response res;
  httplib::Request bare;
  EXPECT_FALSE(ApplyBodyFraming(bare, res));
  EXPECT_EQ(bare.get_header_value("Content-Length"), "0");
  httplib::Request sized;
  sized.headers.emplace("Content-Length", "12");
  EXPECT_FALSE(ApplyBodyFraming(sized, res));
  EXPECT_EQ(sized.get_header_value_count("Content-Length"), 1u);
  EXPECT_EQ(sized.get_header_value("Content-Length"), "12");
  httplib::Request chunked;
  chunked.headers.emplace("Transfer-Encoding", " Chunked");
  EXPECT_FALSE(ApplyBodyFraming(chunked, res));
  EXPECT_FALSE(chunked.has_header("Content-Length"));
  httplib::Request gzip_first;
  gzip_first.headers.emplace("Transfer-Encoding", "gzip, chunked");
  EXPECT_TRUE(ApplyBodyFraming(gzip_first, res));
  EXPECT_EQ(res.status, 501);
  httplib::Request gzip_last;
  gzip_last.headers.emplace("Transfer-Encoding", "chunked, gzip");
  EXPECT_TRUE(ApplyBodyFraming(gzip_last, res));
  EXPECT_EQ(res.status, 400);
}

TEST_F(HttpServerTest, HealthzReports503UntilReady) {
  std::atomic<bool> ready{false};
  server_ = std::make_unique<HttpServer>(HttpServerOptions{.port = 0}, log_);
  server_->AddOperationalRoutes([&] { return ready.load(); });
  ASSERT_TRUE(server_->Bind().ok());
  runner_ = std::async(std::launch::async, [this] { server_->Run(); });
  httplib::Client client("127.0.0.1", server_->port());
  auto before = client.Get("/healthz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);
  ready = true;
  auto after = client.Get("/healthz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerOptionsTest, OutOfRangeValuesNameTheKey) {
  Result<Config> c = Config::Load({.overrides = {{"server.threads", "-3"}}});
  ASSERT_TRUE(c.ok());
  Result<HttpServerOptions> o = HttpServerOptions::FromConfig(*c);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("key \"server.threads\""), std::string::npos);
}

}  // namespace
}  // namespace lumen::web
