// The AdServer as the web layer will call it: serve, impression beacon, click, against a real
// ads.db.
#include "ads/ad_server.h"

#include <gtest/gtest.h>

#include "ads/crypto.h"
#include "ads/report.h"
#include "tests/integration/ads/ads_test_support.h"

namespace lumen::ads::testing {
namespace {

class AdServerTest : public AdsFixture {};

TEST_F(AdServerTest, ServeReturnsALabelledSlotWithSignedTokensForARelevantQuestion) {
  const std::int64_t adv = AddAdvertiser("acme");
  const std::int64_t cmp =
      AddCampaign(adv, "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  StartServer();
  const ServeResult r = server_->Serve("best running shoes for flat feet", Browser("req-1"));
  ASSERT_EQ(r.slots.size(), 1u) << r.reason;
  const SponsoredSlot& s = r.slots[0];
  EXPECT_EQ(r.request_id, "req-1");
  EXPECT_EQ(s.label, "Sponsored");
  EXPECT_EQ(s.slot, 1);
  EXPECT_EQ(s.campaign_id, cmp);
  EXPECT_EQ(s.title, "Ad for running shoes");
  EXPECT_FALSE(s.impression_token.empty());
  EXPECT_NE(s.impression_token, s.click_token);
  // Alone in the auction it pays the reserve.
  const TokenSigner::Verified v =
      TokenSigner(TestKey()).Verify(s.impression_token, TokenKind::kImpression);
  ASSERT_TRUE(v.ok);
  EXPECT_EQ(v.token.price_cpm_micros, 100'000);
  EXPECT_EQ(v.token.request_id, "req-1");
  // The price is reserved until the beacon or the expiry.
  EXPECT_EQ(admin_->GetSpend(cmp, DayOf(now_))->reserved, 100'000);
}

TEST_F(AdServerTest, NoAdRatherThanAnIrrelevantAd) {
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  StartServer();
  EXPECT_TRUE(server_->Serve("how do I bake sourdough bread", Browser()).slots.empty());
  // A broad match covering a sliver of a long question is under the quality threshold.
  options_.quality_threshold_ppm = 900'000;
  StartServer();
  EXPECT_TRUE(
      server_->Serve("running shoes for trail marathon races in winter", Browser()).slots.empty());
  EXPECT_FALSE(server_->Serve("running shoes", Browser()).slots.empty());
}

TEST_F(AdServerTest, BotsAndClientsWithoutUserAgentGetNoSlots) {
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  StartServer();
  RequestContext bot = Browser();
  bot.client.user_agent = "Mozilla/5.0 (compatible; bingbot/2.0)";
  EXPECT_TRUE(server_->Serve("running shoes", bot).slots.empty());
  RequestContext none = Browser();
  none.client.user_agent = "";
  EXPECT_TRUE(server_->Serve("running shoes", none).slots.empty());
}

TEST_F(AdServerTest, ImpressionIsBilledOnceAndRepeatsAreAnsweredAsDuplicates) {
  const std::int64_t cmp = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase,
                                       2'500'000, 100'000'000);
  StartServer();
  const ServeResult r = server_->Serve("running shoes", Browser());
  ASSERT_EQ(r.slots.size(), 1u);
  const BeaconResult first =
      server_->RecordImpression(r.slots[0].impression_token, BrowserClient());
  EXPECT_EQ(first.outcome, BeaconOutcome::kBillable);
  EXPECT_EQ(first.http_status, 200);
  for (int i = 0; i < 3; ++i) {
    const BeaconResult again =
        server_->RecordImpression(r.slots[0].impression_token, BrowserClient());
    EXPECT_EQ(again.outcome, BeaconOutcome::kDuplicate);
    EXPECT_EQ(again.http_status, 200);
    EXPECT_EQ(again.reason, InvalidReason::kDuplicate);
  }
  const CampaignSpend s = *admin_->GetSpend(cmp, DayOf(now_));
  EXPECT_EQ(s.spent, 100'000);  // one impression at CPM 0.10 = 0.0001 = 100,000 nanos
  EXPECT_EQ(s.reserved, 0);
  const VerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.billable, 1);
  EXPECT_EQ(v.entries, 5);  // served, billable, 3 duplicates
}

TEST_F(AdServerTest, SecondPriceAcrossTwoAdvertisersAndTwoSlots) {
  const std::int64_t a =
      AddCampaign(AddAdvertiser("a"), "running shoes", MatchType::kPhrase, 3'000'000, 100'000'000);
  const std::int64_t b =
      AddCampaign(AddAdvertiser("b"), "running shoes", MatchType::kPhrase, 2'000'000, 100'000'000);
  options_.slots = 2;
  StartServer();
  const ServeResult r = server_->Serve("running shoes", Browser());
  ASSERT_EQ(r.slots.size(), 2u);
  EXPECT_EQ(r.slots[0].campaign_id, a);
  EXPECT_EQ(r.slots[1].campaign_id, b);
  const TokenSigner signer(TestKey());
  // Same relevance: the winner pays the runner-up's bid; the runner-up the reserve.
  EXPECT_EQ(
      signer.Verify(r.slots[0].impression_token, TokenKind::kImpression).token.price_cpm_micros,
      2'000'000);
  EXPECT_EQ(
      signer.Verify(r.slots[1].impression_token, TokenKind::kImpression).token.price_cpm_micros,
      100'000);
}

TEST_F(AdServerTest, ForgedGarbledWrongKindAndUnservedTokensAreInvalidAndNeverBilled) {
  const std::int64_t cmp = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase,
                                       2'500'000, 100'000'000);
  StartServer();
  const ServeResult r = server_->Serve("running shoes", Browser());
  ASSERT_EQ(r.slots.size(), 1u);
  const std::string good = r.slots[0].impression_token;

  // Forged: a valid-looking token under another key, and the real one with a byte changed.
  ImpressionToken t = TokenSigner(TestKey()).Verify(good, TokenKind::kImpression).token;
  const std::string other_key = TokenSigner(std::vector<std::uint8_t>(32, 1)).Sign(t);
  std::vector<std::uint8_t> raw = *Base64UrlDecode(good);
  raw[40] ^= 0x40;  // the price
  const std::string tampered = Base64UrlEncode(raw);
  struct Case {
    std::string token;
    InvalidReason reason;
    int http;
  } cases[] = {
      {other_key, InvalidReason::kBadSignature, 200},
      {tampered, InvalidReason::kBadSignature, 200},
      {"garbage!!", InvalidReason::kMalformedToken, 400},
      {"", InvalidReason::kMalformedToken, 400},
      {std::string(5000, 'A'), InvalidReason::kMalformedToken, 400},
      {r.slots[0].click_token, InvalidReason::kWrongTokenKind, 200},
  };
  for (const Case& c : cases) {
    const BeaconResult b = server_->RecordImpression(c.token, BrowserClient());
    EXPECT_EQ(b.outcome, BeaconOutcome::kInvalid) << c.token.substr(0, 20);
    EXPECT_EQ(b.reason, c.reason) << c.token.substr(0, 20);
    EXPECT_EQ(b.http_status, c.http);
  }
  // Authentic but never served (a beacon without a serve).
  t.impression_id[0] ^= 1;
  const BeaconResult unserved =
      server_->RecordImpression(TokenSigner(TestKey()).Sign(t), BrowserClient());
  EXPECT_EQ(unserved.reason, InvalidReason::kNoServe);
  EXPECT_EQ(admin_->GetSpend(cmp, DayOf(now_))->spent, 0);
  // The real token still bills afterwards.
  EXPECT_EQ(server_->RecordImpression(good, BrowserClient()).outcome, BeaconOutcome::kBillable);
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AdServerTest, ExpiredTokensAreInvalidAndTheirReservationIsReleased) {
  const std::int64_t cmp = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase,
                                       2'500'000, 100'000'000);
  StartServer();
  const ServeResult r = server_->Serve("running shoes", Browser());
  ASSERT_EQ(r.slots.size(), 1u);
  now_ += (options_.token_ttl_s + 1) * 1'000'000;
  const BeaconResult b = server_->RecordImpression(r.slots[0].impression_token, BrowserClient());
  EXPECT_EQ(b.outcome, BeaconOutcome::kInvalid);
  EXPECT_EQ(b.reason, InvalidReason::kExpired);
  const CampaignSpend s = *admin_->GetSpend(cmp, DayOf(kStartUs));
  EXPECT_EQ(s.spent, 0);
  EXPECT_EQ(s.reserved, 0);
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AdServerTest, UnrenderedSlotsReleaseTheirReservationAtExpiry) {
  const std::int64_t cmp = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase,
                                       2'500'000, 100'000'000);
  StartServer();
  ASSERT_EQ(server_->Serve("running shoes", Browser()).slots.size(), 1u);
  EXPECT_EQ(admin_->GetSpend(cmp, DayOf(kStartUs))->reserved, 100'000);
  now_ += (options_.token_ttl_s + 2) * 1'000'000;
  server_->Serve("nothing relevant here", Browser());
  server_->RecordImpression("x", BrowserClient());  // any write runs the sweep
  EXPECT_EQ(admin_->GetSpend(cmp, DayOf(kStartUs))->reserved, 0);
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AdServerTest, BotAndMissingUserAgentBeaconsAreInvalidForGood) {
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  StartServer();
  const ServeResult a = server_->Serve("running shoes", Browser());
  const ServeResult b = server_->Serve("running shoes", Browser());
  ASSERT_EQ(a.slots.size(), 1u);
  ASSERT_EQ(b.slots.size(), 1u);
  const BeaconResult bot =
      server_->RecordImpression(a.slots[0].impression_token, {"Googlebot/2.1", "66.249.66.1"});
  EXPECT_EQ(bot.reason, InvalidReason::kBotUserAgent);
  const BeaconResult none = server_->RecordImpression(b.slots[0].impression_token, {"", "1.2.3.4"});
  EXPECT_EQ(none.reason, InvalidReason::kMissingUserAgent);
  // The first decision is final: a later browser beacon does not bill a filtered impression.
  EXPECT_NE(server_->RecordImpression(a.slots[0].impression_token, BrowserClient()).outcome,
            BeaconOutcome::kBillable);
  EXPECT_EQ(Verify().billable, 0);
}

TEST_F(AdServerTest, ImpossibleRatesFromOneClientAreInvalid) {
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  options_.max_beacons_per_client_per_minute = 2;
  options_.frequency_cap_session = 0;
  StartServer();
  std::vector<BeaconOutcome> outcomes;
  for (int i = 0; i < 4; ++i) {
    const ServeResult r = server_->Serve("running shoes", Browser());
    ASSERT_EQ(r.slots.size(), 1u);
    outcomes.push_back(
        server_->RecordImpression(r.slots[0].impression_token, BrowserClient()).outcome);
  }
  EXPECT_EQ(outcomes,
            (std::vector<BeaconOutcome>{BeaconOutcome::kBillable, BeaconOutcome::kBillable,
                                        BeaconOutcome::kInvalid, BeaconOutcome::kInvalid}));
}

TEST_F(AdServerTest, ClickRedirectsOnlyToTheSignedCreativeAndCountsOnce) {
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000, 0,
              "https://shop.example/landing?x=1");
  StartServer();
  const ServeResult r = server_->Serve("running shoes", Browser());
  ASSERT_EQ(r.slots.size(), 1u);
  const std::string click = r.slots[0].click_token;
  // Before the impression was reported: redirected, not counted.
  ClickResult early = server_->RecordClick(click, BrowserClient());
  EXPECT_EQ(early.http_status, 302);
  EXPECT_EQ(early.landing_url, "https://shop.example/landing?x=1");
  EXPECT_FALSE(early.counted);
  EXPECT_EQ(early.reason, InvalidReason::kClickWithoutImpression);
  ASSERT_EQ(server_->RecordImpression(r.slots[0].impression_token, BrowserClient()).outcome,
            BeaconOutcome::kBillable);
  const ClickResult c = server_->RecordClick(click, BrowserClient());
  EXPECT_TRUE(c.counted);
  EXPECT_EQ(c.landing_url, "https://shop.example/landing?x=1");
  const ClickResult again = server_->RecordClick(click, BrowserClient());
  EXPECT_FALSE(again.counted);
  EXPECT_EQ(again.reason, InvalidReason::kDuplicateClick);
  EXPECT_EQ(again.http_status, 302);
  // A forged click token redirects nowhere.
  const ClickResult forged = server_->RecordClick("AAAA" + click.substr(4), BrowserClient());
  EXPECT_TRUE(forged.landing_url.empty());
  EXPECT_EQ(forged.http_status, 400);
  // An impression token is not a click token.
  EXPECT_TRUE(
      server_->RecordClick(r.slots[0].impression_token, BrowserClient()).landing_url.empty());
  const VerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
}

TEST_F(AdServerTest, InvalidLandingUrlsAndOverlongTitlesNeverReachTheCatalog) {
  const std::int64_t adv = AddAdvertiser("acme");
  Campaign c;
  c.advertiser_id = adv;
  c.name = "x";
  c.cpm_bid_micros = 1'000'000;
  c.total_budget_micros = 1'000'000;
  c.targeting.keywords = {{"shoes", MatchType::kBroad}};
  const std::int64_t cmp = *Catalog().CreateCampaign(c);
  Creative k{.campaign_id = cmp, .title = "ok", .display_url = "x.example"};
  for (const char* url : {"javascript:alert(document.cookie)",
                          "data:text/html;base64,PHNjcmlwdD4=", "//evil.example/", "https://"}) {
    k.landing_url = url;
    EXPECT_FALSE(Catalog().CreateCreative(k).ok()) << url;
  }
  k.landing_url = "https://x.example/";
  k.title = std::string(61, 't');
  EXPECT_FALSE(Catalog().CreateCreative(k).ok());
  c.cpm_bid_micros = 0;
  EXPECT_FALSE(Catalog().CreateCampaign(c).ok());
  c.cpm_bid_micros = -5;
  EXPECT_FALSE(Catalog().CreateCampaign(c).ok());
  c.cpm_bid_micros = 1;
  c.advertiser_id = 999;
  EXPECT_EQ(Catalog().CreateCampaign(c).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Catalog().Creatives()->empty());
}

TEST_F(AdServerTest, BudgetsAreNeverOverspentEvenWithOutstandingReservations) {
  // Total budget for exactly 3 impressions at the reserve (0.10 CPM = 0.0001 each).
  const std::int64_t cmp =
      AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 300);
  options_.frequency_cap_session = 0;
  StartServer();
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i) {
    const ServeResult r = server_->Serve("running shoes", Browser());
    if (!r.slots.empty()) tokens.push_back(r.slots[0].impression_token);
  }
  EXPECT_EQ(tokens.size(), 3u) << "only what the budget can pay for is served";
  for (const std::string& t : tokens) {
    EXPECT_EQ(server_->RecordImpression(t, BrowserClient()).outcome, BeaconOutcome::kBillable);
  }
  EXPECT_TRUE(server_->Serve("running shoes", Browser()).slots.empty()) << "out of budget";
  EXPECT_EQ(admin_->GetSpend(cmp, DayOf(now_))->spent, MicrosToNanos(300));
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AdServerTest, DailyBudgetResetsTheNextDay) {
  const std::int64_t cmp = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase,
                                       2'500'000, 1'000'000, /*daily=*/200);
  options_.frequency_cap_session = 0;
  StartServer();
  int served = 0;
  for (int i = 0; i < 5; ++i) served += !server_->Serve("running shoes", Browser()).slots.empty();
  EXPECT_EQ(served, 2);
  now_ += 86'400'000'000LL;
  served = 0;
  for (int i = 0; i < 5; ++i) served += !server_->Serve("running shoes", Browser()).slots.empty();
  EXPECT_EQ(served, 2);
  (void)cmp;
}

TEST_F(AdServerTest, FrequencyCapsPerSessionAndPerUser) {
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  options_.frequency_cap_session = 2;
  options_.frequency_cap_user_per_day = 3;
  StartServer();
  RequestContext ctx = Browser();
  ctx.user_id = "visitor-1";
  ctx.session_id = "s1";
  int served = 0;
  for (int i = 0; i < 5; ++i) served += !server_->Serve("running shoes", ctx).slots.empty();
  EXPECT_EQ(served, 2);
  ctx.session_id = "s2";
  served = 0;
  for (int i = 0; i < 5; ++i) served += !server_->Serve("running shoes", ctx).slots.empty();
  EXPECT_EQ(served, 1) << "the user cap (3 a day) stops the second session after one";
  ctx.user_id = "visitor-2";
  ctx.session_id = "s3";
  EXPECT_FALSE(server_->Serve("running shoes", ctx).slots.empty());
}

TEST_F(AdServerTest, PausedCampaignsAndUnreviewedCreativesAreNotServed) {
  const std::int64_t cmp = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase,
                                       2'500'000, 100'000'000);
  StartServer();
  ASSERT_FALSE(server_->Serve("running shoes", Browser()).slots.empty());
  ASSERT_TRUE(Catalog().SetCampaignStatus(cmp, CampaignStatus::kPaused).ok());
  ASSERT_TRUE(server_->RefreshCatalog().ok());
  EXPECT_TRUE(server_->Serve("running shoes", Browser()).slots.empty());
  ASSERT_TRUE(Catalog().SetCampaignStatus(cmp, CampaignStatus::kActive).ok());
  ASSERT_TRUE(Catalog().ReviewCreative(last_creative_, ReviewState::kRejected).ok());
  ASSERT_TRUE(server_->RefreshCatalog().ok());
  EXPECT_TRUE(server_->Serve("running shoes", Browser()).slots.empty());
  EXPECT_EQ(Catalog().SetCampaignStatus(12345, CampaignStatus::kPaused).code(),
            StatusCode::kNotFound);
}

TEST_F(AdServerTest, AuctionIsDeterministicGivenSeedAndRequestId) {
  const std::int64_t adv1 = AddAdvertiser("a"), adv2 = AddAdvertiser("b");
  AddCampaign(adv1, "running shoes", MatchType::kPhrase, 1'000'000, 100'000'000);
  AddCampaign(adv2, "running shoes", MatchType::kPhrase, 1'000'000, 100'000'000);
  options_.seed = 42;
  options_.frequency_cap_session = 0;
  StartServer();
  for (int i = 0; i < 5; ++i) {
    const std::string rid = "request-" + std::to_string(i);
    const std::int64_t first =
        server_->Serve("running shoes", Browser(rid)).slots.at(0).campaign_id;
    EXPECT_EQ(server_->Serve("running shoes", Browser(rid)).slots.at(0).campaign_id, first);
  }
}

TEST_F(AdServerTest, ReportsShowServedBillableClicksCtrSpendAndEcpm) {
  const std::int64_t adv = AddAdvertiser("acme");
  const std::int64_t cmp =
      AddCampaign(adv, "running shoes", MatchType::kPhrase, 2'500'000, 100'000'000);
  options_.frequency_cap_session = 0;
  StartServer();
  for (int i = 0; i < 8; ++i) {
    const ServeResult r = server_->Serve("running shoes", Browser());
    ASSERT_EQ(r.slots.size(), 1u);
    if (i < 4) server_->RecordImpression(r.slots[0].impression_token, BrowserClient());
    if (i == 0) server_->RecordClick(r.slots[0].click_token, BrowserClient());
  }
  auto rows = BuildReport(*admin_, ReportGrouping::kCampaign, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  const ReportRow& row = (*rows)[0];
  EXPECT_EQ(row.id, cmp);
  EXPECT_EQ(row.served, 8);
  EXPECT_EQ(row.billable, 4);
  EXPECT_EQ(row.clicks, 1);
  EXPECT_EQ(row.spend, 4 * 100'000);
  EXPECT_EQ(FormatCtr(row.clicks, row.billable), "25.00%");
  EXPECT_EQ(FormatEcpm(row.spend, row.billable), "0.10");
  auto days = BuildReport(*admin_, ReportGrouping::kDay, {.advertiser_id = adv});
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].key, "2026-11-30");
  auto hours = BuildReport(*admin_, ReportGrouping::kHour, {});
  EXPECT_EQ((*hours)[0].key, "2026-11-30T10:00Z");
  EXPECT_NE(ReportToCsv(*rows, ReportGrouping::kCampaign).find(",8,4,1,0,25.00%,0.0004,0.10\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace lumen::ads::testing
