// The JSON search API, chat completions and the sponsored-slot endpoints over real HTTP on
// loopback, backed by a real passage store (SQLite + FTS5) and a real ad server (its own SQLite
// ledger) in a temporary data dir.
#include "web/search_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "ads/catalog.h"
#include "ads/sqlite_store.h"
#include "tests/integration/web/web_fixture.h"
#include "web/chat_completions.h"
#include "web/search_page.h"

namespace lumen::web {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A tiny documentation corpus (the one `lumen serve` tests use).
void Seed(retrieval::Store& store) {
  ASSERT_EQ(test_support::SeedDocs(store), "");
}

class SearchApiTest : public ::testing::Test {
 protected:
  SearchApiTest() : log_(LogLevel::kOff) {}

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_search_api_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = retrieval::Store::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    Seed(*store_);
    retriever_ = std::make_unique<ranking::HybridRetriever>(*store_, nullptr, nullptr,
                                                            ranking::HybridOptions{});
    // One advertiser whose campaign targets CSV questions.
    {
      auto ad_store = ads::SqliteStore::Open((dir_ / "ads.db").string());
      ASSERT_TRUE(ad_store.ok()) << ad_store.status().ToString();
      ads::AdCatalog catalog(**ad_store);
      ads::Advertiser a;
      a.name = "Tabular Tools (fictional)";
      a.contact = "ads@tabular.test";
      auto adv = catalog.CreateAdvertiser(a);
      ASSERT_TRUE(adv.ok()) << adv.status().ToString();
      ads::Campaign c;
      c.advertiser_id = adv->id;
      c.name = "csv";
      c.cpm_bid_micros = 2'500'000;
      c.total_budget_micros = 100'000'000;
      c.targeting.keywords = {{"csv", ads::MatchType::kBroad}};
      auto campaign = catalog.CreateCampaign(c);
      ASSERT_TRUE(campaign.ok()) << campaign.status().ToString();
      ads::Creative cr;
      cr.campaign_id = *campaign;
      cr.title = "Clean CSV files in seconds";
      cr.body = "A fictional tool for tidy tables.";
      cr.display_url = "tabular.test";
      cr.landing_url = "https://tabular.test/landing";
      ASSERT_TRUE(catalog.CreateCreative(cr, /*approve=*/true).ok());
    }
    Result<Config> config = Config::Load({.overrides = {{"data_dir", dir_.string()}}});
    ASSERT_TRUE(config.ok());
    auto ads_options = ads::AdsOptions::FromConfig(*config);
    ASSERT_TRUE(ads_options.ok()) << ads_options.status().ToString();
    auto ad_server = ads::AdServer::Open(*ads_options);
    ASSERT_TRUE(ad_server.ok()) << ad_server.status().ToString();
    ads_ = std::move(*ad_server);
    service_ = std::make_unique<QueryService>(QueryServiceOptions{}, retriever_.get(), nullptr,
                                              ads_.get(), log_);
  }

  void Serve(double rate = 0, double burst = 1) {
    limiter_ = std::make_unique<RateLimiter>(rate, burst);
    server_ = std::make_unique<HttpServer>(HttpServerOptions{.port = 0}, log_);
    RegisterSearchApi(*server_, *service_, ads_.get(), *limiter_);
    RegisterChatCompletions(*server_, *service_, *limiter_);
    RegisterSearchPage(*server_, service_.get());
    ASSERT_TRUE(server_->Bind().ok());
    runner_ = std::async(std::launch::async, [this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(20, 0);
    client_->set_url_encode(false);  // send targets as written, like a browser's form submission
    client_->set_default_headers({{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}});
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (runner_.valid()) runner_.wait();
    service_.reset();
    ads_.reset();
    retriever_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  Json GetJson(const std::string& path, int expect_status = 200) {
    auto res = client_->Get(path);
    EXPECT_TRUE(res);
    if (!res) return Json();
    EXPECT_EQ(res->status, expect_status) << res->body;
    return Json::parse(res->body, nullptr, false);
  }

  fs::path dir_;
  Logger log_;
  std::unique_ptr<retrieval::Store> store_;
  std::unique_ptr<ranking::HybridRetriever> retriever_;
  std::unique_ptr<ads::AdServer> ads_;
  std::unique_ptr<QueryService> service_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> runner_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(SearchApiTest, SearchAnswersWithCitedSourcesAndALabelledSponsoredSlot) {
  Serve();
  const Json r = GetJson("/api/v1/search?q=How+do+I+read+a+CSV+file%3F");
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["query"], "How do I read a CSV file?");
  EXPECT_EQ(r["answer"]["mode"], "extractive");
  ASSERT_FALSE(r["sources"].empty());
  EXPECT_EQ(r["sources"][0]["n"], 1);
  EXPECT_EQ(r["sources"][0]["url"], "http://docs.test/library/csv.html");
  EXPECT_NE(r["answer"]["text"].get<std::string>().find("[1]"), std::string::npos) << r.dump(1);
  EXPECT_DOUBLE_EQ(r["answer"]["citation_recall"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["answer"]["citation_precision"].get<double>(), 1.0);
  ASSERT_EQ(r["sponsored"].size(), 1u) << r.dump(1);
  EXPECT_EQ(r["sponsored"][0]["label"], "Sponsored");
  EXPECT_EQ(r["sponsored"][0]["title"], "Clean CSV files in seconds");
  for (const Json& s : r["sources"]) EXPECT_NE(s["url"], "https://tabular.test/landing");
  for (const char* stage : {"retrieval", "answer", "sponsored", "total"}) {
    EXPECT_TRUE(r["timings_ms"].contains(stage)) << stage;
  }
  EXPECT_FALSE(r["cached"].get<bool>());
}

TEST_F(SearchApiTest, SecondRequestIsCachedButGetsFreshSponsoredTokens) {
  Serve();
  const Json a = GetJson("/api/v1/search?q=read+csv+file");
  const Json b = GetJson("/api/v1/search?q=Read%20CSV%20%20file");
  EXPECT_TRUE(b["cached"].get<bool>());
  EXPECT_EQ(a["answer"], b["answer"]);
  ASSERT_EQ(b["sponsored"].size(), 1u);
  EXPECT_NE(a["sponsored"][0]["impression_url"], b["sponsored"][0]["impression_url"]);
}

TEST_F(SearchApiTest, ImpressionBeaconIsBilledOnceAndClickRedirectsToTheSignedLandingPage) {
  Serve();
  const Json r = GetJson("/api/v1/search?q=csv+reader");
  ASSERT_EQ(r["sponsored"].size(), 1u);
  const std::string impression = r["sponsored"][0]["impression_url"];
  EXPECT_EQ(GetJson(impression)["outcome"], "billable");
  EXPECT_EQ(GetJson(impression)["outcome"], "duplicate");
  EXPECT_EQ(GetJson("/api/v1/impression?t=forged", 400)["error"]["code"], "invalid_token");
  auto click = client_->Get(r["sponsored"][0]["click_url"].get<std::string>());
  ASSERT_TRUE(click);
  EXPECT_EQ(click->status, 302);
  EXPECT_EQ(click->get_header_value("Location"), "https://tabular.test/landing");
}

TEST_F(SearchApiTest, AnswersAreIdenticalWithAdsOnAndOff) {
  QueryService without_ads(QueryServiceOptions{.cache_entries = 0}, retriever_.get(), nullptr,
                           nullptr, log_);
  QueryService with_ads(QueryServiceOptions{.cache_entries = 0}, retriever_.get(), nullptr,
                        ads_.get(), log_);
  for (const char* q : {"How do I read a CSV file?", "csv writer", "serialize json",
                        "open a file with the with keyword", "zebra"}) {
    auto a = without_ads.Search({.query = q});
    auto b = with_ads.Search({.query = q});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->result->answer.text, b->result->answer.text) << q;
    EXPECT_EQ(SourcesJson(*a->result), SourcesJson(*b->result)) << q;
    EXPECT_EQ(CitationsJson(*a->result), CitationsJson(*b->result)) << q;
    EXPECT_TRUE(a->sponsored.empty());
  }
}

TEST_F(SearchApiTest, PostStreamsServerSentEventsInOrder) {
  Serve();
  auto res =
      client_->Post("/api/v1/search", R"({"query": "How do I read a CSV file?", "stream": true})",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  std::vector<std::string> events;
  std::size_t pos = 0;
  while ((pos = res->body.find("event: ", pos)) != std::string::npos) {
    const std::size_t nl = res->body.find('\n', pos);
    events.push_back(res->body.substr(pos + 7, nl - pos - 7));
    pos = nl;
  }
  ASSERT_GE(events.size(), 5u) << res->body;
  EXPECT_EQ(events.front(), "sources");
  EXPECT_EQ(events[1], "delta");
  EXPECT_EQ(events[events.size() - 3], "citations");
  EXPECT_EQ(events[events.size() - 2], "sponsored");
  EXPECT_EQ(events.back(), "done");
}

TEST_F(SearchApiTest, BadRequestsGetJsonErrorsWithTheRightStatus) {
  Serve();
  auto bad_json = client_->Post("/api/v1/search", "{not json", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(Json::parse(bad_json->body)["error"]["code"], "invalid_json");
  auto no_query = client_->Post("/api/v1/search", R"({"q": "x"})", "application/json");
  ASSERT_TRUE(no_query);
  EXPECT_EQ(no_query->status, 400);
  EXPECT_EQ(GetJson("/api/v1/search?q=", 400)["error"]["message"], "the query is empty");
  EXPECT_EQ(GetJson("/api/v1/search?q=csv&max_sources=0", 400)["error"]["code"], "invalid_request");
  EXPECT_EQ(GetJson("/api/v1/search?q=" + std::string(3000, 'a'), 400)["error"]["code"],
            "invalid_request");
}

TEST_F(SearchApiTest, HostileQueriesNeverBreakTheService) {
  Serve();
  for (const std::string q :
       {"%22NEAR(csv%20*)%22", "csv%20OR%201%3D1%3B%20DROP%20TABLE%20pages%3B--", "%3Cscript%3E",
        "%FF%FE%80", "the%20of%20and", "(((((", "title%3Acsv%20%5E%20-file"}) {
    const Json r = GetJson("/api/v1/search?q=" + q);
    EXPECT_TRUE(r.is_object() && r.contains("answer")) << q;
  }
  auto page = client_->Get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E+csv");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->body.find("<script>alert(1)"), std::string::npos);
  EXPECT_EQ(page->status, 200);
}

TEST_F(SearchApiTest, ClientsOverTheirRateGet429WithRetryAfter) {
  Serve(/*rate=*/0.01, /*burst=*/2);
  GetJson("/api/v1/search?q=csv");
  GetJson("/api/v1/search?q=csv");
  auto third = client_->Get("/api/v1/search?q=csv");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 429);
  EXPECT_GE(std::stoi(third->get_header_value("Retry-After")), 1);
  EXPECT_EQ(Json::parse(third->body)["error"]["code"], "rate_limited");
}

TEST_F(SearchApiTest, ChatCompletionsSpeakOpenAiWithPerplexityCitations) {
  Serve();
  auto res = client_->Post("/v1/chat/completions", R"({"model": "lumen", "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "How do I read a CSV file?"}]})",
                           "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json r = Json::parse(res->body);
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  EXPECT_NE(r["choices"][0]["message"]["content"].get<std::string>().find("[1]"),
            std::string::npos);
  EXPECT_EQ(r["citations"][0], "http://docs.test/library/csv.html");
  EXPECT_EQ(r["search_results"][0]["url"], "http://docs.test/library/csv.html");
  EXPECT_EQ(r.dump().find("tabular.test"), std::string::npos) << "no ads in API answers";

  auto stream =
      client_->Post("/v1/chat/completions",
                    R"({"stream": true, "messages": [{"role": "user", "content": "csv reader"}]})",
                    "application/json");
  ASSERT_TRUE(stream);
  EXPECT_NE(stream->body.find("\"object\":\"chat.completion.chunk\""), std::string::npos);
  EXPECT_NE(stream->body.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_EQ(stream->body.substr(stream->body.size() - 14), "data: [DONE]\n\n");

  const Json models = GetJson("/v1/models");
  EXPECT_EQ(models["data"][0]["id"], "lumen");
  auto bad = client_->Post("/v1/chat/completions", R"({"messages": []})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(SearchApiTest, OpenApiDocumentDescribesTheEndpoints) {
  Serve();
  const Json doc = GetJson("/api/openapi.json");
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* path : {"/api/v1/search", "/api/v1/impression", "/api/v1/click",
                           "/v1/chat/completions", "/v1/models"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
}

TEST_F(SearchApiTest, SearchPageRendersCitationsSourcesAndTheSponsoredLabelFirst) {
  Serve();
  auto page = client_->Get("/search?q=How+do+I+read+a+CSV+file%3F");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  const std::string& html = page->body;
  EXPECT_NE(html.find("href=\"#source-1\""), std::string::npos);
  EXPECT_NE(html.find("id=\"source-1\""), std::string::npos);
  const std::size_t slot = html.find("<aside class=\"sponsored\"");
  ASSERT_NE(slot, std::string::npos);
  const std::size_t label = html.find("<div class=\"sponsored-label\">Sponsored</div>", slot);
  const std::size_t title = html.find("Clean CSV files in seconds", slot);
  EXPECT_LT(label, title);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("Promoted"), std::string::npos);
}

TEST(QueryServiceOptionsTest, ReadsAnswerMaxTokensAndRejectsOutOfRange) {
  Result<Config> c = Config::Load({.overrides = {{"answer.max_tokens", "77"}}});
  ASSERT_TRUE(c.ok());
  Result<QueryServiceOptions> o = QueryServiceOptions::FromConfig(*c);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->max_tokens, 77);
  Result<Config> bad = Config::Load({.overrides = {{"answer.max_tokens", "0"}}});
  ASSERT_TRUE(bad.ok());
  Result<QueryServiceOptions> rejected = QueryServiceOptions::FromConfig(*bad);
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.status().message().find("answer.max_tokens"), std::string::npos);
}

}  // namespace
}  // namespace lumen::web
