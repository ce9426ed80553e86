// The fetcher against a hostile local web site: every case ends with a recorded reason, within
// its deadline.
#include "retrieval/fetcher.h"

#include <gtest/gtest.h>

#include <thread>

#include <chrono>

#include "tests/integration/retrieval/fixture_server.h"

namespace lumen::retrieval {
namespace {

using Clock = std::chrono::steady_clock;

class FetcherTest : public ::testing::Test {
 protected:
  static FetcherOptions FastOptions() {
    FetcherOptions o;
    o.per_host_delay_ms = 0;
    o.max_per_host = 4;  // httplib 0.11 listens with a backlog of 5
    o.connect_timeout_ms = 500;
    o.idle_timeout_ms = 500;
    o.total_timeout_ms = 1500;
    o.max_body_bytes = 1 << 20;
    return o;
  }
  Fetcher MakeFetcher(FetcherOptions o = FastOptions()) {
    return Fetcher(o, *AddressPolicy::Create({"127.0.0.1", "::1"}));
  }
  FetchResult Get(const std::string& path) {
    Fetcher f = MakeFetcher();
    return f.Fetch(server_.Url(path));
  }
  test_support::FixtureServer server_;
};

TEST_F(FetcherTest, FetchesAPageAsUtf8) {
  const FetchResult r = Get("/ok");
  EXPECT_EQ(r.reason, "ok") << r.status.ToString();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.charset, "utf-8");
  EXPECT_EQ(r.remote_ip, "127.0.0.1");
  EXPECT_NE(r.body.find("Fixture OK page"), std::string::npos);
}

TEST_F(FetcherTest, ConvertsDeclaredAndMetaCharsetsAndRepairsWrongOnes) {
  const FetchResult latin = Get("/latin1");
  ASSERT_TRUE(latin.ok());
  EXPECT_NE(latin.body.find("Caf\xC3\xA9 cr\xC3\xA8me"), std::string::npos);
  const FetchResult sjis = Get("/sjis-meta");
  ASSERT_TRUE(sjis.ok());
  EXPECT_EQ(sjis.charset, "shift_jis");
  EXPECT_NE(sjis.body.find("\xE6\x97\xA5\xE6\x9C\xAC"), std::string::npos);
  const FetchResult wrong = Get("/wrong-charset");
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(wrong.body.find("Bad \xEF\xBF\xBD\xEF\xBF\xBD bytes"), std::string::npos);
}

TEST_F(FetcherTest, DecodesGzip) {
  const FetchResult r = Get("/gzip");
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_NE(r.body.find("Compressed page"), std::string::npos);
}

TEST_F(FetcherTest, RefusesBinaryAndOtherContentTypes) {
  EXPECT_EQ(Get("/binary").reason, "binary_content");
  const FetchResult image = Get("/image");
  EXPECT_EQ(image.reason, "unsupported_content_type");
  EXPECT_NE(image.status.message().find("image/png"), std::string::npos);
}

TEST_F(FetcherTest, AbandonsBodiesBeyondTheLimit) {
  EXPECT_EQ(Get("/huge").reason, "too_large");
  // Uncompressed, so that the server streams instead of compressing all of it first.
  FetcherOptions o = FastOptions();
  o.accept_encoding = "identity";
  Fetcher f = MakeFetcher(o);
  const FetchResult chunked = f.Fetch(server_.Url("/huge-chunked"));
  EXPECT_EQ(chunked.reason, "too_large");
  EXPECT_LE(chunked.bytes_received, (1u << 20) + (64u << 10));
}

TEST_F(FetcherTest, FollowsRedirectsAndStopsLoopsAndLongChains) {
  const FetchResult two = Get("/redirect/2");
  ASSERT_TRUE(two.ok()) << two.reason;
  EXPECT_EQ(two.final_url, server_.Url("/ok"));
  EXPECT_EQ(two.redirects.size(), 2u);
  EXPECT_EQ(Get("/redirect/9").reason, "too_many_redirects");
  const FetchResult loop = Get("/loop-a");
  EXPECT_EQ(loop.reason, "redirect_loop");
  EXPECT_EQ(loop.status.code(), StatusCode::kResourceExhausted);
}

TEST_F(FetcherTest, RedirectHopsAreCheckedAgainstThePolicy) {
  const FetchResult r = Get("/to-blocked");
  EXPECT_EQ(r.reason, "blocked_address");
  EXPECT_NE(r.status.message().find("private"), std::string::npos) << r.status.message();
  EXPECT_EQ(Get("/to-ftp").reason, "blocked_scheme");
}

TEST_F(FetcherTest, DefaultPolicyRefusesLoopbackAtConnectTime) {
  Fetcher f(FastOptions(), AddressPolicy());
  const FetchResult literal = f.Fetch(server_.Url("/ok"));
  EXPECT_EQ(literal.reason, "blocked_address");
  // A name is resolved by libcurl: the address it is about to connect to is refused.
  const FetchResult named = f.Fetch("http://localhost:" + std::to_string(server_.port()) + "/ok");
  EXPECT_EQ(named.reason, "blocked_address") << named.status.ToString();
  EXPECT_EQ(named.status.code(), StatusCode::kPermissionDenied);
}

TEST_F(FetcherTest, SlowTrickleEndsAtTheTotalDeadline) {
  const auto start = Clock::now();
  const FetchResult r = Get("/trickle");
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.reason, "timeout");
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST_F(FetcherTest, HangAfterHeadersEndsAsStalled) {
  const auto start = Clock::now();
  const FetchResult r = Get("/hang");
  EXPECT_EQ(r.reason, "stalled");
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2500));
}

TEST_F(FetcherTest, HttpErrorsAndRetryAfter) {
  EXPECT_EQ(Get("/status/404").reason, "http_404");
  EXPECT_EQ(Get("/status/404").status.code(), StatusCode::kNotFound);
  EXPECT_EQ(Get("/status/500").reason, "http_500");
  const FetchResult r = Get("/retry-after");
  EXPECT_EQ(r.reason, "http_429");
  ASSERT_TRUE(r.retry_after_s.has_value());
  EXPECT_EQ(*r.retry_after_s, 7);
}

TEST_F(FetcherTest, BadUrlsAndUnreachableHostsGetReasons) {
  Fetcher f = MakeFetcher();
  EXPECT_EQ(f.Fetch("not a url").reason, "bad_url");
  EXPECT_EQ(f.Fetch("file:///etc/passwd").reason, "blocked_scheme");
  // A port nobody listens on (the server's port + 1 is very likely free; either way it fails).
  const FetchResult refused = f.Fetch("http://127.0.0.1:1/");
  EXPECT_EQ(refused.reason, "connect_failed");
}

TEST_F(FetcherTest, ConcurrentFetchesAllComeBackWithTheirTags) {
  Fetcher f = MakeFetcher();
  std::vector<FetchRequest> requests;
  const std::vector<std::string> paths = {"/ok",     "/hang",  "/status/404", "/gzip",
                                          "/loop-a", "/image", "/redirect/1", "/latin1"};
  for (std::size_t i = 0; i < paths.size(); ++i) {
    requests.push_back({.url = server_.Url(paths[i]), .tag = i});
  }
  std::vector<std::string> reasons(paths.size());
  int calls = 0;
  const auto start = Clock::now();
  f.FetchAll(std::move(requests), [&](FetchResult&& r) {
    reasons[r.tag] = r.reason;
    ++calls;
  });
  EXPECT_EQ(calls, static_cast<int>(paths.size()));
  EXPECT_EQ(reasons, (std::vector<std::string>{"ok", "stalled", "http_404", "ok", "redirect_loop",
                                               "unsupported_content_type", "ok", "ok"}));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(3000));
}

TEST_F(FetcherTest, PerHostDelaySpacesRequests) {
  FetcherOptions o = FastOptions();
  o.per_host_delay_ms = 150;
  Fetcher f = MakeFetcher(o);
  std::vector<FetchRequest> requests;
  for (int i = 0; i < 3; ++i) requests.push_back({.url = server_.Url("/ok")});
  const auto start = Clock::now();
  int ok = 0;
  f.FetchAll(std::move(requests), [&](FetchResult&& r) { ok += r.ok(); });
  EXPECT_EQ(ok, 3);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(FetcherTest, CancelEndsEverythingAtOnce) {
  Fetcher f = MakeFetcher();
  std::atomic<bool> cancel{true};
  std::vector<std::string> reasons;
  f.FetchAll(
      {{.url = server_.Url("/hang")}, {.url = server_.Url("/trickle")}},
      [&](FetchResult&& r) { reasons.push_back(r.reason); }, &cancel);
  EXPECT_EQ(reasons, (std::vector<std::string>{"cancelled", "cancelled"}));
}

// A caller busy between two Polls (a crawler extracting the pages just fetched) leaves started
// transfers unserviced; that time is not the server's silence and must not end them as stalled.
TEST_F(FetcherTest, TimeAwayFromPollDoesNotCountAsStalled) {
  FetcherOptions o = FastOptions();
  o.total_timeout_ms = 10000;
  Fetcher f = MakeFetcher(o);
  for (int i = 0; i < 4; ++i) {
    f.Add(FetchRequest{.url = server_.Url("/ok"), .tag = static_cast<std::uint64_t>(i)});
  }
  std::vector<FetchResult> done = f.Poll(0);  // starts the transfers
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * o.idle_timeout_ms));
  for (int rounds = 0; rounds < 100 && f.pending() > 0; ++rounds) {
    for (FetchResult& r : f.Poll(100)) done.push_back(std::move(r));
  }
  ASSERT_EQ(done.size(), 4u);
  for (const FetchResult& r : done) EXPECT_EQ(r.reason, "ok") << r.status.ToString();
}

}  // namespace
}  // namespace lumen::retrieval
