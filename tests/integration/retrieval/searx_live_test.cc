// Live search against a real metasearch server: Debian's searx (SearXNG's predecessor, the same
// JSON API), started on loopback with a settings file of the test's own — the package's example
// settings with `search.formats: [html, json]` and the engine list replaced by two offline
// `sqlite` engines: one selecting title, url, content from a pages table this test writes
// (its URLs point at a fixture web site on loopback), one broken (its table does not exist),
// which searx reports in `unresponsive_engines`. Lumen is opened from configuration
// (web::SearchStack) exactly as `lumen serve --searxng URL --fetch-allow 127.0.0.1` opens it.
//
// searx 1.1.0 has no search.formats switch (JSON is always on) and no rate limiter, so the 403
// and 429 cases are tested against a server speaking the same JSON (live_search_test.cc).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/retrieval/live_fixtures.h"
#include "tests/support/subprocess.h"
#include "web/query_service.h"
#include "web/search_stack.h"

namespace lumen::retrieval {
namespace {

namespace fs = std::filesystem;

constexpr const char* kExampleSettings = "/usr/share/doc/searx/examples/settings.yml";
constexpr const char* kSearxWebapp = "/usr/lib/python3/dist-packages/searx/webapp.py";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
}

// The package's example settings with our port, secret, formats and engines.
std::string SearxSettings(int port, const std::string& db_path) {
  std::ifstream in(kExampleSettings);
  std::string line, head, tail;
  bool in_engines = false, after_engines = false;
  while (std::getline(in, line)) {
    if (line.rfind("engines:", 0) == 0) {
      in_engines = true;
      continue;
    }
    if (in_engines && !line.empty() && line[0] != ' ' && line[0] != '#' && line[0] != '-') {
      in_engines = false;
      after_engines = true;
    }
    if (in_engines) continue;
    if (line.rfind("    port :", 0) == 0) line = "    port : " + std::to_string(port);
    if (line.find("ultrasecretkey") != std::string::npos) line = "    secret_key : \"lumen-test\"";
    if (line.rfind("    bind_address", 0) == 0) line = "    bind_address : \"127.0.0.1\"";
    (after_engines ? tail : head) += line + "\n";
    if (line == "search:") head += "    formats: [html, json]\n";
  }
  const std::string engines =
      "engines:\n"
      "  - name : lumen pages\n"
      "    engine : sqlite\n"
      "    shortcut : lp\n"
      "    database : " +
      db_path +
      "\n"
      "    query_str : \"SELECT title, url, content FROM pages WHERE lower(:query) LIKE '%' || "
      "keyword || '%'\"\n"
      "  - name : broken pages\n"
      "    engine : sqlite\n"
      "    shortcut : bp\n"
      "    database : " +
      db_path +
      "\n"
      "    query_str : \"SELECT title, url, content FROM no_such_table\"\n";
  return head + engines + tail;
}

class SearxLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kSearxWebapp) && fs::exists(kExampleSettings))
        << "Debian's searx package is not installed (scripts/setup installs it)";
    dir_ = fs::temp_directory_path() / ("lumen-searx-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");

    site_.AddArticle("otters", test_support::ArticlePage(
                                   "Sea otters",
                                   "Sea otters hold hands while they sleep so that they do not "
                                   "drift apart, and they wrap themselves in giant kelp."));
    site_.AddArticle("volcano", test_support::ArticlePage("Krakatoa",
                                                          "The Krakatoa eruption of 1883 was "
                                                          "heard five thousand kilometres away."));
    const std::string db_path = (dir_ / "pages.db").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    Exec(db, "CREATE TABLE pages(title TEXT, url TEXT, content TEXT, keyword TEXT)");
    Exec(db, "INSERT INTO pages VALUES ('Sea otters', '" + site_.Url("/article/otters") +
                 "', 'Why otters hold hands', 'otter')");
    Exec(db, "INSERT INTO pages VALUES ('Otters, slowly', '" + site_.Url("/slow") +
                 "', 'A page that never finishes', 'otter')");
    Exec(db, "INSERT INTO pages VALUES ('Krakatoa', '" + site_.Url("/article/volcano") +
                 "', 'The loudest sound', 'krakatoa')");
    sqlite3_close(db);

    port_ = FreePort();
    const std::string settings = (dir_ / "settings.yml").string();
    std::ofstream(settings) << SearxSettings(port_, db_path);
    searx_ = std::make_unique<test_support::Subprocess>(
        std::vector<std::string>{"/usr/bin/python3", "-m", "searx.webapp"},
        std::vector<std::string>{"SEARX_SETTINGS_PATH=" + settings});
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(0, 200000);
    bool ready = false;
    for (int i = 0; i < 150 && !ready; ++i) {
      auto res = client.Get("/config");
      ready = res && res->status == 200;
      if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_TRUE(ready) << "searx did not answer on port " << port_ << " within 30 s";

    // Lumen from configuration, as `lumen serve --searxng URL --fetch-allow 127.0.0.1` runs.
    const std::string config_text = R"({
      "data_dir": ")" + (dir_ / "data").string() +
                                    R"(",
      "fetch": {"allow_addresses": ["127.0.0.1"]},
      "ads": {"enabled": false},
      "crawl": {"passage_min_words": 10},
      "search": {"provider": "searxng", "url": "http://127.0.0.1:)" +
                                    std::to_string(port_) + R"(",
                 "provider_timeout_ms": 5000, "live_budget_ms": 1500, "cache_entries": 0}
    })";
    auto config = Config::FromText(config_text, "searx_live_test.json");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto stack = web::SearchStack::Open(*config, log_);
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::make_unique<web::SearchStack>(std::move(*stack));
    ASSERT_NE(stack_->live, nullptr);
    auto options = web::QueryServiceOptions::FromConfig(*config);
    ASSERT_TRUE(options.ok());
    service_ =
        std::make_unique<web::QueryService>(*options, stack_->retriever, nullptr, nullptr, log_,
                                            stack_->live.get(), stack_->searcher->store.get());
  }
  void TearDown() override {
    service_.reset();
    stack_.reset();
    searx_.reset();
    fs::remove_all(dir_);
  }

  static bool HasNote(const web::SearchResult& r, const std::string& needle) {
    for (const std::string& e : r.stage_errors)
      if (e.find(needle) != std::string::npos) return true;
    return false;
  }

  Logger log_{LogLevel::kOff};
  fs::path dir_;
  test_support::PageSite site_;
  int port_ = 0;
  std::unique_ptr<test_support::Subprocess> searx_;
  std::unique_ptr<web::SearchStack> stack_;
  std::unique_ptr<web::QueryService> service_;
};

TEST_F(SearxLiveTest, FindsFetchesCitesAndIndexesPagesAndSurvivesAnOutage) {
  auto r = service_->Search({.query = "why do sea otters hold hands while they sleep"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const web::SearchResult& res = *r->result;
  ASSERT_TRUE(res.live.has_value());
  EXPECT_FALSE(res.live->provider_failed) << res.live->notes.front();
  // searx found both otter pages through the sqlite engine.
  ASSERT_EQ(res.live->hits.size(), 2u);
  ASSERT_EQ(res.live->pages.size(), 2u);
  const auto outcome = [&](const std::string& url) {
    for (const LivePage& p : res.live->pages)
      if (p.url == url) return p.outcome;
    return std::string("(not tried)");
  };
  EXPECT_EQ(outcome(site_.Url("/article/otters")), "ok");
  EXPECT_EQ(outcome(site_.Url("/slow")), "over_budget");  // skipped at the 1.5 s budget
  EXPECT_LT(res.live->fetch_ms, 1500 + 1000);
  // The broken engine is named.
  EXPECT_TRUE(HasNote(res, "broken pages (unexpected crash")) << res.stage_errors.size();
  // Cited, with the time it was read.
  ASSERT_FALSE(res.sources.empty());
  EXPECT_EQ(res.sources[0].source.url, site_.Url("/article/otters"));
  EXPECT_GT(res.sources[0].fetched_at, 0);
  EXPECT_NE(res.answer.text.find("[1]"), std::string::npos) << res.answer.text;
  // Indexed: it is in the store's full-text index.
  auto stored = stack_->searcher->store->FindPageByUrl(site_.Url("/article/otters"));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_GT((*stored)->fetched_at, 0);

  // searx goes away: the next question is answered from what the first one stored, with a note.
  searx_.reset();
  auto after = service_->Search({.query = "what do sea otters wrap themselves in"});
  ASSERT_TRUE(after.ok());
  ASSERT_FALSE(after->result->sources.empty());
  EXPECT_EQ(after->result->sources[0].source.url, site_.Url("/article/otters"));
  EXPECT_TRUE(
      HasNote(*after->result, "cannot reach searxng at http://127.0.0.1:" + std::to_string(port_)));
  EXPECT_TRUE(HasNote(*after->result, "answered from the local index only"));
}

}  // namespace
}  // namespace lumen::retrieval
