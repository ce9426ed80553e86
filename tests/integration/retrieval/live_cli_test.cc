// `lumen ask --searxng URL --fetch-allow 127.0.0.1` on the real binary: a fresh data dir, a
// loopback provider speaking SearXNG's JSON and a loopback site; the answer cites the page it
// read, and bad flag values are usage errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/retrieval/live_fixtures.h"
#include "tests/support/subprocess.h"

namespace lumen {
namespace {

namespace fs = std::filesystem;
const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

struct LumenRun {
  int code;
  std::string out, err;
};

LumenRun Lumen(std::vector<std::string> args) {
  args.insert(args.begin(), kLumen);
  test_support::Subprocess p(args, {"LUMEN_CONFIG="});
  const int code = p.Wait(std::chrono::seconds(60));
  return {code, p.out(), p.err()};
}

class LiveCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lumen-live-cli-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    site_.AddArticle("otters", test_support::ArticlePage(
                                   "Sea otters",
                                   "Sea otters hold hands while they sleep so that they do "
                                   "not drift apart, and they wrap themselves in kelp."));
    provider_.SetHits({{site_.Url("/article/otters"), "Sea otters", "snippet", ""}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  test_support::PageSite site_;
  test_support::ProviderFake provider_;
};

TEST_F(LiveCliTest, AskReadsTheProvidersPageAndCitesIt) {
  const LumenRun r = Lumen({"ask", "why do sea otters hold hands", "--searxng", provider_.Url(),
                            "--fetch-allow", "127.0.0.1", "--data-dir", dir_.string(), "--set",
                            "crawl.passage_min_words=10", "--log-level", "error"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("live page " + site_.Url("/article/otters") + ": ok"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("[1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(site_.Url("/article/otters")), std::string::npos) << r.out;
  EXPECT_EQ(provider_.Param("q"), "why do sea otters hold hands");
  EXPECT_TRUE(fs::exists(dir_ / "lumen.db"));
}

TEST_F(LiveCliTest, WithoutFetchAllowTheLoopbackPageIsRefused) {
  const LumenRun r = Lumen({"ask", "why do sea otters hold hands", "--retrieval-only", "--searxng",
                            provider_.Url(), "--data-dir", dir_.string(), "--log-level", "error"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("blocked_address"), std::string::npos) << r.err;
  EXPECT_EQ(site_.Hits("/article/otters"), 0);
}

TEST_F(LiveCliTest, BadFlagValuesAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"--searxng", "localhost:8888"}, "--searxng needs the instance's http(s) URL"},
      {{"--searxng", provider_.Url(), "--fetch-allow", "no-such-host.invalid"},
       "--fetch-allow \"no-such-host.invalid\""},
      {{"--set", "search.provider=google"}, "search.provider"},
      {{"--set", "search.provider=brave", "--set", "search.api_key_env=LUMEN_NO_SUCH_KEY_VAR"},
       "search.api_key_env"},
      {{"--searxng", provider_.Url(), "--set", "search.live_budget_ms=0"}, "search.live_budget_ms"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"ask", "q", "--retrieval-only", "--data-dir", dir_.string()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const LumenRun r = Lumen(args);
    EXPECT_EQ(r.code, 2) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  EXPECT_EQ(provider_.requests(), 0);
}

}  // namespace
}  // namespace lumen
