// Live search over loopback: the providers against a server speaking their JSON APIs, on-demand
// fetching from a real little web site through the real fetcher into a real store, and the
// query service answering from what was read — or, when the provider fails, from the local
// index with a note saying why.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "retrieval/live_search.h"
#include "tests/integration/retrieval/live_fixtures.h"
#include "web/http_server.h"
#include "web/query_service.h"
#include "web/rate_limiter.h"
#include "web/search_api.h"

namespace lumen::retrieval {
namespace {

namespace fs = std::filesystem;
using test_support::FakeHit;
using test_support::PageSite;
using test_support::ProviderFake;
using Mode = ProviderFake::Mode;
using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("lumen-live-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

SearchProviderOptions SearxOptions(const ProviderFake& fake) {
  SearchProviderOptions o;
  o.kind = "searxng";
  o.url = fake.Url();
  o.timeout_ms = 2000;
  o.backoff_s = 60;
  return o;
}

LiveFetchOptions FetchOptions(int budget_ms) {
  LiveFetchOptions o;
  o.budget_ms = budget_ms;
  o.max_pages = 5;
  o.chunker.min_words = 20;
  o.chunker.max_words = 120;
  return o;
}

AddressPolicy Loopback() {
  return *AddressPolicy::Create({"127.0.0.1"});
}

const char kOtterText[] =
    "Sea otters hold hands while they sleep so that they do not drift apart, and they wrap "
    "themselves in giant kelp to stay anchored in the currents of the bay.";
const char kVolcanoText[] =
    "The Krakatoa eruption of 1883 was heard nearly five thousand kilometres away, the loudest "
    "sound in recorded history according to most accounts of the event.";

TEST(SearxngProvider, SendsTheQuestionAsJsonRequestAndReadsTheResults) {
  ProviderFake fake;
  fake.SetHits({{"http://127.0.0.1:1/a", "Otters", "snippet a", "2024-05-01T00:00:00"}});
  auto provider = CreateSearchProvider(SearxOptions(fake));
  ASSERT_TRUE(provider.ok());
  auto a = (*provider)->Search({.question = "sea otters", .recency = Recency::kMonth},
                               Deadline::AfterMs(5000));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->hits.size(), 1u);
  EXPECT_EQ(a->hits[0].title, "Otters");
  EXPECT_GT(a->hits[0].published, 0);
  EXPECT_EQ(fake.Param("q"), "sea otters");
  EXPECT_EQ(fake.Param("format"), "json");
  EXPECT_EQ(fake.Param("time_range"), "month");
  EXPECT_EQ(fake.Param("categories"), "general");
}

TEST(SearxngProvider, Forbidden403SaysJsonIsDisabledAndHowToEnableIt) {
  ProviderFake fake;
  fake.SetMode(Mode::kForbidden);
  auto provider = *CreateSearchProvider(SearxOptions(fake));
  auto a = provider->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kPermissionDenied);
  const std::string m = a.status().message();
  EXPECT_NE(m.find("JSON output is not enabled in its settings.yml"), std::string::npos) << m;
  EXPECT_NE(m.find("formats: [html, json]"), std::string::npos) << m;
}

TEST(SearxngProvider, RateLimit429BacksOffWithoutAskingAgain) {
  ProviderFake fake;
  fake.SetMode(Mode::kRateLimited);
  auto provider = *CreateSearchProvider(SearxOptions(fake));
  auto first = provider->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("429"), std::string::npos);
  EXPECT_NE(first.status().message().find("backing off for 30 s"), std::string::npos)
      << first.status().message();
  EXPECT_EQ(fake.requests(), 1);
  fake.SetMode(Mode::kResults);
  auto second = provider->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("s left"), std::string::npos);
  EXPECT_EQ(fake.requests(), 1);  // no request while backing off
}

TEST(SearxngProvider, NoResultsNamesUnresponsiveEngines) {
  ProviderFake fake;
  fake.SetMode(Mode::kNoResults);
  auto provider = *CreateSearchProvider(SearxOptions(fake));
  auto a = provider->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->notes.size(), 1u);
  EXPECT_NE(a->notes[0].find("google (timeout), bing (CAPTCHA)"), std::string::npos);
}

TEST(SearxngProvider, OutageIsUnavailableNamingTheUrl) {
  std::string url;
  {
    ProviderFake gone;
    url = gone.Url();
  }
  SearchProviderOptions o;
  o.kind = "searxng";
  o.url = url;
  auto provider = *CreateSearchProvider(o);
  auto a = provider->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(a.status().message().find("cannot reach searxng at " + url), std::string::npos)
      << a.status().message();
}

TEST(BraveProvider, SendsTheSubscriptionTokenAndReadsWebResults) {
  ProviderFake fake;
  fake.SetHits({{"https://a.example/", "A", "desc", "2024-01-02T00:00:00"}});
  SearchProviderOptions o;
  o.kind = "brave";
  o.url = fake.Url();
  o.api_key = "test-key";
  auto provider = *CreateSearchProvider(o);
  auto a = provider->Search({.question = "q w", .recency = Recency::kYear, .max_results = 5},
                            Deadline::AfterMs(5000));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->hits.size(), 1u);
  EXPECT_EQ(a->hits[0].snippet, "desc");
  EXPECT_EQ(fake.token(), "test-key");
  EXPECT_EQ(fake.Param("q"), "q w");
  EXPECT_EQ(fake.Param("count"), "5");
  EXPECT_EQ(fake.Param("freshness"), "py");

  o.api_key = "wrong";
  auto refused = (*CreateSearchProvider(o))->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("refused the API key"), std::string::npos);

  o.api_key = "test-key";
  fake.SetMode(Mode::kRateLimited);
  auto limited = (*CreateSearchProvider(o))->Search({.question = "q"}, Deadline::AfterMs(5000));
  ASSERT_FALSE(limited.ok());
  EXPECT_NE(limited.status().message().find("backing off for 1 s"), std::string::npos)
      << limited.status().message();
}

TEST(LiveFetcher, StoresReadPagesAndSkipsTheSlowOneWithinTheBudget) {
  PageSite site;
  site.AddArticle("otters",
                  test_support::ArticlePage("Sea otters", kOtterText, "2025-06-01T10:00:00Z"));
  site.AddArticle("volcano", test_support::ArticlePage("Krakatoa", kVolcanoText));
  site.AddArticle("secret", test_support::ArticlePage("Secret", kOtterText));
  TempDir dir;
  auto store = *Store::Open(dir.str());
  LiveFetcher fetcher(*store, FetchOptions(1500), Loopback());
  const std::vector<SearchHit> hits = {{.url = site.Url("/article/otters")},
                                       {.url = site.Url("/slow")},
                                       {.url = site.Url("/private/secret")},
                                       {.url = site.Url("/article/missing")},
                                       {.url = site.Url("/article/volcano"), .published = 42}};
  const auto t0 = Clock::now();
  LiveFetchReport r = fetcher.FetchAndStore(hits, Deadline::AfterMs(10000));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  ASSERT_EQ(r.pages.size(), 5u);
  EXPECT_EQ(r.pages[0].outcome, "ok");
  EXPECT_GT(r.pages[0].passages, 0);
  EXPECT_EQ(r.pages[1].outcome, "over_budget");
  EXPECT_EQ(r.pages[2].outcome, "robots_disallowed");
  EXPECT_EQ(r.pages[3].outcome, "http_404");
  EXPECT_EQ(r.pages[4].outcome, "ok");
  EXPECT_LT(ms, 1500 + 1000);  // the slow page (10 s) was abandoned at the budget
  EXPECT_EQ(site.Hits("/private/secret"), 0);

  auto otters = store->FindPageByUrl(site.Url("/article/otters"));
  ASSERT_TRUE(otters.ok() && otters->has_value());
  EXPECT_EQ((*otters)->title, "Sea otters");
  EXPECT_GT((*otters)->fetched_at, 0);
  EXPECT_EQ((*otters)->published, 1748772000);  // from the page's own date
  auto volcano = store->FindPageByUrl(site.Url("/article/volcano"));
  ASSERT_TRUE(volcano.ok() && volcano->has_value());
  EXPECT_EQ((*volcano)->published, 42);  // the provider's date when the page states none
  auto hits_bm25 = store->SearchBm25("kelp otters", 5);
  ASSERT_TRUE(hits_bm25.ok());
  EXPECT_FALSE(hits_bm25->empty());
}

TEST(LiveFetcher, FreshStoredPagesAreNotFetchedAgain) {
  PageSite site;
  site.AddArticle("otters", test_support::ArticlePage("Sea otters", kOtterText));
  TempDir dir;
  auto store = *Store::Open(dir.str());
  LiveFetchOptions o = FetchOptions(3000);
  o.refetch_after_s = 3600;
  LiveFetcher fetcher(*store, o, Loopback());
  const std::vector<SearchHit> hits = {{.url = site.Url("/article/otters")}};
  EXPECT_EQ(fetcher.FetchAndStore(hits, Deadline::AfterMs(5000)).pages[0].outcome, "ok");
  LiveFetchReport again = fetcher.FetchAndStore(hits, Deadline::AfterMs(5000));
  EXPECT_EQ(again.pages[0].outcome, "fresh");
  EXPECT_GT(again.pages[0].page_id, 0);
  EXPECT_EQ(site.Hits("/article/otters"), 1);

  o.refetch_after_s = 0;  // always fetch again
  LiveFetcher eager(*store, o, Loopback());
  EXPECT_EQ(eager.FetchAndStore(hits, Deadline::AfterMs(5000)).pages[0].outcome, "ok");
  EXPECT_EQ(site.Hits("/article/otters"), 2);
}

TEST(LiveFetcher, TheSsrfGuardStillApplies) {
  PageSite site;
  site.AddArticle("otters", test_support::ArticlePage("Sea otters", kOtterText));
  TempDir dir;
  auto store = *Store::Open(dir.str());
  LiveFetcher fetcher(*store, FetchOptions(3000), AddressPolicy());  // loopback not allowed
  const std::vector<SearchHit> hits = {{.url = site.Url("/article/otters")}};
  LiveFetchReport r = fetcher.FetchAndStore(hits, Deadline::AfterMs(5000));
  EXPECT_EQ(r.pages[0].outcome, "blocked_address");
  EXPECT_EQ(site.Hits("/article/otters"), 0);
  EXPECT_EQ(*store->CountPages(), 0);
}

// The query service with a live search, end to end.
class LiveQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    site_.AddArticle("otters", test_support::ArticlePage("Sea otters", kOtterText));
    site_.AddArticle("volcano", test_support::ArticlePage("Krakatoa", kVolcanoText));
    store_ = *Store::Open(dir_.str());
    // A page the local index already had.
    PageRecord local;
    local.url = "http://local.test/otters";
    local.title = "Otter behaviour notes";
    local.site = "local.test";
    local.text = "Otters sleep floating on their backs; river otters sleep in dens near the water.";
    local.content_hash = "1";
    Passage p{.begin = 0, .end = local.text.size(), .text = local.text};
    ASSERT_TRUE(store_->UpsertPage(local, std::span<const Passage>(&p, 1)).ok());
    retriever_ = std::make_unique<ranking::HybridRetriever>(*store_, nullptr, nullptr,
                                                            ranking::HybridOptions{});
    provider_.SetHits({{site_.Url("/article/otters"), "Sea otters", "otters snippet", ""},
                       {site_.Url("/slow"), "Slow otters", "never read", ""},
                       {site_.Url("/article/volcano"), "Krakatoa", "volcano", ""}});
    live_ = std::make_unique<LiveSearch>(
        *CreateSearchProvider(SearxOptions(provider_)),
        std::make_unique<LiveFetcher>(*store_, FetchOptions(1500), Loopback()));
    web::QueryServiceOptions o;
    o.cache_entries = 0;
    service_ = std::make_unique<web::QueryService>(o, retriever_.get(), nullptr, nullptr, log_,
                                                   live_.get(), store_.get());
  }

  Logger log_{LogLevel::kOff};
  TempDir dir_;
  PageSite site_;
  ProviderFake provider_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ranking::HybridRetriever> retriever_;
  std::unique_ptr<LiveSearch> live_;
  std::unique_ptr<web::QueryService> service_;
};

TEST_F(LiveQueryTest, AnswersFromPagesReadNowAndCitesThemWithFetchTime) {
  auto r = service_->Search({.query = "why do sea otters hold hands while they sleep"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const web::SearchResult& res = *r->result;
  ASSERT_TRUE(res.live.has_value());
  ASSERT_EQ(res.live->pages.size(), 3u);
  EXPECT_EQ(res.live->pages[0].outcome, "ok");
  EXPECT_EQ(res.live->pages[1].outcome, "over_budget");
  ASSERT_FALSE(res.sources.empty());
  EXPECT_EQ(res.sources[0].source.url, site_.Url("/article/otters"));
  EXPECT_GT(res.sources[0].fetched_at, 0);
  for (const web::ShownSource& s : res.sources) {
    EXPECT_NE(s.source.url, site_.Url("/slow"));  // a snippet-only result is never a source
  }
  EXPECT_NE(res.answer.text.find("[1]"), std::string::npos) << res.answer.text;
  EXPECT_NE(res.answer.text.find("hold hands"), std::string::npos) << res.answer.text;
  // Stored and indexed: the next question finds it even with the provider gone.
  provider_.Stop();
  auto next = service_->Search({.query = "what do sea otters wrap themselves in"});
  ASSERT_TRUE(next.ok());
  ASSERT_FALSE(next->result->sources.empty());
  EXPECT_EQ(next->result->sources[0].source.url, site_.Url("/article/otters"));
  ASSERT_FALSE(next->result->stage_errors.empty());
  EXPECT_NE(next->result->stage_errors[0].find("cannot reach searxng"), std::string::npos);
  EXPECT_NE(next->result->stage_errors[0].find("answered from the local index only"),
            std::string::npos);
}

TEST_F(LiveQueryTest, ProviderFailuresStillAnswerFromTheLocalIndexWithANote) {
  struct Case {
    Mode mode;
    const char* note;
  };
  for (const Case& c :
       {Case{Mode::kForbidden, "JSON output is not enabled"}, Case{Mode::kRateLimited, "429"},
        Case{Mode::kNoResults, "unresponsive engines: google"}}) {
    provider_.SetMode(c.mode);
    // A fresh provider each time (the 429 back-off would otherwise answer the next case).
    live_ = std::make_unique<LiveSearch>(
        *CreateSearchProvider(SearxOptions(provider_)),
        std::make_unique<LiveFetcher>(*store_, FetchOptions(1500), Loopback()));
    web::QueryServiceOptions o;
    o.cache_entries = 0;
    web::QueryService service(o, retriever_.get(), nullptr, nullptr, log_, live_.get(),
                              store_.get());
    auto r = service.Search({.query = "how do otters sleep"});
    ASSERT_TRUE(r.ok());
    ASSERT_FALSE(r->result->sources.empty()) << c.note;
    EXPECT_EQ(r->result->sources[0].source.url, "http://local.test/otters");
    EXPECT_FALSE(r->result->answer.text.empty());
    ASSERT_FALSE(r->result->stage_errors.empty()) << c.note;
    EXPECT_NE(r->result->stage_errors[0].find(c.note), std::string::npos)
        << r->result->stage_errors[0];
  }
  EXPECT_EQ(site_.Hits("/article/otters"), 0);
}

TEST_F(LiveQueryTest, DomainsAndRecencyFilterSources) {
  const std::vector<std::string> only_local = {"local.test"};
  web::SearchRequest req{.query = "how do otters sleep"};
  req.filter = *SourceFilter::Parse(Recency::kAny, only_local);
  auto r = service_->Search(req);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->result->sources.empty());
  for (const auto& s : r->result->sources) EXPECT_EQ(s.source.site, "local.test");
  // The provider's pages on 127.0.0.1 were filtered out before fetching.
  EXPECT_TRUE(r->result->live->pages.empty());

  const std::vector<std::string> not_local = {"-local.test"};
  req.filter = *SourceFilter::Parse(Recency::kAny, not_local);
  r = service_->Search(req);
  ASSERT_TRUE(r.ok());
  for (const auto& s : r->result->sources) EXPECT_NE(s.source.site, "local.test");

  // An old dated page is dropped by recency; the provider is asked for the same window.
  PageRecord old;
  old.url = "http://old.test/otters";
  old.title = "Otters in 1990";
  old.site = "old.test";
  old.published = 631152000;  // 1990
  old.text = "Otters sleep holding hands, observed in 1990 by keepers of the old aquarium.";
  old.content_hash = "2";
  Passage p{.begin = 0, .end = old.text.size(), .text = old.text};
  ASSERT_TRUE(store_->UpsertPage(old, std::span<const Passage>(&p, 1)).ok());
  req.filter = *SourceFilter::Parse(Recency::kYear, {});
  r = service_->Search(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(provider_.Param("time_range"), "year");
  for (const auto& s : r->result->sources) EXPECT_NE(s.source.url, old.url);
}

// The JSON API over HTTP: the live report, fetched_at, per-page timings, and the recency/domains
// options with their bad inputs.
class LiveApiTest : public LiveQueryTest {
 protected:
  void SetUp() override {
    LiveQueryTest::SetUp();
    server_ = std::make_unique<web::HttpServer>(web::HttpServerOptions{.port = 0}, log_);
    web::RegisterSearchApi(*server_, *service_, nullptr, limiter_);
    ASSERT_TRUE(server_->Bind().ok());
    runner_ = std::async(std::launch::async, [this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(20, 0);
  }
  void TearDown() override {
    server_->Stop();
    runner_.wait();
  }
  std::pair<int, nlohmann::json> Post(const nlohmann::json& body) {
    auto res = client_->Post("/api/v1/search", body.dump(), "application/json");
    if (!res) return {0, nullptr};
    return {res->status, nlohmann::json::parse(res->body, nullptr, false)};
  }

  web::RateLimiter limiter_{0, 1};
  std::unique_ptr<web::HttpServer> server_;
  std::future<void> runner_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(LiveApiTest, ResponseCarriesTheLiveReportAndFetchTimes) {
  auto [status, j] = Post({{"query", "why do sea otters hold hands while they sleep"},
                           {"recency", "year"},
                           {"domains", {"-local.test"}}});
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["live"]["provider"], "searxng");
  EXPECT_EQ(j["live"]["provider_failed"], false);
  ASSERT_EQ(j["live"]["results"].size(), 3u);
  EXPECT_EQ(j["live"]["results"][0]["read"], true);
  EXPECT_EQ(j["live"]["results"][1]["read"], false);  // the slow page
  ASSERT_EQ(j["timings_ms"]["live_pages"].size(), 3u);
  EXPECT_EQ(j["timings_ms"]["live_pages"][1]["outcome"], "over_budget");
  EXPECT_GT(j["timings_ms"]["live_fetch"].get<double>(), 0);
  ASSERT_FALSE(j["sources"].empty());
  EXPECT_EQ(j["sources"][0]["url"], site_.Url("/article/otters"));
  EXPECT_TRUE(j["sources"][0]["fetched_at"].is_number_integer());
  EXPECT_EQ(provider_.Param("time_range"), "year");
}

TEST_F(LiveApiTest, BadRecencyAndDomainsAre400sNamingTheProblem) {
  const std::vector<nlohmann::json> bad = {
      {{"query", "otters"}, {"recency", "fortnight"}},
      {{"query", "otters"}, {"recency", 7}},
      {{"query", "otters"}, {"domains", "local.test"}},
      {{"query", "otters"}, {"domains", {"local.test", 5}}},
      {{"query", "otters"}, {"domains", {"a b.test"}}},
      {{"query", "otters"}, {"domains", {"http://x.test/"}}},
      {{"query", "otters"}, {"domains", std::vector<std::string>(21, "a.test")}},
  };
  for (const nlohmann::json& body : bad) {
    auto [status, j] = Post(body);
    EXPECT_EQ(status, 400) << body.dump();
    EXPECT_EQ(j["error"]["code"], "invalid_request") << body.dump();
    const std::string m = j["error"]["message"];
    EXPECT_TRUE(m.find("recency") != std::string::npos || m.find("domains") != std::string::npos)
        << m;
  }
  EXPECT_EQ(provider_.requests(), 0);  // nothing was searched
  auto res = client_->Get("/api/v1/search?q=otters&recency=decade");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  res = client_->Get("/api/v1/search?q=otters&domains=local.test,-127.0.0.1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const auto j = nlohmann::json::parse(res->body);
  for (const auto& s : j["sources"]) EXPECT_EQ(s["site"], "local.test");
}

}  // namespace
}  // namespace lumen::retrieval
