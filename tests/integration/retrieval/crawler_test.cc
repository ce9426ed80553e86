// The crawler end to end: a local site, a real lumen.db, robots.txt, reasons, resumption.
#include "retrieval/crawler.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "retrieval/frontier.h"
#include "tests/integration/retrieval/fixture_server.h"

namespace lumen::retrieval {
namespace {

std::string Describe(const CrawlSummary& s) {
  std::string out = "done " + std::to_string(s.progress.done);
  for (const auto& [r, n] : s.skipped_by_reason) out += ", skipped " + r + " " + std::to_string(n);
  for (const auto& [r, n] : s.failed_by_reason) out += ", failed " + r + " " + std::to_string(n);
  return out;
}

std::int64_t Count(const std::map<std::string, std::int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

class CrawlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lumen-crawl-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Result<std::unique_ptr<Store>> store = Store::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    FetcherOptions f;
    f.per_host_delay_ms = 0;
    f.max_per_host = 4;
    f.connect_timeout_ms = 500;
    f.idle_timeout_ms = 500;
    f.total_timeout_ms = 1500;
    f.max_body_bytes = 1 << 20;
    fetcher_ = std::make_unique<Fetcher>(f, *AddressPolicy::Create({"127.0.0.1"}));
    options_.concurrency = 4;
    options_.retry_delay_s = 0;
    options_.max_retries = 0;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  CrawlSummary Crawl(const std::vector<std::string>& paths) {
    std::vector<std::string> seeds;
    for (const std::string& p : paths) seeds.push_back(server_.Url(p));
    Crawler crawler(*store_, *fetcher_, options_, log_);
    std::atomic<bool> stop{false};
    Result<CrawlSummary> s = crawler.Run(seeds, stop);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : CrawlSummary{};
  }

  test_support::FixtureServer server_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Fetcher> fetcher_;
  CrawlOptions options_;
  Logger log_{LogLevel::kOff};
};

TEST_F(CrawlerTest, StoresPagesAndPassagesAndRecordsAReasonForEveryHostileCase) {
  options_.max_depth = 0;
  const CrawlSummary s =
      Crawl({"/ok", "/malformed", "/latin1", "/binary", "/image", "/huge", "/loop-a", "/hang",
             "/status/404", "/status/500", "/retry-after", "/private/page", "/dup-a", "/dup-b"});
  EXPECT_FALSE(s.interrupted);
  SCOPED_TRACE(Describe(s));
  EXPECT_EQ(s.progress.done, 4) << "ok, malformed, latin1, one of the duplicates";
  EXPECT_EQ(Count(s.skipped_by_reason, "binary_content"), 1);
  EXPECT_EQ(Count(s.skipped_by_reason, "unsupported_content_type"), 1);
  EXPECT_EQ(Count(s.skipped_by_reason, "robots_disallowed"), 1);
  EXPECT_EQ(Count(s.skipped_by_reason, "near_duplicate"), 1);
  EXPECT_EQ(Count(s.failed_by_reason, "too_large"), 1);
  EXPECT_EQ(Count(s.failed_by_reason, "redirect_loop"), 1);
  EXPECT_EQ(Count(s.failed_by_reason, "stalled"), 1);
  EXPECT_EQ(Count(s.failed_by_reason, "http_404"), 1);
  EXPECT_EQ(Count(s.failed_by_reason, "http_500"), 1);
  EXPECT_EQ(Count(s.failed_by_reason, "http_429"), 1);
  Result<std::optional<PageRecord>> page = store_->FindPageByUrl(server_.Url("/latin1"));
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(page->has_value());
  EXPECT_NE((*page)->text.find("Caf\xC3\xA9 cr\xC3\xA8me"), std::string::npos);
  Result<std::vector<PassageView>> passages = store_->PassagesOfPage((*page)->id);
  ASSERT_TRUE(passages.ok());
  ASSERT_FALSE(passages->empty());
  for (const PassageView& p : *passages) {
    EXPECT_EQ((*page)->text.substr(p.passage.begin, p.passage.end - p.passage.begin),
              p.passage.text);
  }
}

TEST_F(CrawlerTest, FollowsLinksWithinDepthAndPageLimitAndResumesWithoutRefetching) {
  server_.SetFanout(2);
  options_.max_depth = 3;
  options_.max_pages = 4;
  options_.near_duplicate_bits = -1;  // the site's pages are nearly identical on purpose
  options_.same_host = true;
  const CrawlSummary first = Crawl({"/page/1"});
  // Four URLs finished: pages, and the site's "/" link, which is a 404.
  EXPECT_EQ(first.progress.done + first.progress.failed, 4) << Describe(first);
  EXPECT_GT(first.progress.queued, 0);
  // A second run continues from the frontier: new URLs only.
  const CrawlSummary second = Crawl({"/page/1"});
  EXPECT_EQ(second.progress.done + second.progress.failed, 4) << Describe(second);
  Result<std::int64_t> pages = store_->CountPages();
  ASSERT_TRUE(pages.ok());
  EXPECT_EQ(*pages, first.progress.done + second.progress.done);
  Result<Frontier> frontier = Frontier::Open(*store_);
  ASSERT_TRUE(frontier.ok());
  Result<std::map<std::string, std::int64_t>> states = frontier->CountByState();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(Count(*states, "done") + Count(*states, "failed"), 8);
  // --refresh fetches finished pages again (their text is unchanged).
  options_.refresh = true;
  options_.max_pages = 2;
  const CrawlSummary third = Crawl({"/page/1"});
  EXPECT_EQ(third.progress.done + third.progress.failed, 2) << Describe(third);
  EXPECT_GE(third.progress.done, 1);
  EXPECT_EQ(third.unchanged, third.progress.done);
}

TEST_F(CrawlerTest, DepthZeroFetchesOnlySeedsAndOtherHostsAreNotFollowed) {
  options_.max_depth = 1;
  options_.allow_hosts = {"elsewhere.example"};
  const CrawlSummary s = Crawl({"/page/1"});
  // The seed's own host is not allowed for links: only the seed itself is fetched.
  EXPECT_EQ(s.progress.done, 1);
  EXPECT_EQ(s.progress.queued, 0);
}

TEST_F(CrawlerTest, GarbageAndHugeRobotsTxtAreHandled) {
  std::string huge = "User-agent: *\n";
  while (huge.size() < (1u << 20))
    huge += "Disallow: /nothing-here-" + std::to_string(huge.size()) + "\n";
  huge += "Disallow: /ok\n";  // beyond the 512 KiB read: ignored
  server_.SetRobots(huge);
  options_.max_depth = 0;
  EXPECT_EQ(Crawl({"/ok"}).progress.done, 1);
}

TEST_F(CrawlerTest, Robots5xxPausesTheHost) {
  server_.SetRobots("oops", 503);
  options_.max_depth = 0;
  const CrawlSummary s = Crawl({"/ok"});
  EXPECT_EQ(s.progress.done, 0);
  EXPECT_EQ(Count(s.failed_by_reason, "robots_unreachable"), 1);
}

TEST_F(CrawlerTest, StopFlagInterruptsAndTheNextRunResumes) {
  options_.max_depth = 0;
  Crawler crawler(*store_, *fetcher_, options_, log_);
  std::atomic<bool> stop{true};
  Result<CrawlSummary> s = crawler.Run({server_.Url("/ok")}, stop);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->progress.done, 0);
  EXPECT_EQ(Crawl({}).progress.done, 1);
}

TEST_F(CrawlerTest, BadSeedIsAnError) {
  Crawler crawler(*store_, *fetcher_, options_, log_);
  std::atomic<bool> stop{false};
  EXPECT_EQ(crawler.Run({"ftp://x/"}, stop).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lumen::retrieval
