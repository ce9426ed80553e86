// RemoteBackend and AnswerWriter against a real OpenAI-compatible server on loopback (a fixture
// built on cpp-httplib that streams server-sent events the way vLLM and llama.cpp do).
#include "llm/answer/remote_backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "llm/answer/answer_writer.h"

namespace lumen::answer {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// Behaviour is chosen by the "model" field of the request.
class FixtureModelServer {
 public:
  FixtureModelServer() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      const Json body = Json::parse(req.body);
      const std::string model = body.value("model", "");
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++calls_;
        last_auth_ = req.get_header_value("Authorization");
        last_body_ = body;
      }
      if (model == "flaky" && calls_.load() <= 2) {
        res.status = 503;
        res.set_header("Retry-After", "0");
        res.set_content(R"({"error":{"message":"warming up"}})", "application/json");
        return;
      }
      if (model == "bad") {
        res.status = 400;
        res.set_content(R"({"error":{"message":"max_tokens is too large"}})", "application/json");
        return;
      }
      if (model == "plain") {
        res.set_content(R"({"choices":[{"message":{"role":"assistant","content":"Plain [1]."}}]})",
                        "application/json");
        return;
      }
      if (model == "blank" || model == "lead") {  // replies starting with blank lines
        const std::string content =
            model == "blank" ? "\n\n \n" : "\n\nThe csv module reads CSV files [1].";
        const Json reply = {
            {"choices", {{{"message", {{"role", "assistant"}, {"content", content}}}}}}};
        res.set_content(reply.dump(), "application/json");
        return;
      }
      if (model == "slow") std::this_thread::sleep_for(1500ms);
      const bool broken = model == "broken";
      res.set_chunked_content_provider(
          "text/event-stream", [broken, this](std::size_t, httplib::DataSink& sink) {
            for (const std::string& piece : pieces_) {
              const Json event = {{"choices", {{{"index", 0}, {"delta", {{"content", piece}}}}}}};
              const std::string line = "data: " + event.dump() + "\n\n";
              sink.write(line.data(), line.size());
              if (broken) return false;  // drop the connection after the first event
            }
            const std::string tail =
                "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                "\"usage\":{\"prompt_tokens\":42,\"completion_tokens\":7}}\n\ndata: [DONE]\n\n";
            sink.write(tail.data(), tail.size());
            sink.done();
            return true;
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FixtureModelServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int calls() const { return calls_.load(); }
  std::string last_auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_auth_;
  }
  Json last_body() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_body_;
  }

  std::vector<std::string> pieces_ = {"The csv module ", "reads CSV files [1]", " [9]."};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::string last_auth_;
  Json last_body_;
};

GenerateRequest Hello() {
  GenerateRequest r;
  r.messages = {{"user", "How do I read a CSV file?", std::nullopt}};
  r.deadline = Deadline::AfterMs(10'000);
  return r;
}

RemoteBackendOptions Options(const FixtureModelServer& s, const std::string& model) {
  RemoteBackendOptions o;
  o.base_url = s.url() + "/v1/";
  o.model = model;
  o.api_key = "sk-test";
  o.initial_backoff_ms = 10;
  return o;
}

TEST(RemoteBackendTest, StreamsDeltasInOrderAndReportsUsage) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "ok"));
  std::vector<std::string> deltas;
  GenerateRequest r = Hello();
  r.on_delta = [&](std::string_view d) {
    deltas.emplace_back(d);
    return true;
  };
  Result<GenerateResult> g = backend.Generate(r);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->text, "The csv module reads CSV files [1] [9].");
  EXPECT_EQ(deltas, server.pieces_);
  EXPECT_EQ(g->finish_reason, "stop");
  EXPECT_EQ(g->prompt_tokens, 42);
  EXPECT_EQ(g->completion_tokens, 7);
  EXPECT_EQ(server.last_auth(), "Bearer sk-test");
  EXPECT_EQ(server.last_body()["model"], "ok");
  EXPECT_EQ(server.last_body()["stream"], true);
  EXPECT_EQ(server.last_body()["messages"][0]["content"], "How do I read a CSV file?");
}

TEST(RemoteBackendTest, RetriesServiceUnavailableThenSucceeds) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "flaky"));
  Result<GenerateResult> g = backend.Generate(Hello());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(server.calls(), 3);
}

TEST(RemoteBackendTest, ClientErrorIsNotRetriedAndCarriesTheServerMessage) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "bad"));
  Result<GenerateResult> g = backend.Generate(Hello());
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(g.status().message().find("max_tokens is too large"), std::string::npos);
  EXPECT_EQ(server.calls(), 1);
}

TEST(RemoteBackendTest, DeadlineBoundsASlowServer) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "slow"));
  GenerateRequest r = Hello();
  r.deadline = Deadline::AfterMs(300);
  const auto t0 = std::chrono::steady_clock::now();
  Result<GenerateResult> g = backend.Generate(r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDeadlineExceeded) << g.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1200ms);
}

TEST(RemoteBackendTest, UnreachableServerIsUnavailableAfterRetries) {
  // A socket bound to a port but never listening: connections to it are refused.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  RemoteBackendOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.model = "x";
  o.max_retries = 1;
  o.initial_backoff_ms = 5;
  Result<GenerateResult> g = RemoteBackend(o).Generate(Hello());
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnavailable) << g.status().ToString();
  close(fd);
}

TEST(RemoteBackendTest, StreamBrokenAfterFirstTokenFails) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "broken"));
  Result<GenerateResult> g = backend.Generate(Hello());
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnavailable) << g.status().ToString();
  EXPECT_EQ(server.calls(), 1);  // never retried once tokens were shown
}

TEST(RemoteBackendTest, NonStreamingReplyIsAccepted) {
  FixtureModelServer server;
  Result<GenerateResult> g = RemoteBackend(Options(server, "plain")).Generate(Hello());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->text, "Plain [1].");
}

TEST(RemoteBackendTest, ReturningFalseFromOnDeltaCancels) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "ok"));
  GenerateRequest r = Hello();
  r.on_delta = [](std::string_view) { return false; };
  Result<GenerateResult> g = backend.Generate(r);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->finish_reason, "cancelled");
  EXPECT_EQ(g->text, "The csv module ");
}

SourceList CsvSources() {
  return {{.n = 1,
           .url = "http://docs/csv.html",
           .title = "csv — CSV File Reading and Writing",
           .heading_path = "Module Contents > csv.reader",
           .text = "The csv module reads and writes CSV files. The reader object iterates over "
                   "lines in the given CSV file."},
          {.n = 2,
           .url = "http://docs/io.html",
           .title = "Reading and Writing Files",
           .text = "open() returns a file object. Use the with keyword when dealing with files."}};
}

TEST(AnswerWriterTest, GenerativeAnswerDropsCitationsOfMissingSourcesAndChecksTheRest) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "ok"));
  AnswerWriter writer(&backend);
  const Answer a = writer.Write({.question = "How do I read a CSV file?", .sources = CsvSources()});
  EXPECT_EQ(a.mode, "generative");
  EXPECT_EQ(a.text, "The csv module reads CSV files [1].");
  EXPECT_EQ(a.check.invalid_citations, 1);
  ASSERT_EQ(a.sentences.size(), 1u);
  EXPECT_EQ(a.sentences[0].cited, std::vector<int>{1});
  EXPECT_TRUE(a.check.sentences[0].supported);
  EXPECT_DOUBLE_EQ(a.check.citation_recall, 1.0);
  EXPECT_DOUBLE_EQ(a.check.citation_precision, 0.5);  // one good, one invalid
  // The prompt carried the numbered sources and the instructions.
  const std::string user = server.last_body()["messages"][1]["content"];
  EXPECT_NE(user.find("[1] csv — CSV File Reading and Writing (http://docs/csv.html)"),
            std::string::npos);
  EXPECT_NE(user.find("Question: How do I read a CSV file?"), std::string::npos);
  EXPECT_NE(server.last_body()["messages"][0]["content"].get<std::string>().find("[n]"),
            std::string::npos);
}

TEST(AnswerWriterTest, ModelTimeoutFallsBackToAnExtractiveAnswerWithTheReason) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "slow"));
  AnswerWriter writer(&backend);
  const Answer a = writer.Write({.question = "How do I read a CSV file?",
                                 .sources = CsvSources(),
                                 .deadline = Deadline::AfterMs(300)});
  EXPECT_EQ(a.mode, "extractive");
  EXPECT_EQ(a.fallback_reason.rfind("deadline_exceeded: ", 0), 0u) << a.fallback_reason;
  EXPECT_FALSE(a.sentences.empty());
  EXPECT_DOUBLE_EQ(a.check.citation_recall, 1.0) << a.text;
}

TEST(AnswerWriterTest, LeadingBlankLinesAreNotStreamedAndABlankReplyFallsBackCleanly) {
  FixtureModelServer server;
  for (const char* model : {"lead", "blank"}) {
    RemoteBackend backend(Options(server, model));
    std::string streamed;
    const Answer a = AnswerWriter(&backend).Write({.question = "How do I read a CSV file?",
                                                   .sources = CsvSources(),
                                                   .on_delta = [&](std::string_view d) {
                                                     streamed += d;
                                                     return true;
                                                   }});
    EXPECT_EQ(streamed, a.text) << model;
    if (std::string_view(model) == "lead") {
      EXPECT_EQ(a.mode, "generative");
      EXPECT_EQ(a.text, "The csv module reads CSV files [1].");
    } else {
      EXPECT_EQ(a.mode, "extractive");
      EXPECT_EQ(a.fallback_reason, "the model returned an empty answer");
    }
  }
}

TEST(AnswerWriterTest, ModelErrorFallsBackToAnExtractiveAnswer) {
  FixtureModelServer server;
  RemoteBackend backend(Options(server, "bad"));
  const Answer a = AnswerWriter(&backend).Write(
      {.question = "How do I read a CSV file?", .sources = CsvSources()});
  EXPECT_EQ(a.mode, "extractive");
  EXPECT_NE(a.fallback_reason.find("max_tokens is too large"), std::string::npos);
}

}  // namespace
}  // namespace lumen::answer
