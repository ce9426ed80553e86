// The real GloVe vectors end to end: `lumen eval retrieval` on a slice of Cranfield, and
// `lumen index` + `lumen ask --retrieval-only` through the command line. These tests need the
// asset (scripts/fetch-asset --all, which ./lumen.sh runs): without it they FAIL, saying so.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ranking/evaluation.h"
#include "ranking/searcher.h"
#include "retrieval/glove_embedder.h"
#include "retrieval/indexer.h"
#include "retrieval/store.h"
#include "tests/support/subprocess.h"

namespace lumen {
namespace {

namespace fs = std::filesystem;
// The first run of `lumen` on a machine converts the GloVe JSON (~20-60 s on a busy machine).
test_support::RunResult RunProcess(const std::vector<std::string>& argv) {
  return test_support::RunProcess(argv, {}, std::chrono::seconds(240));
}

const std::string kLumen = LUMEN_BINARY_DIR "/lumen";
const std::string kCranfield = LUMEN_SOURCE_DIR "/../shared/eval/cranfield";

class GloveRetrievalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto wv = retrieval::WordVectors::LoadDefault();
    ASSERT_TRUE(wv.ok()) << "GloVe word vectors are required for this test: "
                         << wv.status().message();
    dir_ = fs::temp_directory_path() /
           ("lumen_glove_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string Read(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

// The whole collection, with the default configuration: the issue's quality bar (hybrid
// nDCG@10 >= 0.40 and above both of its parts) is checked here, not just reported.
TEST_F(GloveRetrievalTest, EvalRetrievalMeetsTheCranfieldTargetWithAllThreeMethods) {
  ASSERT_TRUE(fs::exists(kCranfield + "/cran.all.1400")) << "missing " << kCranfield;
  const auto r =
      RunProcess({kLumen, "eval", "retrieval", "--docs", kCranfield + "/cran.all.1400", "--queries",
                  kCranfield + "/cran.qry", "--qrels", kCranfield + "/cranqrel", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["documents"], 1400);
  for (const char* m : {"bm25", "dense", "hybrid"}) {
    const double ndcg = j["methods"][m]["ndcg@10"].get<double>();
    EXPECT_GT(ndcg, 0.3) << m;
    EXPECT_LE(ndcg, 1.0) << m;
  }
  const double hybrid = j["methods"]["hybrid"]["ndcg@10"].get<double>();
  EXPECT_GE(hybrid, 0.40);
  EXPECT_GT(hybrid, j["methods"]["dense"]["ndcg@10"].get<double>());
  EXPECT_GT(hybrid, j["methods"]["bm25"]["ndcg@10"].get<double>());
}

TEST_F(GloveRetrievalTest, EvalRetrievalRejectsBadInput) {
  std::ofstream(dir_ / "bad") << "not a smart file\n";
  const auto r =
      RunProcess({kLumen, "eval", "retrieval", "--docs", (dir_ / "bad").string(), "--queries",
                  (dir_ / "bad").string(), "--qrels", (dir_ / "bad").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("before the first .I"), std::string::npos) << r.err;
  const auto usage = RunProcess({kLumen, "eval", "retrieval", "--docs", "x"});
  EXPECT_EQ(usage.code, 2);
  // A ranking choice that is no choice is named before any indexing work.
  std::ofstream(dir_ / "one") << ".I 1\n.T\nwing flutter\n.W\nflutter of a wing\n";
  std::ofstream(dir_ / "q") << ".I 001\n.W\nwing flutter\n";
  std::ofstream(dir_ / "rel") << "1 1 1\n";
  const auto scope =
      RunProcess({kLumen, "eval", "retrieval", "--docs", (dir_ / "one").string(), "--queries",
                  (dir_ / "q").string(), "--qrels", (dir_ / "rel").string(), "--set",
                  "ranking.expansion_scope=everything"});
  EXPECT_NE(scope.code, 0);
  EXPECT_NE(scope.err.find("ranking.expansion_scope must be"), std::string::npos) << scope.err;
}

TEST_F(GloveRetrievalTest, IndexThenAskRetrievalOnlyThroughTheCli) {
  const std::string data = (dir_ / "data").string();
  {  // A store with two pages, written the way the crawler writes it.
    auto store = retrieval::Store::Open(data);
    ASSERT_TRUE(store.ok());
    auto put = [&](const std::string& url, const std::string& title, const std::string& text) {
      const retrieval::Passage p[] = {
          {.ordinal = 0, .heading_path = title, .begin = 0, .end = text.size(), .text = text}};
      ASSERT_TRUE((*store)->UpsertPage({.url = url, .title = title, .content_hash = url}, p).ok());
    };
    put("https://example.org/snakes", "Pythons",
        "The python is a large constrictor snake found in Africa and Asia.");
    put("https://example.org/cars", "Engines",
        "A combustion engine burns fuel to move the pistons of a car.");
  }
  const auto idx = RunProcess({kLumen, "index", "--data-dir", data});
  ASSERT_EQ(idx.code, 0) << idx.err;
  EXPECT_NE(idx.out.find("2 vectors"), std::string::npos) << idx.out;
  EXPECT_TRUE(fs::exists(dir_ / "data" / "vectors.faiss"));
  EXPECT_TRUE(fs::exists(dir_ / "data" / "vectors.faiss.json"));

  // "reptile" occurs nowhere: only the dense signal can find the snake passage.
  const auto ask = RunProcess({kLumen, "ask", "which reptile", "--retrieval-only", "--json", "--k",
                               "1", "--data-dir", data});
  ASSERT_EQ(ask.code, 0) << ask.err;
  const auto j = nlohmann::json::parse(ask.out);
  ASSERT_EQ(j["results"].size(), 1u);
  EXPECT_EQ(j["results"][0]["url"], "https://example.org/snakes");
  EXPECT_EQ(j["results"][0]["signals"]["bm25_rank"], 0);
  EXPECT_EQ(j["results"][0]["signals"]["dense_rank"], 1);
  EXPECT_EQ(j["sources"][0]["number"], 1);

  const auto hostile = RunProcess(
      {kLumen, "ask", "\"; DROP TABLE pages; -- NEAR(*", "--retrieval-only", "--data-dir", data});
  EXPECT_EQ(hostile.code, 0) << hostile.err;
  // Without --retrieval-only the answer comes too (tests/integration/answer/ask_cli_test.cc).
  const auto answer = RunProcess({kLumen, "ask", "which reptile", "--data-dir", data});
  EXPECT_EQ(answer.code, 0) << answer.err;
  EXPECT_NE(answer.out.find("mode: extractive"), std::string::npos) << answer.out;

  // An index from another embedder is a clear error suggesting --rebuild.
  std::ofstream(dir_ / "data" / "vectors.faiss.json")
      << R"({"embedder":"other","dimension":100,"factory":"Flat","applied_seq":0})";
  const auto mismatch =
      RunProcess({kLumen, "ask", "snake", "--retrieval-only", "--data-dir", data});
  EXPECT_EQ(mismatch.code, 1);
  EXPECT_NE(mismatch.err.find("lumen index --rebuild"), std::string::npos) << mismatch.err;
  const auto rebuilt = RunProcess({kLumen, "index", "--rebuild", "--data-dir", data});
  EXPECT_EQ(rebuilt.code, 0) << rebuilt.err;
}

// A page written to the store while the server runs (a live search's) gets its vectors at once:
// dense retrieval finds it for the same question, and a new version replaces the old vectors.
TEST_F(GloveRetrievalTest, StoredPageIsEmbeddedIntoTheOpenIndex) {
  Result<Config> config = Config::Load({.overrides = {{"data_dir", dir_.string()}}});
  ASSERT_TRUE(config.ok()) << config.status().message();
  auto page = [](const std::string& url, const std::string& text) {
    retrieval::PageRecord r;
    r.url = url;
    r.title = "Notes";
    r.site = "example.org";
    r.text = text;
    r.content_hash = std::to_string(std::hash<std::string>()(text));
    retrieval::Passage p;
    p.text = text;
    p.end = text.size();
    return std::make_pair(r, std::vector<retrieval::Passage>{p});
  };
  {
    auto store = retrieval::Store::Open(dir_.string(), ranking::StoreOptionsFromConfig(*config));
    ASSERT_TRUE(store.ok()) << store.status().message();
    for (const auto& [url, text] : std::vector<std::pair<std::string, std::string>>{
             {"https://example.org/rivers", "Rivers carry water from mountains to the sea."},
             {"https://example.org/bread", "Bakers knead dough and bake bread in hot ovens."}}) {
      auto [r, passages] = page(url, text);
      ASSERT_TRUE((*store)->UpsertPage(r, passages).ok());
    }
    auto embedder = retrieval::CreateEmbedder(*config);
    ASSERT_TRUE(embedder.ok()) << embedder.status().message();
    retrieval::IndexerOptions options;
    options.rebuild = true;
    ASSERT_TRUE(retrieval::UpdateVectorIndex(**store, **embedder, dir_.string(), options).ok());
  }
  auto searcher = ranking::Searcher::Open(*config);
  ASSERT_TRUE(searcher.ok()) << searcher.status().message();
  ranking::Searcher& s = **searcher;
  ASSERT_TRUE(s.embedder && s.index) << s.warning;
  const std::int64_t before = s.index->size();

  auto [r, passages] = page("https://example.org/violin",
                            "The violin is a string instrument played with a bow by musicians.");
  Result<retrieval::UpsertResult> stored = s.store->UpsertPage(r, passages);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->added_passage_ids.size(), 1u);
  const std::int64_t first_id = stored->added_passage_ids[0];
  EXPECT_FALSE(s.index->Contains(first_id));
  ASSERT_TRUE(s.IndexStoredPage(*stored).ok());
  EXPECT_TRUE(s.index->Contains(first_id));
  EXPECT_EQ(s.index->size(), before + 1);
  std::vector<float> q;
  const std::string_view question = "violin string instrument musicians";
  ASSERT_TRUE(s.embedder->Embed({&question, 1}, retrieval::EmbedRole::kQuery, q).ok());
  auto hits = s.index->Search(q, 1);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].passage_id, first_id);

  // A new version of the page: its old passage's vector goes, the new one comes.
  auto [r2, passages2] =
      page("https://example.org/violin",
           "A violin has four strings tuned in fifths and a hollow wooden body.");
  Result<retrieval::UpsertResult> again = s.store->UpsertPage(r2, passages2);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(s.IndexStoredPage(*again).ok());
  EXPECT_FALSE(s.index->Contains(first_id));
  ASSERT_EQ(again->added_passage_ids.size(), 1u);
  EXPECT_TRUE(s.index->Contains(again->added_passage_ids[0]));
  EXPECT_EQ(s.index->size(), before + 1);

  // Lost embedding statistics: search goes on lexically and the warning names the missing file
  // rather than claiming there is no index; `lumen index` then rebuilds.
  const std::string stats = (dir_ / "vectors.faiss.stats").string();
  const std::string lost = std::filesystem::exists(stats + ".2") ? stats + ".2" : stats;
  ASSERT_TRUE(std::filesystem::remove(lost));
  auto lexical = ranking::Searcher::Open(*config);
  ASSERT_TRUE(lexical.ok()) << lexical.status().message();
  EXPECT_FALSE((*lexical)->index);
  EXPECT_NE((*lexical)->warning.find("embedding statistics are missing"), std::string::npos)
      << (*lexical)->warning;
  EXPECT_NE((*lexical)->warning.find(lost), std::string::npos) << (*lexical)->warning;
  {
    auto embedder = retrieval::CreateEmbedder(*config);
    ASSERT_TRUE(embedder.ok()) << embedder.status().message();
    auto rebuilt = retrieval::UpdateVectorIndex(*s.store, **embedder, dir_.string(), {});
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().message();
    EXPECT_TRUE(std::filesystem::exists(lost));
  }

  // An unknown feedback scope is refused by name rather than silently searching one way.
  Result<Config> bad = Config::Load(
      {.overrides = {{"data_dir", dir_.string()}, {"ranking.expansion_scope", "everything"}}});
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  auto refused = ranking::Searcher::Open(*bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("ranking.expansion_scope"), std::string::npos);
}

}  // namespace
}  // namespace lumen
