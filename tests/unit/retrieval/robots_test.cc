// robots.txt per RFC 9309.
#include "retrieval/robots.h"

#include <gtest/gtest.h>

namespace lumen::retrieval {
namespace {

TEST(RobotsTest, LongestMatchWinsAndAllowWinsTies) {
  const RobotsRules r = RobotsRules::Parse(
      "User-agent: *\nDisallow: /private\nAllow: /private/public\nDisallow: /x\nAllow: /x\n",
      "LumenBot");
  EXPECT_FALSE(r.IsAllowed("/private/secret"));
  EXPECT_TRUE(r.IsAllowed("/private/public/page"));
  EXPECT_TRUE(r.IsAllowed("/x"));
  EXPECT_TRUE(r.IsAllowed("/other"));
}

TEST(RobotsTest, OurGroupReplacesTheStarGroupAndGroupsMerge) {
  const std::string txt =
      "User-agent: *\nDisallow: /\n\n"
      "User-agent: OtherBot\nUser-agent: lumenbot\nDisallow: /a\n\n"
      "User-agent: LumenBot/2.0\nDisallow: /b\nCrawl-delay: 2.5\n";
  const RobotsRules r = RobotsRules::Parse(txt, "LumenBot/0.1 (+https://x)");
  EXPECT_FALSE(r.IsAllowed("/a/1"));
  EXPECT_FALSE(r.IsAllowed("/b"));
  EXPECT_TRUE(r.IsAllowed("/c"));
  ASSERT_TRUE(r.crawl_delay_seconds().has_value());
  EXPECT_DOUBLE_EQ(*r.crawl_delay_seconds(), 2.5);
  const RobotsRules other = RobotsRules::Parse(txt, "SomeoneElse");
  EXPECT_FALSE(other.IsAllowed("/c"));
}

TEST(RobotsTest, WildcardsAndEndAnchors) {
  const RobotsRules r = RobotsRules::Parse(
      "user-agent: *\ndisallow: /*.pdf$\ndisallow: /search*q=\nallow: /*.pdf$?\n", "LumenBot");
  EXPECT_FALSE(r.IsAllowed("/docs/a.pdf"));
  EXPECT_TRUE(r.IsAllowed("/docs/a.pdf.html"));
  EXPECT_FALSE(r.IsAllowed("/search?lang=en&q=x"));
  EXPECT_TRUE(r.IsAllowed("/search?lang=en"));
}

TEST(RobotsTest, EmptyDisallowAllowsAndRobotsTxtIsAlwaysAllowed) {
  EXPECT_TRUE(RobotsRules::Parse("User-agent: *\nDisallow:\n", "LumenBot").IsAllowed("/x"));
  EXPECT_TRUE(RobotsRules::DisallowAll().IsAllowed("/robots.txt"));
  EXPECT_FALSE(RobotsRules::DisallowAll().IsAllowed("/"));
}

TEST(RobotsTest, PercentEncodingIsComparedCanonically) {
  const RobotsRules r = RobotsRules::Parse("User-agent: *\nDisallow: /caf%c3%a9\n", "LumenBot");
  EXPECT_FALSE(r.IsAllowed("/caf\xC3\xA9/menu"));
  EXPECT_FALSE(r.IsAllowed("/caf%C3%A9"));
}

TEST(RobotsTest, GarbageAndBinaryParseToNoRules) {
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk.push_back(static_cast<char>((i * 7919) % 256));
  const RobotsRules r = RobotsRules::Parse(junk, "LumenBot");
  EXPECT_TRUE(r.IsAllowed("/anything"));
  const RobotsRules html = RobotsRules::Parse("<html><body>Not found</body></html>", "LumenBot");
  EXPECT_TRUE(html.IsAllowed("/x"));
}

TEST(RobotsTest, OnlyTheFirstHalfMebibyteIsRead) {
  std::string big = "User-agent: *\n";
  while (big.size() < kMaxRobotsBytes) big += "# padding padding padding padding padding\n";
  big += "Disallow: /late\n";
  EXPECT_TRUE(RobotsRules::Parse(big, "LumenBot").IsAllowed("/late"));
}

TEST(RobotsTest, PathologicalWildcardsStayFast) {
  std::string pattern = "/";
  for (int i = 0; i < 200; ++i) pattern += "*a";
  const RobotsRules r = RobotsRules::Parse("User-agent: *\nDisallow: " + pattern + "b$\n", "X");
  EXPECT_TRUE(r.IsAllowed("/" + std::string(4000, 'a')));
}

TEST(RobotsTest, FetchOutcomesFollowRfc9309) {
  bool down = false;
  EXPECT_TRUE(RulesFromFetch({404, ""}, "LumenBot", &down).IsAllowed("/x"));
  EXPECT_FALSE(down);
  EXPECT_FALSE(RulesFromFetch({503, ""}, "LumenBot", &down).IsAllowed("/x"));
  EXPECT_TRUE(down);
  EXPECT_FALSE(RulesFromFetch({0, ""}, "LumenBot", &down).IsAllowed("/x"));
  EXPECT_FALSE(RulesFromFetch({429, ""}, "LumenBot", &down).IsAllowed("/x"));
  EXPECT_FALSE(
      RulesFromFetch({200, "User-agent: *\nDisallow: /x"}, "LumenBot", &down).IsAllowed("/x"));
}

TEST(RobotsTest, CacheExpiresEntries) {
  RobotsCache cache({.ttl = std::chrono::seconds(10), .unreachable_ttl = std::chrono::seconds(1)});
  const auto t0 = RobotsCache::Clock::now();
  cache.Put("http://a:80", RobotsRules::AllowAll(), false, t0);
  cache.Put("http://b:80", RobotsRules::DisallowAll(), true, t0);
  EXPECT_TRUE(cache.Find("http://a:80", t0 + std::chrono::seconds(5)).has_value());
  EXPECT_FALSE(cache.Find("http://b:80", t0 + std::chrono::seconds(5)).has_value());
  EXPECT_FALSE(cache.Find("http://a:80", t0 + std::chrono::seconds(11)).has_value());
}

}  // namespace
}  // namespace lumen::retrieval
