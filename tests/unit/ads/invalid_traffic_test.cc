#include "ads/invalid_traffic.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

constexpr const char* kChrome =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36";

TEST(InvalidTraffic, BuiltInListCatchesCommonCrawlersButNotBrowsers) {
  const BotList bots = BotList::BuiltIn();
  EXPECT_GT(bots.size(), 20u);
  EXPECT_TRUE(
      bots.IsBot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
  EXPECT_TRUE(
      bots.IsBot("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0)"));
  EXPECT_TRUE(bots.IsBot("curl/8.4.0"));
  EXPECT_TRUE(bots.IsBot("python-requests/2.31"));
  EXPECT_TRUE(bots.IsBot("Mozilla/5.0 HeadlessChrome/120.0"));
  EXPECT_FALSE(bots.IsBot(kChrome));
  EXPECT_FALSE(bots.IsBot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"));
}

TEST(InvalidTraffic, ListTextIgnoresCommentsAndBlankLines) {
  const BotList bots = BotList::FromText("# comment\n\n  MyBot  \r\nother\n");
  EXPECT_EQ(bots.size(), 2u);
  EXPECT_TRUE(bots.IsBot("xx mybot/1"));
  EXPECT_FALSE(bots.IsBot("# comment"));
}

TEST(InvalidTraffic, MissingUserAgentBotsAndFloodsAreRefused) {
  TrafficFilter f(BotList::BuiltIn(), 3);
  const std::int64_t t = 1'000'000'000'000;
  EXPECT_EQ(f.Check({"", "1.1.1.1"}, t), InvalidReason::kMissingUserAgent);
  EXPECT_EQ(f.Check({"Googlebot", "2.2.2.2"}, t), InvalidReason::kBotUserAgent);
  EXPECT_EQ(f.Check({kChrome, "3.3.3.3"}, t), std::nullopt);
  EXPECT_EQ(f.Check({kChrome, "3.3.3.3"}, t), std::nullopt);
  EXPECT_EQ(f.Check({kChrome, "3.3.3.3"}, t), std::nullopt);
  EXPECT_EQ(f.Check({kChrome, "3.3.3.3"}, t), InvalidReason::kRateLimited);
  EXPECT_EQ(f.Check({kChrome, "4.4.4.4"}, t), std::nullopt);               // per client
  EXPECT_EQ(f.Check({kChrome, "3.3.3.3"}, t + 60'000'000), std::nullopt);  // next minute
  EXPECT_EQ(Name(InvalidReason::kBotUserAgent), "bot_user_agent");
}

}  // namespace
}  // namespace lumen::ads
