// `lumen serve` as a process: it prints its address, answers /healthz and /metrics over real
// HTTP on loopback, and stops cleanly on SIGINT and SIGTERM.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/subprocess.h"

namespace lumen {
namespace {

using namespace std::chrono_literals;
const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

class ServeTest : public ::testing::Test {
 protected:
  // Starts `lumen serve` on a free port and returns its port.
  int Start(std::vector<std::string> extra = {}) {
    // Every server gets its own data folder: tests never touch the user's.
    data_dir_ = std::filesystem::temp_directory_path() /
                ("lumen_serve_test_" + std::to_string(getpid()) + "_" + std::to_string(++starts_));
    std::filesystem::create_directories(data_dir_);
    std::vector<std::string> argv = {kLumen, "serve",      "--port",
                                     "0",    "--data-dir", data_dir_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<test_support::Subprocess>(argv);
    if (!proc_->WaitForStdout("/\n", 20s)) {
      ADD_FAILURE() << "no address printed; stderr: " << proc_->err();
      return -1;
    }
    std::smatch m;
    const std::string out = proc_->out();
    if (!std::regex_search(out, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+)/)"))) {
      ADD_FAILURE() << "unexpected stdout: " << out;
      return -1;
    }
    return std::stoi(m[1]);
  }
  void TearDown() override {
    proc_.reset();
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }
  std::unique_ptr<test_support::Subprocess> proc_;
  std::filesystem::path data_dir_;
  int starts_ = 0;
};

TEST_F(ServeTest, AnswersHealthzAndMetricsThenStopsOnSigint) {
  const int port = Start();
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "{\"status\":\"ok\"}");
  EXPECT_EQ(health->get_header_value("X-Content-Type-Options"), "nosniff");

  // The server counts a request in its logger, which runs just after the response is written:
  // the client can read /healthz's response (and ask for /metrics on a new connection) before
  // it is counted, so ask again until it shows (it failed once in CI on the first ask).
  const std::string counted =
      "lumen_http_requests_total{route=\"/healthz\",method=\"GET\",code=\"200\"} 1\n";
  auto metrics = client.Get("/metrics");
  for (int i = 0; i < 200 && metrics && metrics->body.find(counted) == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
    metrics = client.Get("/metrics");
  }
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  EXPECT_NE(metrics->body.find(counted), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("lumen_http_request_duration_seconds_count{route=\"/healthz\"} 1"),
            std::string::npos);

  proc_->Signal(SIGINT);
  EXPECT_EQ(proc_->Wait(10s), 0) << proc_->err();
  EXPECT_NE(proc_->err().find("msg=\"shutting down\" signal=SIGINT"), std::string::npos)
      << proc_->err();
  EXPECT_NE(proc_->err().find("msg=\"server stopped\""), std::string::npos);
}

TEST_F(ServeTest, StopsOnSigtermAndRefusesNewConnectionsAfterwards) {
  const int port = Start();
  ASSERT_GT(port, 0);
  proc_->Signal(SIGTERM);
  EXPECT_EQ(proc_->Wait(10s), 0) << proc_->err();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  EXPECT_FALSE(client.Get("/healthz"));
}

TEST_F(ServeTest, SearchPageEscapesTheQuestionAndSendsSecurityHeaders) {
  const int port = Start();
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto home = client.Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->body.find("<form class=\"search\" action=\"/search\""), std::string::npos);
  EXPECT_NE(home->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);

  auto page = client.Get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(page->body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);

  auto css = client.Get("/assets/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  auto escape = client.Get("/assets/../CMakeLists.txt");
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status, 404);
  auto missing = client.Get("/api/v1/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, R"({"error":{"code":"not_found","message":"Not Found"}})");
}

TEST_F(ServeTest, PortInUseIsARuntimeFailure) {
  const int port = Start();
  ASSERT_GT(port, 0);
  auto second = test_support::RunProcess(
      {kLumen, "serve", "--port", std::to_string(port), "--data-dir", data_dir_.string()}, {}, 20s);
  EXPECT_EQ(second.code, 1);
  EXPECT_NE(second.err.find("cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << second.err;
}

}  // namespace
}  // namespace lumen
