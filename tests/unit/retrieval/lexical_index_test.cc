#include "retrieval/lexical_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

namespace lumen::retrieval {
namespace {

namespace fs = std::filesystem;

class LexicalIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_lexical_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto s = Store::Open(dir_.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Put(const std::string& url, const std::string& title, std::vector<std::string> texts,
           const std::string& heading = "") {
    std::vector<Passage> ps;
    for (std::size_t i = 0; i < texts.size(); ++i)
      ps.push_back({.ordinal = static_cast<int>(i),
                    .heading_path = heading,
                    .begin = 0,
                    .end = texts[i].size(),
                    .text = texts[i]});
    ASSERT_TRUE(
        store_->UpsertPage({.url = url, .title = title, .content_hash = url + title}, ps).ok());
  }
  static std::vector<WeightedTerm> Terms(std::initializer_list<const char*> words) {
    std::vector<WeightedTerm> out;
    for (const char* w : words) out.push_back({.word = w});
    return out;
  }
  std::unique_ptr<LexicalIndex> Build() {
    auto index = LexicalIndex::Build(*store_);
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return index.ok() ? std::move(*index) : nullptr;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

// The index replaces FTS5 on the fast path, so it must rank (and score) as FTS5's bm25() does:
// same stemming, column weights, length normalisation and idf.
TEST_F(LexicalIndexTest, ScoresAndRanksLikeFts5Bm25) {
  const std::vector<std::string> vocab = {
      "flow",      "flows", "pressure", "wing",  "boundary",   "layer", "heat", "transfer",
      "shock",     "wave",  "laminar",  "plate", "supersonic", "drag",  "lift", "nozzle",
      "turbulent", "jet",   "cylinder", "mach",  "number",     "the",   "of",   "a"};
  std::mt19937 rng(7);
  for (int p = 0; p < 60; ++p) {
    std::vector<std::string> texts;
    for (int j = 0; j < 3; ++j) {
      std::string t;
      const int n = 4 + static_cast<int>(rng() % 30);
      for (int w = 0; w < n; ++w) t += vocab[rng() % vocab.size()] + " ";
      texts.push_back(t);
    }
    Put("u:" + std::to_string(p), vocab[rng() % vocab.size()] + " study", texts,
        vocab[rng() % vocab.size()]);
  }
  auto index = Build();
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->size(), 180);
  for (const char* q : {"flow", "pressure wing", "boundary layer heat transfer", "mach number",
                        "shock waves nozzle", "supersonic jet cylinder drag"}) {
    auto fts = store_->SearchBm25(q, 20);
    ASSERT_TRUE(fts.ok());
    std::vector<WeightedTerm> terms;
    for (const std::string& w : SplitWords(q)) terms.push_back({.word = w});
    const std::vector<LexicalHit> mem = index->Search(terms, 20);
    ASSERT_EQ(mem.size(), fts->size()) << q;
    for (std::size_t i = 0; i < mem.size(); ++i) {
      EXPECT_NEAR(mem[i].score, (*fts)[i].score, 1e-4 * std::abs((*fts)[i].score) + 1e-6)
          << q << " rank " << i;
      // Equal scores may come in either order; distinct ones must agree.
      const bool distinct = (i == 0 || mem[i - 1].score - mem[i].score > 1e-4) &&
                            (i + 1 == mem.size() || mem[i].score - mem[i + 1].score > 1e-4);
      if (distinct) {
        EXPECT_EQ(mem[i].passage_id, (*fts)[i].passage_id) << q << " rank " << i;
      }
    }
  }
}

// MaxScore pruning must not change the result: the best k equal the first k of an exhaustive
// search (k as large as the collection never prunes), on a Zipf-like vocabulary where common
// words make pruning kick in.
TEST_F(LexicalIndexTest, PruningKeepsTheExactTopK) {
  std::vector<std::string> vocab;
  for (int w = 0; w < 300; ++w) vocab.push_back("w" + std::to_string(w) + "x");
  std::mt19937 rng(11);
  auto zipf = [&] {
    // rank r with probability ~ 1/r
    const double u = std::uniform_real_distribution<double>(0, std::log(300.0))(rng);
    return static_cast<std::size_t>(std::exp(u)) - 1;
  };
  for (int p = 0; p < 150; ++p) {
    std::vector<std::string> texts;
    for (int j = 0; j < 4; ++j) {
      std::string t;
      const int n = 5 + static_cast<int>(rng() % 40);
      for (int w = 0; w < n; ++w) t += vocab[std::min<std::size_t>(zipf(), 299)] + " ";
      texts.push_back(t);
    }
    Put("u:" + std::to_string(p), vocab[zipf() % 300], texts);
  }
  // Some removed passages must not raise the pruning threshold.
  for (int p = 0; p < 10; ++p) ASSERT_TRUE(store_->DeletePage("u:" + std::to_string(p * 7)).ok());
  auto index = Build();
  ASSERT_NE(index, nullptr);
  for (int p = 0; p < 5; ++p)
    ASSERT_TRUE(store_->DeletePage("u:" + std::to_string(p * 11 + 1)).ok());
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  for (int q = 0; q < 200; ++q) {
    std::vector<WeightedTerm> terms;
    const int n = 1 + static_cast<int>(rng() % 7);
    for (int t = 0; t < n; ++t)
      terms.push_back(
          {.word = vocab[std::min<std::size_t>(zipf(), 299)], .weight = 0.2 + (rng() % 10) / 5.0});
    for (int k : {1, 5, 20}) {
      const std::vector<LexicalHit> pruned = index->Search(terms, k);
      const std::vector<LexicalHit> full = index->Search(terms, 1000000);
      ASSERT_EQ(pruned.size(), std::min<std::size_t>(k, full.size()));
      for (std::size_t i = 0; i < pruned.size(); ++i) {
        EXPECT_NEAR(pruned[i].score, full[i].score, 1e-5) << "query " << q << " k " << k;
        if (i + 1 < full.size() && full[i].score - full[i + 1].score > 1e-5 &&
            (i == 0 || full[i - 1].score - full[i].score > 1e-5)) {
          EXPECT_EQ(pruned[i].passage_id, full[i].passage_id) << "query " << q << " k " << k;
        }
      }
    }
  }
}

// ScorePassages scores given passages as Search scores them; passages holding none of the
// words, removed ones and unknown ids score 0.
TEST_F(LexicalIndexTest, ScoringGivenPassagesAgreesWithSearch) {
  std::mt19937 rng(3);
  const std::vector<std::string> vocab = {"flow",  "flows", "wing",   "pressure", "shock",
                                          "layer", "heat",  "nozzle", "the",      "of"};
  for (int p = 0; p < 60; ++p) {
    std::vector<std::string> texts;
    for (int j = 0; j < 3; ++j) {
      std::string t;
      for (int w = 0; w < 4 + static_cast<int>(rng() % 20); ++w)
        t += vocab[rng() % vocab.size()] + " ";
      texts.push_back(t);
    }
    Put("u:" + std::to_string(p), p % 3 ? "wing study" : "report", texts);
  }
  ASSERT_TRUE(store_->DeletePage("u:5").ok());
  auto index = Build();
  ASSERT_NE(index, nullptr);
  const std::vector<WeightedTerm> terms = {
      {.word = "flow", .weight = 1.0},  {.word = "flows", .weight = 0.5},
      {.word = "shock", .weight = 2.0}, {.word = "wing", .weight = 1.0},
      {.word = "the", .weight = 1.0},   {.word = "unheard", .weight = 1.0}};
  const std::vector<LexicalHit> all = index->Search(terms, 100000);
  ASSERT_GT(all.size(), 100u);
  std::vector<std::int64_t> ids;
  for (const LexicalHit& h : all) ids.push_back(h.passage_id);
  ids.push_back(999999);  // not a passage
  const std::vector<float> scores = index->ScorePassages(terms, ids);
  ASSERT_EQ(scores.size(), ids.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_NEAR(scores[i], all[i].score, 1e-5 * all[i].score) << "passage " << ids[i];
  EXPECT_EQ(scores.back(), 0.0f);
  // A passage holding only stop-words, and one that was removed, score nothing.
  Put("u:stop", "of", {"the of the"});
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  auto removed = store_->GetPassages(std::vector<std::int64_t>{ids.front()});
  ASSERT_TRUE(removed.ok());
  ASSERT_TRUE(store_->DeletePage(removed->front().url).ok());
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  const std::vector<float> after = index->ScorePassages(terms, std::vector<std::int64_t>{ids[0]});
  EXPECT_EQ(after[0], 0.0f) << "removed";
  EXPECT_TRUE(index->ScorePassages({}, ids).size() == ids.size());
}

TEST_F(LexicalIndexTest, StemsWeighsTitlesAndAddsWeights) {
  Put("u:a", "Airfoil flutter", {"a study of vibration"});
  Put("u:b", "Vibration", {"flutter of panels in supersonic flow"});
  for (int p = 0; p < 4; ++p) Put("u:other" + std::to_string(p), "Other", {"unrelated text"});
  auto index = Build();
  ASSERT_NE(index, nullptr);
  auto hits = index->Search(Terms({"fluttering"}), 10);  // porter: flutter
  ASSERT_EQ(hits.size(), 2u);
  auto weighted = index->Search(std::vector<WeightedTerm>{{.word = "vibration", .weight = 0.1},
                                                          {.word = "panels", .weight = 5.0}},
                                10);
  ASSERT_EQ(weighted.size(), 2u);
  auto b = store_->FindPageByUrl("u:b");
  ASSERT_TRUE(b.ok() && b->has_value());
  auto b_passages = store_->PassagesOfPage((*b)->id);
  EXPECT_EQ(weighted.front().passage_id, b_passages->front().id);
  // The same stem twice counts twice, like "flutter OR flutters" in FTS5.
  auto once = index->Search(Terms({"flutter"}), 10);
  auto twice = index->Search(Terms({"flutter", "flutters"}), 10);
  ASSERT_EQ(once.size(), twice.size());
  EXPECT_NEAR(twice.front().score, 2 * once.front().score, 1e-4);
  EXPECT_GT(index->Idf("panels"), index->Idf("flutter"));
  EXPECT_NEAR(index->DocumentFraction("flutters"), 2.0 / 6.0, 1e-9);
  EXPECT_EQ(index->DocumentFraction("absent"), 0.0);
  EXPECT_TRUE(index->Knows("panel"));
  EXPECT_FALSE(index->Knows("the"));
}

TEST_F(LexicalIndexTest, FollowsTheStoreThroughThePassageLog) {
  Put("u:a", "First", {"alpha particles", "beta decay"});
  auto index = Build();
  ASSERT_NE(index, nullptr);
  EXPECT_TRUE(index->Search(Terms({"gamma"}), 5).empty());
  Put("u:b", "Second", {"gamma rays"});
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  EXPECT_EQ(index->Search(Terms({"gamma"}), 5).size(), 1u);
  Put("u:a", "First, revised", {"delta function"});  // replaces both passages of u:a
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  EXPECT_TRUE(index->Search(Terms({"alpha"}), 5).empty());
  EXPECT_TRUE(index->Search(Terms({"beta"}), 5).empty());
  EXPECT_EQ(index->Search(Terms({"delta"}), 5).size(), 1u);
  ASSERT_TRUE(store_->DeletePage("u:b").ok());
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  EXPECT_TRUE(index->Search(Terms({"gamma"}), 5).empty());
  EXPECT_EQ(index->size(), 1);
  EXPECT_EQ(index->applied_seq(), *store_->LastChangeSeq());
}

TEST_F(LexicalIndexTest, ManyRemovalsCompactTheIndex) {
  for (int p = 0; p < 100; ++p)
    Put("u:" + std::to_string(p), "Page", {"common word", p == 99 ? "unique" : "filler"});
  auto index = Build();
  ASSERT_NE(index, nullptr);
  const double idf_before = index->Idf("unique");
  for (int p = 0; p < 60; ++p) ASSERT_TRUE(store_->DeletePage("u:" + std::to_string(p)).ok());
  ASSERT_TRUE(index->CatchUp(*store_).ok());
  EXPECT_EQ(index->size(), 80);
  EXPECT_EQ(index->Search(Terms({"common"}), 1000).size(), 40u);
  // 40 pages left: "page" (the title), "common" and "word" in each first passage, "page" and
  // one word in each second.
  EXPECT_EQ(index->postings(), 40 * 3 + 40 * 2) << "rebuilt without the removed passages";
  auto fresh = Build();
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(index->Idf("unique"), idf_before);
  EXPECT_EQ(index->Idf("unique"), fresh->Idf("unique")) << "statistics of the live passages";
}

TEST_F(LexicalIndexTest, HostileTermsAreHarmless) {
  Put("u:a", "Title", {"some words here"});
  auto index = Build();
  ASSERT_NE(index, nullptr);
  EXPECT_TRUE(index->Search({}, 10).empty());
  EXPECT_TRUE(index->Search(Terms({"words"}), 0).empty());
  EXPECT_TRUE(index->Search(Terms({"words"}), -3).empty());
  EXPECT_TRUE(index->Search(Terms({"the", "of", ""}), 10).empty());
  EXPECT_TRUE(index->Search(Terms({"\xff\xfe", "NEAR(", "\"", "*"}), 10).empty());
  EXPECT_TRUE(index
                  ->Search(std::vector<WeightedTerm>{{.word = "words", .weight = -1},
                                                     {.word = "some", .weight = std::nan("")}},
                           10)
                  .empty());
  std::vector<WeightedTerm> many(10000, {.word = "words"});
  EXPECT_EQ(index->Search(many, 10).size(), 1u);
  EXPECT_EQ(index->Search(Terms({std::string(100000, 'w').c_str()}), 10).size(), 0u);
  EXPECT_FALSE(LexicalIndex::Build(*store_, {.k1 = -1}).ok());
  EXPECT_FALSE(LexicalIndex::Build(*store_, {.b = 2}).ok());
}

TEST_F(LexicalIndexTest, SearchesRunWhileAWriterCatchesUp) {
  for (int p = 0; p < 20; ++p) Put("u:" + std::to_string(p), "Page", {"shared topic"});
  auto index = Build();
  ASSERT_NE(index, nullptr);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      while (!done.load())
        if (index->Search(Terms({"topic"}), 1000).size() < 20) ++bad;
    });
  for (int p = 20; p < 60; ++p) {
    Put("u:" + std::to_string(p), "Page", {"shared topic"});
    ASSERT_TRUE(index->CatchUp(*store_).ok());
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(index->Search(Terms({"topic"}), 1000).size(), 60u);
}

}  // namespace
}  // namespace lumen::retrieval
