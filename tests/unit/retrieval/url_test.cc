// URL normalization: one spelling per page.
#include "retrieval/url.h"

#include <gtest/gtest.h>

namespace lumen::retrieval {
namespace {

std::string N(std::string_view url) {
  Result<std::string> r = NormalizeUrl(url);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(UrlTest, LowerCasesSchemeAndHostAndDropsDefaultPortAndFragment) {
  EXPECT_EQ(N("HTTP://Example.COM:80/A/b?x=1#frag"), "http://example.com/A/b?x=1");
  EXPECT_EQ(N("https://example.com:443"), "https://example.com/");
  EXPECT_EQ(N("https://example.com:8443/x"), "https://example.com:8443/x");
}

TEST(UrlTest, RemovesDotSegmentsAndNormalizesPercentEncoding) {
  EXPECT_EQ(N("http://a.com/b/../c/./d"), "http://a.com/c/d");
  EXPECT_EQ(N("http://a.com/%7euser/%2fx%3a"), "http://a.com/~user/%2Fx%3A");
  EXPECT_EQ(N("http://a.com/a b/\xC3\xA9"), "http://a.com/a%20b/%C3%A9");
  EXPECT_EQ(N("http://a.com/100%"), "http://a.com/100%25");
}

TEST(UrlTest, RemovesTrackingParametersAndKeepsOthersInOrder) {
  EXPECT_EQ(N("https://a.com/p?utm_source=x&b=2&fbclid=1&a=1&gclid=z&UTM_medium=m"),
            "https://a.com/p?b=2&a=1");
  EXPECT_EQ(N("https://a.com/p?utm_source=x"), "https://a.com/p");
  EXPECT_TRUE(IsTrackingParameter("utm_campaign"));
  EXPECT_FALSE(IsTrackingParameter("page"));
}

TEST(UrlTest, RefusesOtherSchemesAndGarbage) {
  EXPECT_FALSE(NormalizeUrl("ftp://a.com/x").ok());
  EXPECT_FALSE(NormalizeUrl("javascript:alert(1)").ok());
  EXPECT_FALSE(NormalizeUrl("mailto:a@b.c").ok());
  EXPECT_FALSE(NormalizeUrl("/relative/path").ok());
  EXPECT_FALSE(NormalizeUrl("").ok());
  EXPECT_FALSE(NormalizeUrl("http://").ok());
}

TEST(UrlTest, ResolvesRelativeReferences) {
  const std::string base = "https://a.com/dir/page.html?q=1";
  EXPECT_EQ(*ResolveUrl(base, "other.html"), "https://a.com/dir/other.html");
  EXPECT_EQ(*ResolveUrl(base, "../up"), "https://a.com/up");
  EXPECT_EQ(*ResolveUrl(base, "/root#x"), "https://a.com/root");
  EXPECT_EQ(*ResolveUrl(base, "//cdn.b.com/x"), "https://cdn.b.com/x");
  EXPECT_EQ(*ResolveUrl(base, "?page=2"), "https://a.com/dir/page.html?page=2");
  EXPECT_EQ(*ResolveUrl(base, "  http://c.com/ \n"), "http://c.com/");
  EXPECT_FALSE(ResolveUrl(base, "javascript:void(0)").ok());
}

TEST(UrlTest, ResolverFastPathAgreesWithLibcurl) {
  const std::string base = "https://News.Example.com:443/dir/page.html?q=1";
  const UrlResolver resolver(base);
  for (std::string_view ref : {"/a/b?utm_source=x&id=3#top",
                               "/",
                               "/a%7eb/c%2fd?x=%41",
                               "/a b",
                               "/a/./b",
                               "/a/../b",
                               "https://Other.COM/x?fbclid=1",
                               "http://h.com:80/p",
                               "https://h.com:8443",
                               "http://h.com:",
                               "http://1.2.3.4/x",
                               "https://h.com/p#f",
                               "//cdn.h.com/x",
                               "rel/x",
                               "?page=2",
                               "https://h..com/",
                               "http://h.com:0080/",
                               "/%2e%2e/x",
                               "https://xn--bcher-kva.example/",
                               "http://user@h.com/",
                               "mailto:x@y",
                               "javascript:void(0)",
                               "/\xC3\xA9t\xC3\xA9"}) {
    Result<std::string> slow = ResolveUrl(base, ref);
    Result<std::string> fast = resolver.Resolve(ref);
    ASSERT_EQ(slow.ok(), fast.ok()) << ref;
    if (slow.ok()) {
      EXPECT_EQ(*slow, *fast) << ref;
    }
  }
  // A fragment-only link points into the same page: not a link to follow.
  EXPECT_FALSE(resolver.Resolve("#frag").ok());
}

TEST(UrlTest, SplitsIntoParts) {
  Result<UrlParts> p = SplitUrl("https://Example.com:8443/a?b=1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->scheme, "https");
  EXPECT_EQ(p->host, "example.com");
  EXPECT_EQ(p->port, 8443);
  EXPECT_EQ(p->path, "/a?b=1");
  Result<UrlParts> v6 = SplitUrl("http://[::1]/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 80);
}

}  // namespace
}  // namespace lumen::retrieval
