// The advertiser dashboard over real HTTP on loopback, on a real ads.db (SQLite) with ledger
// traffic recorded by a real AdServer: sign-in, cookies, CSRF, rate limiting, isolation between
// advertisers, campaign and creative forms with validation, and report numbers equal to the
// ledger's report.
#include "web/dashboard.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>

#include <sqlite3.h>

#include "ads/account.h"
#include "ads/ad_server.h"
#include "ads/catalog.h"
#include "ads/ledger_verify.h"
#include "ads/options.h"
#include "ads/report.h"
#include "ads/sqlite_store.h"
#include "tests/support/subprocess.h"

namespace lumen::web {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassword = "correct horse battery";

// application/x-www-form-urlencoded value encoding.
std::string FormEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class DashboardTest : public ::testing::Test {
 protected:
  DashboardTest() : log_(LogLevel::kOff) {}

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_dashboard_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    {
      auto store = ads::SqliteStore::Open((dir_ / "ads.db").string());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ads::AdCatalog catalog(**store);
      for (int i = 0; i < 2; ++i) {
        ads::Advertiser a;
        a.name = i == 0 ? "Tabular Tools" : "Rival Corp";
        a.contact = i == 0 ? "ads@tabular.test" : "ads@rival.test";
        auto adv = catalog.CreateAdvertiser(a);
        ASSERT_TRUE(adv.ok());
        advertiser_[i] = adv->id;
        ads::Campaign c;
        c.advertiser_id = adv->id;
        c.name = i == 0 ? "csv tools" : "rival json";
        c.cpm_bid_micros = i == 0 ? 2'500'000 : 1'000'000;
        c.total_budget_micros = 100'000'000;
        c.targeting.keywords = {{i == 0 ? "csv" : "json", ads::MatchType::kBroad}};
        auto campaign = catalog.CreateCampaign(c);
        ASSERT_TRUE(campaign.ok());
        campaign_[i] = *campaign;
        ads::Creative cr;
        cr.campaign_id = *campaign;
        cr.title = i == 0 ? "Clean CSV files" : "Rival JSON";
        cr.body = "A fictional tool.";
        cr.display_url = i == 0 ? "tabular.test" : "rival.test";
        cr.landing_url = i == 0 ? "https://tabular.test/" : "https://rival.test/";
        auto creative = catalog.CreateCreative(cr, /*approve=*/true);
        ASSERT_TRUE(creative.ok());
        creative_[i] = *creative;
      }
      ads::AccountBook accounts(**store);
      ASSERT_TRUE(accounts
                      .Create("Alice@Tabular.test", ads::AccountRole::kAdvertiser, advertiser_[0],
                              kPassword, NowUs())
                      .ok());
      ASSERT_TRUE(accounts
                      .Create("bob@rival.test", ads::AccountRole::kAdvertiser, advertiser_[1],
                              kPassword, NowUs())
                      .ok());
      ASSERT_TRUE(
          accounts.Create("ops@lumen.test", ads::AccountRole::kOperator, 0, kPassword, NowUs())
              .ok());
    }
    config_ = std::make_unique<Config>(
        *Config::Load({.overrides = {{"data_dir", dir_.string()},
                                     {"dashboard.signin_attempts_per_minute_per_account", "4"}}}));
  }

  // Serves real ad traffic for advertiser 0: 3 served, 2 billable, 1 click.
  void RecordTraffic() {
    auto options = ads::AdsOptions::FromConfig(*config_);
    ASSERT_TRUE(options.ok());
    auto server = ads::AdServer::Open(*options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    const ads::ClientInfo client{"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "192.0.2.7"};
    std::vector<ads::SponsoredSlot> slots;
    for (int i = 0; i < 3; ++i) {
      ads::RequestContext ctx;
      ctx.client = client;
      ctx.session_id = "s" + std::to_string(i);
      ads::ServeResult r = (*server)->Serve("how do I read a csv file", ctx);
      ASSERT_EQ(r.slots.size(), 1u) << r.reason;
      slots.push_back(r.slots[0]);
    }
    EXPECT_EQ((*server)->RecordImpression(slots[0].impression_token, client).outcome,
              ads::BeaconOutcome::kBillable);
    EXPECT_EQ((*server)->RecordImpression(slots[1].impression_token, client).outcome,
              ads::BeaconOutcome::kBillable);
    (*server)->RecordClick(slots[0].click_token, client);
  }

  void Serve() {
    auto options = DashboardOptions::FromConfig(*config_);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    auto dashboard = Dashboard::Open(*options, log_);
    ASSERT_TRUE(dashboard.ok()) << dashboard.status().ToString();
    dashboard_ = std::move(*dashboard);
    server_ = std::make_unique<HttpServer>(HttpServerOptions{.port = 0}, log_);
    dashboard_->Register(*server_);
    ASSERT_TRUE(server_->Bind().ok());
    runner_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (runner_.valid()) runner_.wait();
    dashboard_.reset();
    fs::remove_all(dir_);
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }

  static std::string Csrf(const std::string& html) {
    std::smatch m;
    if (!std::regex_search(html, m, std::regex(R"(name="csrf" value="([^"]+)\")"))) return "";
    return m[1].str();
  }

  static std::string CookiePair(const httplib::Result& res, const std::string& name) {
    for (const auto& [k, v] : res->headers) {
      if (k == "Set-Cookie" && v.rfind(name + "=", 0) == 0) return v.substr(0, v.find(';'));
    }
    return "";
  }

  // A signed-in browser: its session cookie and the session's CSRF token.
  struct Browser {
    std::string cookie;
    std::string csrf;
  };

  Browser SignIn(const std::string& email, const std::string& password = kPassword,
                 int expect = 303) {
    auto c = Client();
    auto page = c.Get("/ads/signin");
    EXPECT_TRUE(page);
    if (!page) return {};
    const std::string signin_cookie = CookiePair(page, "lumen_signin_csrf");
    const std::string form =
        "csrf=" + Csrf(page->body) + "&email=" + email + "&password=" + FormEncode(password);
    auto res = c.Post("/ads/signin", {{"Cookie", signin_cookie}}, form,
                      "application/x-www-form-urlencoded");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << res->body;
    Browser b;
    b.cookie = CookiePair(res, "lumen_session");
    if (expect == 303) {
      auto home = c.Get("/ads/", {{"Cookie", b.cookie}});
      if (home && home->status == 200) b.csrf = Csrf(home->body);
    }
    return b;
  }

  httplib::Result Get(const Browser& b, const std::string& path) {
    return Client().Get(path, {{"Cookie", b.cookie}});
  }
  httplib::Result Post(const Browser& b, const std::string& path, const std::string& form,
                       bool with_csrf = true) {
    const std::string body = with_csrf ? "csrf=" + b.csrf + (form.empty() ? "" : "&" + form) : form;
    return Client().Post(path, {{"Cookie", b.cookie}}, body, "application/x-www-form-urlencoded");
  }

  std::vector<ads::Campaign> Campaigns() {
    auto store = ads::SqliteStore::Open((dir_ / "ads.db").string());
    return *ads::AdCatalog(**store).Campaigns();
  }

  fs::path dir_;
  Logger log_;
  std::unique_ptr<Config> config_;
  std::int64_t advertiser_[2] = {0, 0};
  std::int64_t campaign_[2] = {0, 0};
  std::int64_t creative_[2] = {0, 0};
  std::unique_ptr<Dashboard> dashboard_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> runner_;
};

TEST_F(DashboardTest, SignedOutVisitorsAreSentToTheSignInPage) {
  Serve();
  auto res = Client().Get("/ads/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location"), "/ads/signin");
  auto forged = Client().Get(
      "/ads/", {{"Cookie", "lumen_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}});
  EXPECT_EQ(forged->status, 303);
}

TEST_F(DashboardTest, SignInSetsAHardenedSessionCookieAndSignOutEndsTheSession) {
  Serve();
  auto c = Client();
  auto page = c.Get("/ads/signin");
  ASSERT_TRUE(page);
  const std::string form =
      "csrf=" + Csrf(page->body) + "&email=alice%40tabular.test&password=" + FormEncode(kPassword);
  const httplib::Headers cookie = {{"Cookie", CookiePair(page, "lumen_signin_csrf")},
                                   {"X-Forwarded-Proto", "https"}};
  auto res = c.Post("/ads/signin", cookie, form, "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 303) << res->body;
  std::string set_cookie;
  for (const auto& [k, v] : res->headers) {
    if (k == "Set-Cookie" && v.rfind("lumen_session=", 0) == 0) set_cookie = v;
  }
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("Secure"), std::string::npos) << "behind TLS: " << set_cookie;
  EXPECT_NE(set_cookie.find("Path=/ads"), std::string::npos) << set_cookie;
  // 256-bit token: 43 base64url characters.
  const std::string token = set_cookie.substr(14, set_cookie.find(';') - 14);
  EXPECT_EQ(token.size(), 43u);
  // Stored hashed: the token itself is nowhere in the database file.
  {
    std::ifstream db(dir_ / "ads.db", std::ios::binary);
    std::ifstream wal(dir_ / "ads.db-wal", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(db)), {});
    bytes.append((std::istreambuf_iterator<char>(wal)), {});
    EXPECT_EQ(bytes.find(token), std::string::npos);
  }

  // Plain HTTP: no Secure flag (the browser would drop the cookie).
  Browser alice = SignIn("alice%40tabular.test");
  ASSERT_FALSE(alice.csrf.empty());
  auto home = Get(alice, "/ads/");
  ASSERT_EQ(home->status, 200);
  EXPECT_NE(home->body.find("csv tools"), std::string::npos);
  EXPECT_EQ(home->body.find("rival json"), std::string::npos) << "another advertiser's campaign";
  EXPECT_EQ(home->get_header_value("Cache-Control"), "no-store");

  auto out = Post(alice, "/ads/signout", "");
  ASSERT_EQ(out->status, 303);
  EXPECT_EQ(Get(alice, "/ads/")->status, 303) << "the old cookie no longer signs in";
}

TEST_F(DashboardTest, WrongPasswordsAndUnknownAccountsAreRefusedAlike) {
  Serve();
  Browser wrong = SignIn("alice%40tabular.test", "not the password", 401);
  EXPECT_TRUE(wrong.cookie.empty());
  Browser unknown = SignIn("nobody%40tabular.test", kPassword, 401);
  EXPECT_TRUE(unknown.cookie.empty());
  Browser malformed = SignIn("%3Cscript%3E", kPassword, 401);
  EXPECT_TRUE(malformed.cookie.empty());
}

TEST_F(DashboardTest, SignInAttemptsAreRateLimitedPerAccount) {
  Serve();
  for (int i = 0; i < 4; ++i)
    SignIn("alice%40tabular.test", "wrong password " + std::to_string(i), 401);
  // The fifth attempt within the minute is refused even with the right password.
  auto c = Client();
  auto page = c.Get("/ads/signin");
  auto res = c.Post(
      "/ads/signin", {{"Cookie", CookiePair(page, "lumen_signin_csrf")}},
      "csrf=" + Csrf(page->body) + "&email=alice%40tabular.test&password=" + FormEncode(kPassword),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_FALSE(res->get_header_value("Retry-After").empty());
  // Another account from the same address is not locked out by it.
  SignIn("bob%40rival.test");
}

TEST_F(DashboardTest, PostsWithoutTheCsrfTokenAreForbidden) {
  Serve();
  // Sign-in without the double-submit token.
  auto res = Client().Post("/ads/signin", "email=alice%40tabular.test&password=x",
                           "application/x-www-form-urlencoded");
  EXPECT_EQ(res->status, 403);
  Browser alice = SignIn("alice%40tabular.test");
  const std::string form = "name=Sneaky&cpm=1.00&budget=10&keywords=csv&pacing=asap";
  auto no_token = Post(alice, "/ads/campaigns", form, /*with_csrf=*/false);
  EXPECT_EQ(no_token->status, 403);
  auto wrong = Post(alice, "/ads/campaigns", "csrf=" + std::string(43, 'A') + "&" + form, false);
  EXPECT_EQ(wrong->status, 403);
  auto pause = Post(alice, "/ads/campaigns/" + std::to_string(campaign_[0]) + "/status",
                    "action=pause", false);
  EXPECT_EQ(pause->status, 403);
  EXPECT_EQ(Campaigns().size(), 2u) << "nothing was created";
  EXPECT_EQ(Campaigns()[0].status, ads::CampaignStatus::kActive) << "nothing was paused";
}

TEST_F(DashboardTest, AnotherAdvertisersIdsAnswer404InUrlsAndForms) {
  Serve();
  Browser alice = SignIn("alice%40tabular.test");
  const std::string theirs = std::to_string(campaign_[1]);
  const std::string their_creative = std::to_string(creative_[1]);
  for (const std::string& path :
       {"/ads/campaigns/" + theirs, "/ads/campaigns/" + theirs + "/edit",
        "/ads/campaigns/" + theirs + "/creatives/new", "/ads/creatives/" + their_creative + "/edit",
        "/ads/reports?by=day&campaign=" + theirs, "/ads/reports.csv?by=day&campaign=" + theirs,
        std::string("/ads/campaigns/999999"), std::string("/ads/operator")}) {
    auto res = Get(alice, path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->body.find("rival"), std::string::npos) << path;
  }
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + theirs + "/status", "action=pause")->status, 404);
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + theirs, "name=Mine+now&keywords=json")->status, 404);
  EXPECT_EQ(Post(alice, "/ads/creatives/" + their_creative + "/status", "action=pause")->status,
            404);
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + theirs + "/creatives",
                 "title=x&body=y&display_url=a.test&landing_url=https%3A%2F%2Fa.test%2F")
                ->status,
            404);
  const auto all = Campaigns();
  EXPECT_EQ(all[1].name, "rival json");
  EXPECT_EQ(all[1].status, ads::CampaignStatus::kActive);
  // Their own campaign is theirs.
  EXPECT_EQ(Get(alice, "/ads/campaigns/" + std::to_string(campaign_[0]))->status, 200);
}

TEST_F(DashboardTest, CampaignsAreCreatedEditedAndPausedWithValidatedMoney) {
  Serve();
  Browser alice = SignIn("alice%40tabular.test");
  const std::string base =
      "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E+shoes&budget=1000&pacing=even"
      "&keywords=phrase%3Arunning+shoes%0D%0Asneakers&daily_budget=";
  // Bad money: too many decimals, an exponent, a negative bid, missing; each 400 with a message.
  for (const char* cpm : {"2.5000001", "1e3", "-1", "", "2,50", "0"}) {
    auto res = Post(alice, "/ads/campaigns", base + "&cpm=" + FormEncode(cpm));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << "cpm \"" << cpm << "\"";
    EXPECT_NE(res->body.find("class=\"error\""), std::string::npos);
    EXPECT_EQ(res->body.find("<script>"), std::string::npos) << "the name stays escaped";
  }
  EXPECT_EQ(Campaigns().size(), 2u);
  auto created = Post(alice, "/ads/campaigns", base + "&cpm=2.50");
  ASSERT_EQ(created->status, 303) << created->body;
  auto all = Campaigns();
  ASSERT_EQ(all.size(), 3u);
  const ads::Campaign& c = all.back();
  EXPECT_EQ(c.advertiser_id, advertiser_[0]) << "always the signed-in advertiser's";
  EXPECT_EQ(c.cpm_bid_micros, 2'500'000);
  EXPECT_EQ(c.total_budget_micros, 1'000'000'000);
  EXPECT_EQ(c.pacing, ads::Pacing::kEven);
  ASSERT_EQ(c.targeting.keywords.size(), 2u);
  EXPECT_EQ(c.targeting.keywords[0].match, ads::MatchType::kPhrase);
  const std::string id = std::to_string(c.id);
  EXPECT_EQ(created->get_header_value("Location"), "/ads/campaigns/" + id);
  auto page = Get(alice, "/ads/campaigns/" + id);
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("<script>alert"), std::string::npos);
  EXPECT_NE(page->body.find("&lt;script&gt;alert(1)&lt;/script&gt; shoes"), std::string::npos);

  // Edit: name and keywords change; an empty keyword list is refused.
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + id, "name=Shoes&keywords=&pacing=asap")->status, 400);
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + id, "name=Shoes&keywords=boots&pacing=asap")->status,
            303);
  EXPECT_EQ(Campaigns().back().name, "Shoes");
  EXPECT_EQ(Campaigns().back().cpm_bid_micros, 2'500'000) << "the bid is fixed";
  // Pause and resume.
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + id + "/status", "action=pause")->status, 303);
  EXPECT_EQ(Campaigns().back().status, ads::CampaignStatus::kPaused);
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + id + "/status", "action=explode")->status, 400);
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + id + "/status", "action=resume")->status, 303);
  EXPECT_EQ(Campaigns().back().status, ads::CampaignStatus::kActive);

  // Creatives: validation, then created pending review; editing sends it back to review.
  EXPECT_EQ(Post(alice, "/ads/campaigns/" + id + "/creatives",
                 "title=Run&body=Fast&display_url=shoes.test&landing_url=javascript%3Aalert(1)")
                ->status,
            400);
  EXPECT_EQ(
      Post(alice, "/ads/campaigns/" + id + "/creatives",
           "title=Run&body=Fast&display_url=shoes.test&landing_url=https%3A%2F%2Fshoes.test%2F")
          ->status,
      303);
  auto store = ads::SqliteStore::Open((dir_ / "ads.db").string());
  auto creatives = *ads::AdCatalog(**store).Creatives();
  EXPECT_EQ(creatives.back().title, "Run");
  EXPECT_EQ(creatives.back().review, ads::ReviewState::kPending);
  const std::string cid = std::to_string(creatives.back().id);
  EXPECT_EQ(Post(alice, "/ads/creatives/" + cid + "/status", "action=pause")->status, 303);
  EXPECT_EQ(Post(alice, "/ads/creatives/" + cid + "/status", "action=approve")->status, 400)
      << "only operators approve";
}

TEST_F(DashboardTest, ReportNumbersEqualTheLedgerReport) {
  RecordTraffic();
  Serve();
  Browser alice = SignIn("alice%40tabular.test");
  auto store = ads::SqliteStore::Open((dir_ / "ads.db").string());
  for (const char* by : {"day", "hour", "campaign", "creative"}) {
    const ads::ReportGrouping g = *ads::ParseReportGrouping(by);
    ads::ReportFilter f;
    f.advertiser_id = advertiser_[0];
    auto rows = ads::BuildReport(**store, g, f);
    ASSERT_TRUE(rows.ok());
    ASSERT_FALSE(rows->empty());
    auto csv = Get(alice, std::string("/ads/reports.csv?by=") + by);
    ASSERT_EQ(csv->status, 200);
    EXPECT_EQ(csv->body, ads::ReportToCsv(*rows, g)) << by;
    EXPECT_NE(csv->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
  }
  ads::ReportFilter f;
  f.advertiser_id = advertiser_[0];
  auto rows = *ads::BuildReport(**store, ads::ReportGrouping::kCampaign, f);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].served, 3);
  EXPECT_EQ(rows[0].billable, 2);
  // A lone bidder pays the reserve (ads.reserve_cpm 0.10): two impressions cost 2 x 100'000
  // nanos.
  EXPECT_EQ(rows[0].spend, 2 * 100'000);
  auto page = Get(alice, "/ads/campaigns/" + std::to_string(campaign_[0]) + "?by=hour");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<svg"), std::string::npos);
  EXPECT_NE(page->body.find("<td data-col=\"billable\">2</td>"), std::string::npos);
  EXPECT_NE(page->body.find("<td data-col=\"spend\">0.0002 USD</td>"), std::string::npos)
      << page->body;
  EXPECT_NE(page->body.find("<td data-col=\"ecpm\">0.10</td>"), std::string::npos);
  // The rival sees none of it.
  Browser bob = SignIn("bob%40rival.test");
  auto theirs = Get(bob, "/ads/reports.csv?by=campaign");
  EXPECT_EQ(theirs->body.find("csv tools"), std::string::npos);
}

TEST_F(DashboardTest, OperatorsSeeEveryAdvertiserRevenueAndTheLedgerStatus) {
  RecordTraffic();
  Serve();
  Browser ops = SignIn("ops%40lumen.test");
  auto page = Get(ops, "/ads/operator");
  ASSERT_EQ(page->status, 200);
  auto store = ads::SqliteStore::Open((dir_ / "ads.db").string());
  auto verify = ads::VerifyLedger(**store);
  ASSERT_TRUE(verify.ok() && verify->ok);
  EXPECT_NE(page->body.find("data-verified=\"true\""), std::string::npos);
  EXPECT_NE(page->body.find(verify->head_hash), std::string::npos);
  EXPECT_NE(page->body.find("Tabular Tools"), std::string::npos);
  EXPECT_NE(page->body.find("Rival Corp"), std::string::npos);
  EXPECT_NE(page->body.find("<li data-currency=\"USD\">" + ads::FormatNanos(verify->billed_nanos) +
                            " USD</li>"),
            std::string::npos)
      << page->body;
  // Operators may look at any campaign.
  EXPECT_EQ(Get(ops, "/ads/campaigns/" + std::to_string(campaign_[1]))->status, 200);
}

TEST_F(DashboardTest, AVersionOneAdsDatabaseIsMigratedAndANewerOneRefused) {
  const std::string path = (dir_ / "ads.db").string();
  auto exec = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  // What a build before the dashboard left behind: schema version 1, no accounts or sessions.
  exec("DROP TABLE sessions; DROP TABLE accounts; PRAGMA user_version=1;");
  {
    auto store = ads::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto accounts = (*store)->ListAccounts();
    ASSERT_TRUE(accounts.ok()) << accounts.status().ToString();
    EXPECT_TRUE(accounts->empty());
    EXPECT_EQ((*ads::AdCatalog(**store).Campaigns()).size(), 2u) << "the catalog is kept";
  }
  exec("PRAGMA user_version=3;");
  auto newer = ads::SqliteStore::Open(path);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kCorruption);
}

// `lumen ads account create` on the real binary: the password comes from stdin.
TEST_F(DashboardTest, AccountsAreCreatedFromTheCommandLineWithThePasswordOnStdin) {
  auto run = [&](const std::string& stdin_text, const std::string& args) {
    return test_support::RunProcess({"/bin/sh", "-c",
                                     "printf '%s' \"$1\" | " LUMEN_BINARY_DIR
                                     "/lumen ads account " +
                                         args + " --data-dir " + dir_.string(),
                                     "sh", stdin_text});
  };
  const std::string adv = std::to_string(advertiser_[0]);
  EXPECT_EQ(run("short\n", "create --advertiser " + adv + " --email c@tabular.test").code, 2);
  EXPECT_EQ(run("", "create --advertiser " + adv + " --email c@tabular.test").code, 2);
  EXPECT_EQ(run("long enough pw\n", "create --advertiser 999 --email c@tabular.test").code, 1);
  EXPECT_EQ(run("long enough pw\n", "create --advertiser " + adv + " --email nope").code, 2);
  EXPECT_EQ(
      run("long enough pw\n", "create --advertiser " + adv + " --email ALICE@tabular.test").code, 1)
      << "e-mails are unique regardless of case";
  auto ok = run("long enough pw\n", "create --advertiser " + adv + " --email c@tabular.test");
  EXPECT_EQ(ok.code, 0) << ok.err;
  auto list = run("", "list");
  EXPECT_NE(list.out.find("c@tabular.test"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("argon2"), std::string::npos) << "hashes are never printed";
  Serve();
  SignIn("c%40tabular.test", "long enough pw");
}

}  // namespace
}  // namespace lumen::web
