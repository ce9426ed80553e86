// Shared set-up for the ads integration tests: a temporary data folder with a real ads.db, a
// catalog with advertisers, campaigns and approved creatives, and an AdServer over it with a
// clock the test controls.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ads/ad_server.h"
#include "ads/catalog.h"
#include "ads/ledger_verify.h"
#include "ads/sqlite_store.h"

namespace lumen::ads::testing {

inline constexpr const char* kBrowser =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36";
// 2026-11-30T10:00:00Z
inline constexpr std::int64_t kStartUs = 1'796'032'800'000'000;

inline std::vector<std::uint8_t> TestKey() {
  return std::vector<std::uint8_t>(32, 0x5a);
}

class AdsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lumen_ads_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.db_path = (dir_ / "ads.db").string();
    options_.secret_key_file = (dir_ / "ads.key").string();
    options_.reserve_cpm_micros = 100'000;
    options_.quality_threshold_ppm = 500'000;
    options_.max_beacons_per_client_per_minute = 0;
    options_.durability = Durability::kNormal;
    now_ = kStartUs;
    admin_ = *SqliteStore::Open(options_.db_path, {.durability = options_.durability});
  }
  void TearDown() override {
    server_.reset();
    admin_.reset();
    std::filesystem::remove_all(dir_);
  }

  AdServer::Clock Clock() {
    return [this] { return now_.load(); };
  }
  AdCatalog Catalog() { return AdCatalog(*admin_, Clock()); }

  std::int64_t AddAdvertiser(const std::string& name, const std::string& currency = "USD") {
    Advertiser a{.name = name, .contact = "billing@" + name + ".test", .currency = currency};
    auto r = Catalog().CreateAdvertiser(a);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->id;
  }

  // A campaign with one approved creative; returns the campaign id.
  std::int64_t AddCampaign(std::int64_t advertiser, const std::string& keyword, MatchType match,
                           Micros cpm, Micros total_budget, Micros daily_budget = 0,
                           const std::string& landing = "https://shop.example/shoes") {
    Campaign c;
    c.advertiser_id = advertiser;
    c.name = "campaign " + keyword;
    c.cpm_bid_micros = cpm;
    c.total_budget_micros = total_budget;
    c.daily_budget_micros = daily_budget;
    c.targeting.keywords = {{keyword, match}};
    auto id = Catalog().CreateCampaign(c);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    Creative k;
    k.campaign_id = *id;
    k.title = "Ad for " + keyword;
    k.body = "Body text";
    k.display_url = "shop.example";
    k.landing_url = landing;
    auto cr = Catalog().CreateCreative(k, /*approve=*/true);
    EXPECT_TRUE(cr.ok()) << cr.status().ToString();
    last_creative_ = *cr;
    return *id;
  }

  void StartServer() {
    server_.reset();
    auto w = SqliteStore::Open(options_.db_path, {.durability = options_.durability});
    auto r = SqliteStore::Open(options_.db_path, {.durability = options_.durability});
    ASSERT_TRUE(w.ok() && r.ok());
    auto s = AdServer::Create(options_, TestKey(), std::move(*w), std::move(*r), Clock());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }

  RequestContext Browser(const std::string& request_id = "") {
    RequestContext c;
    c.request_id = request_id;
    c.client = {kBrowser, "203.0.113.7"};
    return c;
  }
  ClientInfo BrowserClient() { return {kBrowser, "203.0.113.7"}; }

  VerifyReport Verify() {
    auto r = VerifyLedger(*admin_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }

  std::filesystem::path dir_;
  AdsOptions options_;
  std::atomic<std::int64_t> now_{0};
  std::unique_ptr<SqliteStore> admin_;
  std::unique_ptr<AdServer> server_;
  std::int64_t last_creative_ = 0;
};

}  // namespace lumen::ads::testing
