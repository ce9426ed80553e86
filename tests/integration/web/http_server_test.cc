// HttpServer on a real loopback socket: graceful stop, metrics per route, bounded bodies.
#include "web/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

namespace lumen::web {
namespace {

using namespace std::chrono_literals;

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
