// `lumen ads` as an operator uses it: create, list, pause; report; verify (exit 0, and exit 1
// naming the entry after tampering).
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "ads/ad_server.h"
#include "tests/support/subprocess.h"

namespace lumen::ads {
namespace {

namespace fs = std::filesystem;
using test_support::RunProcess;
using test_support::RunResult;

const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

class AdsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_ads_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunResult Ads(std::vector<std::string> args) {
    args.insert(args.begin(), {kLumen, "ads"});
    args.push_back("--data-dir");
    args.push_back(dir_.string());
    return RunProcess(args);
  }

  // Creates advertiser 1, campaign 1 and an approved creative 1; returns nothing, asserts.
  void SetUpCatalog() {
    RunResult a =
        Ads({"advertiser", "create", "--name", "Acme Shoes", "--contact", "ads@acme.test"});
    ASSERT_EQ(a.code, 0) << a.err;
    EXPECT_NE(a.out.find("advertiser 1 created"), std::string::npos) << a.out;
    const std::size_t key = a.out.find("api key (shown once, keep it): lak_");
    ASSERT_NE(key, std::string::npos) << a.out;
    EXPECT_EQ(a.out.find('\n', key) - (key + 35), 32u) << a.out;  // 24 random bytes, base64url
    RunResult c =
        Ads({"campaign", "create", "--advertiser", "1", "--name", "Spring", "--cpm", "2.50",
             "--budget", "100", "--daily-budget", "10", "--keyword", "phrase:running shoes",
             "--keyword", "exact:trail shoes", "--negative", "free"});
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_NE(c.out.find("campaign 1 created"), std::string::npos);
    RunResult k = Ads({"creative", "create", "--campaign", "1", "--title", "Fast shoes", "--body",
                       "Light and cushioned", "--display-url", "acme.test", "--landing-url",
                       "https://acme.test/run", "--approve"});
    ASSERT_EQ(k.code, 0) << k.err;
  }

  // Serves and bills `n` impressions through the library API on the same data folder.
  void Traffic(int n) {
    AdsOptions o;
    o.db_path = (dir_ / "ads.db").string();
    o.secret_key_file = (dir_ / "ads.key").string();
    o.frequency_cap_session = 0;
    auto server = AdServer::Open(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    const ClientInfo browser{"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "198.51.100.4"};
    for (int i = 0; i < n; ++i) {
      RequestContext ctx;
      ctx.client = browser;
      const ServeResult r = (*server)->Serve("best running shoes", ctx);
      ASSERT_EQ(r.slots.size(), 1u) << r.reason;
      ASSERT_EQ((*server)->RecordImpression(r.slots[0].impression_token, browser).outcome,
                BeaconOutcome::kBillable);
    }
  }

  fs::path dir_;
};

TEST_F(AdsCliTest, CreateListPauseAndResume) {
  SetUpCatalog();
  RunResult list = Ads({"campaign", "list"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("Spring"), std::string::npos);
  EXPECT_NE(list.out.find("2.50"), std::string::npos);
  EXPECT_NE(list.out.find("phrase:running shoes, exact:trail shoes"), std::string::npos);
  EXPECT_EQ(Ads({"campaign", "pause", "1"}).code, 0);
  EXPECT_NE(Ads({"campaign", "list"}).out.find("paused"), std::string::npos);
  EXPECT_EQ(Ads({"campaign", "resume", "1"}).code, 0);
  EXPECT_NE(Ads({"advertiser", "list"}).out.find("Acme Shoes"), std::string::npos);
  EXPECT_EQ(Ads({"advertiser", "pause", "1"}).code, 0);
  EXPECT_NE(Ads({"creative", "list"}).out.find("approved"), std::string::npos);
  EXPECT_EQ(Ads({"creative", "pause", "1"}).code, 0);
  // The signing key was never needed by the command line; ads.db lives in the data folder.
  EXPECT_TRUE(fs::exists(dir_ / "ads.db"));
}

TEST_F(AdsCliTest, BadInputIsAUsageErrorWithAClearMessage) {
  SetUpCatalog();
  struct Case {
    std::vector<std::string> args;
    const char* message;
  } cases[] = {
      {{"campaign", "create", "--advertiser", "1", "--name", "x", "--cpm", "0", "--budget", "1",
        "--keyword", "a"},
       "CPM bid must be greater than zero"},
      {{"campaign", "create", "--advertiser", "1", "--name", "x", "--cpm", "-1", "--budget", "1",
        "--keyword", "a"},
       "CPM bid must be greater than zero"},
      {{"campaign", "create", "--advertiser", "1", "--name", "x", "--cpm", "1.1234567", "--budget",
        "1", "--keyword", "a"},
       "more than 6 decimals"},
      {{"creative", "create", "--campaign", "1", "--title", "t", "--display-url", "d",
        "--landing-url", "javascript:alert(1)"},
       "must start with http:// or https://"},
      {{"creative", "create", "--campaign", "1", "--title", std::string(61, 'x'), "--display-url",
        "d", "--landing-url", "https://a.test/"},
       "title is 61 characters"},
      {{"campaign", "pause", "abc"}, "not a campaign ID"},
      {{"campaign", "frobnicate"}, "unknown subcommand"},
  };
  for (const Case& c : cases) {
    const RunResult r = Ads(c.args);
    EXPECT_EQ(r.code, 2) << c.message << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  const RunResult missing = Ads({"campaign", "pause", "99"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("campaign 99 does not exist"), std::string::npos) << missing.err;
}

TEST_F(AdsCliTest, ReportAndCsvExport) {
  SetUpCatalog();
  Traffic(4);
  RunResult r = Ads({"report", "--by", "campaign"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Spring"), std::string::npos) << r.out;
  const std::string csv = (dir_ / "report.csv").string();
  RunResult c = Ads({"report", "--by", "day", "--output", csv});
  ASSERT_EQ(c.code, 0) << c.err;
  std::ifstream in(csv);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().rfind(
                "group,id,name,currency,served,billable,clicks,invalid,ctr,spend,ecpm\r\n", 0),
            0u);
  // Alone in the auction it pays the reserve, 0.10 per thousand: 4 impressions cost 0.0004.
  EXPECT_NE(text.str().find(",USD,4,4,0,0,0.00%,0.0004,0.10\r\n"), std::string::npos) << text.str();
}

TEST_F(AdsCliTest, VerifySucceedsThenNamesATamperedEntry) {
  SetUpCatalog();
  Traffic(3);
  RunResult ok = Ads({"verify"});
  ASSERT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("ledger verified: 6 entries"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("billable impressions: 3"), std::string::npos) << ok.out;
  const std::size_t at = ok.out.find("head hash: ");
  ASSERT_NE(at, std::string::npos);
  const std::string head = ok.out.substr(at + 11, 64);
  EXPECT_EQ(head.find_first_not_of("0123456789abcdef"), std::string::npos) << head;
  EXPECT_EQ(Ads({"verify", "--expect-head", head}).code, 0);
  EXPECT_EQ(Ads({"verify", "--expect-head", std::string(64, '0')}).code, 1);

  RunResult adj = Ads({"adjust", "--campaign", "1", "--amount", "-0.0001", "--memo", "goodwill"});
  ASSERT_EQ(adj.code, 0) << adj.err;
  EXPECT_NE(adj.out.find("ledger entry 7"), std::string::npos) << adj.out;
  EXPECT_EQ(Ads({"verify"}).code, 0);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "ads.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER ledger_append_only_u;"
                         "UPDATE ledger SET price_cpm_micros = 1 WHERE seq = 4",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  RunResult bad = Ads({"verify"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("first inconsistent entry: 4"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace lumen::ads
