// Search provider answers and requests (SearXNG, Brave) and the request's source filters.
#include "retrieval/search_provider.h"

#include <gtest/gtest.h>

#include "retrieval/source_filter.h"

namespace lumen::retrieval {
namespace {

TEST(SearxngJson, ReadsResultsInOrderWithPublishedDates) {
  auto a = ParseSearxngJson(
      R"({"results":[
          {"url":"https://a.example/x","title":"A","content":"about a","engine":"ddg",
           "publishedDate":"2024-03-05T08:00:00"},
          {"url":"https://b.example/y","title":"B","content":"about b","engine":"bing",
           "publishedDate":null}],
          "unresponsive_engines":[]})",
      10);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->hits.size(), 2u);
  EXPECT_EQ(a->hits[0].url, "https://a.example/x");
  EXPECT_EQ(a->hits[0].title, "A");
  EXPECT_EQ(a->hits[0].snippet, "about a");
  EXPECT_EQ(a->hits[0].engine, "ddg");
  EXPECT_EQ(a->hits[0].published, 1709625600);
  EXPECT_EQ(a->hits[1].published, 0);
  EXPECT_TRUE(a->notes.empty());
}

TEST(SearxngJson, DropsNonHttpUrlsAndRepeatsAndKeepsAtMostMax) {
  auto a = ParseSearxngJson(
      R"j({"results":[{"url":"javascript:alert(1)"},{"url":"ftp://x.example/f"},
          {"url":"https://a.example/1"},{"url":"https://A.example/1"},{"title":"no url"},
          {"url":"https://a.example/2"},{"url":"https://a.example/3"}, 7, "x"]})j",
      2);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->hits.size(), 2u);
  EXPECT_EQ(a->hits[0].url, "https://a.example/1");
  EXPECT_EQ(a->hits[1].url, "https://a.example/2");
}

TEST(SearxngJson, NoResultsNamesTheUnresponsiveEngines) {
  auto a = ParseSearxngJson(
      R"({"results":[],"unresponsive_engines":[["google","timeout"],["bing","CAPTCHA"]]})", 10);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->hits.empty());
  ASSERT_EQ(a->notes.size(), 1u);
  EXPECT_EQ(a->notes[0],
            "SearXNG found no results; unresponsive engines: google (timeout), bing (CAPTCHA)");
}

TEST(SearxngJson, BadBodiesAreErrorsNotCrashes) {
  for (const char* body : {"", "<html>403</html>", "[]", "{\"results\":5}", "{\"x\":1}",
                           "{\"results\":[", "\xff\xfe"}) {
    EXPECT_FALSE(ParseSearxngJson(body, 10).ok()) << body;
  }
}

TEST(BraveJson, ReadsWebResults) {
  auto a = ParseBraveJson(
      R"({"type":"search","web":{"results":[
          {"url":"https://a.example/","title":"A","description":"d","page_age":"2024-01-02"}]}})",
      10);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->hits.size(), 1u);
  EXPECT_EQ(a->hits[0].snippet, "d");
  EXPECT_EQ(a->hits[0].published, 1704153600);
  auto none = ParseBraveJson(R"({"type":"search"})", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->hits.empty());
  EXPECT_FALSE(none->notes.empty());
  EXPECT_FALSE(ParseBraveJson(R"({"web":{"results":{}}})", 10).ok());
  EXPECT_FALSE(ParseBraveJson("nope", 10).ok());
}

TEST(ProviderRequests, SearxngUrlEscapesTheQuestionAndCarriesOptions) {
  SearchProviderOptions o;
  o.url = "http://127.0.0.1:8888/";
  o.categories = "general";
  o.language = "en";
  ProviderQuery q{.question = "c++ & rust?", .recency = Recency::kWeek, .page = 2};
  EXPECT_EQ(SearxngRequestUrl(o, q),
            "http://127.0.0.1:8888/search?q=c%2B%2B%20%26%20rust%3F&format=json&categories=general"
            "&language=en&time_range=week&pageno=2");
}

TEST(ProviderRequests, BraveUrlMapsRecencyToFreshness) {
  SearchProviderOptions o;
  o.url = "https://api.search.brave.com";
  ProviderQuery q{.question = "q", .recency = Recency::kDay, .max_results = 50};
  EXPECT_EQ(BraveRequestUrl(o, q),
            "https://api.search.brave.com/res/v1/web/search?q=q&count=20&freshness=pd");
}

TEST(ProviderFactory, NoneIsNullAndBadSettingsAreErrors) {
  SearchProviderOptions o;
  auto none = CreateSearchProvider(o);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
  o.kind = "searxng";
  o.url = "127.0.0.1:8888";
  EXPECT_FALSE(CreateSearchProvider(o).ok());
  o.kind = "brave";
  o.url = "https://api.search.brave.com";
  EXPECT_FALSE(CreateSearchProvider(o).ok());  // no key
  o.kind = "bing";
  EXPECT_FALSE(CreateSearchProvider(o).ok());
}

TEST(ProviderConfig, UnknownProviderAndMissingUrlNameTheKey) {
  auto c = Config::FromText(R"({"search": {"provider": "google"}})", "test.json");
  ASSERT_TRUE(c.ok());
  auto o = SearchProviderOptions::FromConfig(*c);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("search.provider"), std::string::npos);
  c = Config::FromText(R"({"search": {"provider": "searx"}})", "test.json");
  ASSERT_TRUE(c.ok());
  o = SearchProviderOptions::FromConfig(*c);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("search.url"), std::string::npos);
}

TEST(SourceFilter, DomainsIncludeSubdomainsAndExcludeWins) {
  const std::vector<std::string> domains = {"Python.org", "-bugs.python.org", "-spam.example"};
  auto f = SourceFilter::Parse(Recency::kAny, domains);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->AllowsUrl("https://docs.python.org/3/library/csv.html"));
  EXPECT_TRUE(f->AllowsUrl("https://www.python.org/"));
  EXPECT_FALSE(f->AllowsUrl("https://bugs.python.org/issue1"));
  EXPECT_FALSE(f->AllowsUrl("https://notpython.org/"));
  EXPECT_FALSE(f->AllowsUrl("not a url"));
  const std::vector<std::string> only_exclude = {"-spam.example"};
  auto g = SourceFilter::Parse(Recency::kAny, only_exclude);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->AllowsUrl("https://ham.example/"));
  EXPECT_FALSE(g->AllowsUrl("https://www.spam.example/"));
  EXPECT_EQ(f->Key(), "|python.org|-bugs.python.org|-spam.example");
}

TEST(SourceFilter, BadDomainsAreClearErrors) {
  for (const char* bad : {"", "-", "a b.com", "http://x.com", "x..com", ".x.com", "-.x",
                          "x.com/path", "\xc3\xa9.com"}) {
    const std::vector<std::string> d = {bad};
    auto f = SourceFilter::Parse(Recency::kAny, d);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_NE(f.status().message().find("domains"), std::string::npos);
  }
  std::vector<std::string> many(21, "a.com");
  EXPECT_FALSE(SourceFilter::Parse(Recency::kAny, many).ok());
}

TEST(SourceFilter, RecencyDropsKnownOldPagesAndKeepsUndated) {
  auto f = SourceFilter::Parse(Recency::kWeek, {});
  ASSERT_TRUE(f.ok());
  const std::int64_t now = 1'700'000'000;
  EXPECT_TRUE(f->AllowsDate(now - 6 * 86400, now));
  EXPECT_FALSE(f->AllowsDate(now - 8 * 86400, now));
  EXPECT_TRUE(f->AllowsDate(0, now));
  EXPECT_EQ(*ParseRecency("Month"), Recency::kMonth);
  EXPECT_EQ(*ParseRecency(""), Recency::kAny);
  auto bad = ParseRecency("fortnight");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("day, week, month, year"), std::string::npos);
}

}  // namespace
}  // namespace lumen::retrieval
