#include "ads/model.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

Creative GoodCreative() {
  Creative c;
  c.campaign_id = 1;
  c.title = "Fast running shoes";
  c.body = "Light, cushioned, free returns.";
  c.display_url = "example.com/shoes";
  c.landing_url = "https://example.com/shoes?utm=lumen";
  return c;
}

Campaign GoodCampaign() {
  Campaign c;
  c.advertiser_id = 1;
  c.name = "Shoes";
  c.cpm_bid_micros = 2'500'000;
  c.total_budget_micros = 100'000'000;
  c.targeting.keywords = {{"running shoes", MatchType::kPhrase}};
  return c;
}

TEST(Model, LandingUrlsMustBeHttpOrHttps) {
  EXPECT_TRUE(ValidateLandingUrl("https://example.com/").ok());
  EXPECT_TRUE(ValidateLandingUrl("HTTP://example.com:8080/a?b#c").ok());
  for (const char* bad :
       {"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>",
        "file:///etc/passwd", "//example.com/", "example.com", "ftp://example.com/", "https://",
        "https:///path", "https://user:pw@example.com/", "https://exa mple.com/",
        "https://example.com/\n", "vbscript:msgbox", ""}) {
    EXPECT_FALSE(ValidateLandingUrl(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateLandingUrl("https://example.com/" + std::string(3000, 'a')).ok());
}

TEST(Model, TitleIsLimitedToSixtyCharactersNotBytes) {
  Creative c = GoodCreative();
  c.title = std::string(60, 'x');
  EXPECT_TRUE(ValidateCreative(c).ok());
  c.title = std::string(61, 'x');
  const Status st = ValidateCreative(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("title is 61 characters"), std::string::npos) << st.message();
  std::string umlauts;
  for (int i = 0; i < 60; ++i) umlauts += "\xc3\xbc";  // 60 x ü = 120 bytes
  c.title = umlauts;
  EXPECT_TRUE(ValidateCreative(c).ok());
  c.title = "bad \xff utf8";
  EXPECT_FALSE(ValidateCreative(c).ok());
  c = GoodCreative();
  c.body = std::string(141, 'b');
  EXPECT_FALSE(ValidateCreative(c).ok());
  c = GoodCreative();
  c.title = "";
  EXPECT_FALSE(ValidateCreative(c).ok());
}

TEST(Model, BidsMustBePositiveAndBudgetsPresent) {
  EXPECT_TRUE(ValidateCampaign(GoodCampaign()).ok());
  Campaign c = GoodCampaign();
  c.cpm_bid_micros = 0;
  EXPECT_FALSE(ValidateCampaign(c).ok());
  c.cpm_bid_micros = -1;
  EXPECT_FALSE(ValidateCampaign(c).ok());
  c = GoodCampaign();
  c.total_budget_micros = 0;
  EXPECT_FALSE(ValidateCampaign(c).ok());
  c = GoodCampaign();
  c.daily_budget_micros = -5;
  EXPECT_FALSE(ValidateCampaign(c).ok());
  c = GoodCampaign();
  c.targeting.keywords.clear();
  EXPECT_FALSE(ValidateCampaign(c).ok());
  c = GoodCampaign();
  c.start_us = 100;
  c.end_us = 50;
  EXPECT_FALSE(ValidateCampaign(c).ok());
  c = GoodCampaign();
  c.cpm_bid_micros = kMaxCpmMicros + 1;
  EXPECT_FALSE(ValidateCampaign(c).ok());
}

TEST(Model, KeywordSpecsAndTargetingJsonRoundTrip) {
  EXPECT_EQ(ParseKeyword("phrase:running shoes")->match, MatchType::kPhrase);
  EXPECT_EQ(ParseKeyword("exact:x")->text, "x");
  EXPECT_EQ(ParseKeyword("trail shoes")->match, MatchType::kBroad);
  EXPECT_FALSE(ParseKeyword("").ok());
  Targeting t;
  t.keywords = {{"a b", MatchType::kExact}, {"c", MatchType::kBroad}};
  t.negative_keywords = {"free"};
  t.languages = {"en", "de"};
  Result<Targeting> back = TargetingFromJson(TargetingToJson(t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->keywords.size(), 2u);
  EXPECT_EQ(back->keywords[0].match, MatchType::kExact);
  EXPECT_EQ(back->negative_keywords, t.negative_keywords);
  EXPECT_EQ(back->languages, t.languages);
  EXPECT_FALSE(TargetingFromJson("{").ok());
}

TEST(Model, AdvertiserNeedsNameContactAndCurrencyCode) {
  Advertiser a{.name = "Acme", .contact = "ads@acme.test"};
  EXPECT_TRUE(ValidateAdvertiser(a).ok());
  a.currency = "usd";
  EXPECT_FALSE(ValidateAdvertiser(a).ok());
  a.currency = "USD";
  a.name = "";
  EXPECT_FALSE(ValidateAdvertiser(a).ok());
}

}  // namespace
}  // namespace lumen::ads
