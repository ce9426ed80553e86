// Embedders, the FAISS vector index and the indexer, on small generated word vectors.
#include <gtest/gtest.h>

#include <faiss/Index.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "ranking/hybrid.h"
#include "retrieval/glove_embedder.h"
#include "retrieval/indexer.h"
#include "retrieval/lexical_index.h"
#include "retrieval/lsa_embedder.h"
#include "retrieval/store.h"
#include "retrieval/vector_index.h"

namespace lumen::retrieval {
namespace {

namespace fs = std::filesystem;

// An 8-dimensional vocabulary with three topics (aircraft, cooking, music) and filler words, in
// the wink JSON layout (vector values, then the l2 norm and the rank).
std::string FixtureJson() {
  struct W {
    const char* word;
    int topic;  // -1: filler
  };
  const W words[] = {{"the", -1},      {"of", -1},      {"a", -1},      {"and", -1},
                     {"wing", 0},      {"aircraft", 0}, {"flutter", 0}, {"lift", 0},
                     {"soup", 1},      {"recipe", 1},   {"bake", 1},    {"oven", 1},
                     {"guitar", 2},    {"chord", 2},    {"melody", 2},  {"song", 2},
                     {"caf\u00e9", 1}, {"quote\"d", -1}};
  std::string json = "{\"precision\":8,\"dimensions\":8,\"size\":18,\"words\":[";
  for (std::size_t i = 0; i < std::size(words); ++i) {
    std::string w = words[i].word;
    std::string esc;
    for (char c : w) {
      if (c == '"') esc += '\\';
      esc += c;
    }
    json += (i ? "," : "") + ("\"" + esc + "\"");
  }
  json += "],\"vectors\":{";
  for (std::size_t i = 0; i < std::size(words); ++i) {
    std::string esc;
    for (char c : std::string(words[i].word)) {
      if (c == '"') esc += '\\';
      esc += c;
    }
    json += (i ? ",\"" : "\"") + esc + "\":[";
    for (int j = 0; j < 8; ++j) {
      double v = 0.05 * ((i * 7 + j * 3) % 5);  // a little noise
      if (words[i].topic >= 0 && j / 2 == words[i].topic) v += 1.0;
      if (words[i].topic < 0 && j == 7) v += 1.0;
      json += (j ? "," : "") + std::to_string(v);
    }
    json += ",1.0," + std::to_string(i) + "]";
  }
  json += "},\"unkVector\":[0,0,0,0,0,0,0,0,0,-1]}";
  return json;
}

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_index_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    json_path_ = (dir_ / "vectors.json").string();
    std::ofstream(json_path_) << FixtureJson();
    auto wv = WordVectors::FromWinkJson(json_path_);
    ASSERT_TRUE(wv.ok()) << wv.status().ToString();
    vectors_ = std::make_shared<const WordVectors>(std::move(*wv));
  }
  void TearDown() override { fs::remove_all(dir_); }

  static float Dot(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  }

  fs::path dir_;
  std::string json_path_;
  std::shared_ptr<const WordVectors> vectors_;
};

TEST_F(IndexTest, WinkJsonParsesWordsInRankOrderWithEscapes) {
  EXPECT_EQ(vectors_->dimension(), 8);
  EXPECT_EQ(vectors_->size(), 18u);
  EXPECT_EQ(vectors_->Find("the"), 0);
  EXPECT_EQ(vectors_->Find("wing"), 4);
  EXPECT_EQ(vectors_->Find("caf\u00e9"), 16);
  EXPECT_EQ(vectors_->Find("quote\"d"), 17);
  EXPECT_EQ(vectors_->Find("missing"), -1);
}

TEST_F(IndexTest, BinaryCacheRoundTripsAndIsReusedByLoadOrConvert) {
  const std::string bin = (dir_ / "cache" / "v.f32").string();
  auto converted = WordVectors::LoadOrConvert(json_path_, bin);
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  ASSERT_TRUE(fs::exists(bin));
  fs::remove(json_path_);  // the cache alone must do now
  auto cached = WordVectors::LoadOrConvert(json_path_, bin);
  ASSERT_TRUE(cached.ok()) << cached.status().ToString();
  ASSERT_EQ(cached->size(), vectors_->size());
  EXPECT_EQ(cached->word(5), "aircraft");
  EXPECT_EQ(cached->vector(5)[2], vectors_->vector(5)[2]);
}

TEST_F(IndexTest, MalformedWordVectorFilesAreCorruptionErrors) {
  for (const std::string bad :
       {"", "{", "{\"dimensions\":8,\"words\":[\"a\"],\"vectors\":{\"a\":[1,2]}}",
        "{\"dimensions\":8,\"words\":[\"a\"],\"vectors\":{\"a\":[1,2,3,4,5,6,7,8", "[1,2,3]",
        "{\"dimensions\":99999999}", "{\"words\":[\"a\"]}"}) {
    const std::string p = (dir_ / "bad.json").string();
    std::ofstream(p) << bad;
    auto r = WordVectors::FromWinkJson(p);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad << ": " << r.status().ToString();
  }
  const std::string p = (dir_ / "bad.f32").string();
  std::ofstream(p) << "LUMWVEC1\x08\x00\x00\x00\xff\xff\x00\x00truncated";
  EXPECT_EQ(WordVectors::LoadBinary(p).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(WordVectors::FromWinkJson((dir_ / "absent.json").string()).status().code(),
            StatusCode::kNotFound);
}

TEST_F(IndexTest, SifVectorsAreUnitLengthAndGroupByTopic) {
  GloveSifEmbedder e(vectors_);
  const std::vector<std::string_view> corpus = {"the wing of the aircraft", "a soup recipe",
                                                "the guitar chord and melody", "bake in the oven"};
  e.CountWords(corpus);
  e.FitPrincipalComponent(corpus);
  ASSERT_EQ(e.statistics().principal.size(), 8u);
  std::vector<float> out;
  const std::vector<std::string_view> texts = {"aircraft wing flutter", "the lift of a wing",
                                               "soup recipe", "", "unknown words only"};
  ASSERT_TRUE(e.Embed(texts, EmbedRole::kPassage, out).ok());
  ASSERT_EQ(out.size(), 5u * 8u);
  auto row = [&](int i) {
    return std::vector<float>(out.begin() + i * 8, out.begin() + i * 8 + 8);
  };
  EXPECT_NEAR(Dot(row(0), row(0)), 1.0f, 1e-4);
  EXPECT_GT(Dot(row(0), row(1)), Dot(row(0), row(2)) + 0.3f) << "same topic is closer";
  EXPECT_EQ(Dot(row(3), row(3)), 0.0f) << "empty text embeds to zero";
  EXPECT_EQ(Dot(row(4), row(4)), 0.0f) << "no known word embeds to zero";
}

// The joint vector's inner product is the weighted mean of its parts' cosines, and its
// statistics are the two parts' files side by side.
TEST_F(IndexTest, JointEmbedderWeighsItsPartsCosines) {
  const std::vector<std::string> corpus = {"wing lift aircraft", "wing flutter",
                                           "soup recipe oven",   "bake the soup",
                                           "guitar chord",       "melody and chord"};
  std::vector<std::string_view> refs(corpus.begin(), corpus.end());
  auto make = [&] {
    return std::make_unique<JointEmbedder>(
        std::make_unique<GloveSifEmbedder>(vectors_),
        std::make_unique<LsaEmbedder>(LsaEmbedder::Options{.dimension = 4}), 2.0);
  };
  auto joint = make();
  EXPECT_EQ(joint->name(), "glove-6b-100d-sif+lsa-4@2");
  EXPECT_EQ(joint->dimension(), 8 + 4);
  joint->ResetCorpus();
  joint->ObserveCorpus(refs);
  joint->FinishCorpus(refs);
  const std::vector<std::string_view> texts = {"wing aircraft", "lift flutter", "soup oven"};
  std::vector<float> j, g, l;
  ASSERT_TRUE(joint->Embed(texts, EmbedRole::kPassage, j).ok());
  ASSERT_TRUE(joint->first().Embed(texts, EmbedRole::kPassage, g).ok());
  ASSERT_TRUE(joint->second().Embed(texts, EmbedRole::kPassage, l).ok());
  auto dot = [](const float* a, const float* b, int d) {
    double s = 0;
    for (int k = 0; k < d; ++k) s += static_cast<double>(a[k]) * b[k];
    return s;
  };
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      EXPECT_NEAR(dot(&j[a * 12], &j[b * 12], 12),
                  (dot(&g[a * 8], &g[b * 8], 8) + 2.0 * dot(&l[a * 4], &l[b * 4], 4)) / 3.0, 1e-5)
          << texts[a] << " / " << texts[b];

  const std::string stats = (dir_ / "vectors.faiss.stats").string();
  ASSERT_TRUE(joint->SaveStatistics(stats).ok());
  EXPECT_TRUE(fs::exists(stats) && fs::exists(stats + ".2"));
  auto loaded = make();
  ASSERT_TRUE(loaded->LoadStatistics(stats).ok());
  std::vector<float> again;
  ASSERT_TRUE(loaded->Embed(texts, EmbedRole::kPassage, again).ok());
  EXPECT_EQ(again, j);
  fs::remove(stats + ".2");
  EXPECT_EQ(make()->LoadStatistics(stats).code(), StatusCode::kNotFound) << "half the statistics";
}

TEST_F(IndexTest, SifStatisticsRoundTripAndRejectOtherVocabularies) {
  GloveSifEmbedder e(vectors_);
  const std::vector<std::string_view> corpus = {"wing wing soup", "guitar"};
  e.CountWords(corpus);
  e.FitPrincipalComponent(corpus);
  const std::string p = (dir_ / "stats").string();
  ASSERT_TRUE(e.SaveStatistics(p).ok());
  GloveSifEmbedder f(vectors_);
  ASSERT_TRUE(f.LoadStatistics(p).ok());
  EXPECT_EQ(f.statistics().counts, e.statistics().counts);
  EXPECT_EQ(f.statistics().total, 4u);
  EXPECT_EQ(SifStatistics::Load(p, 17, 8).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(IndexTest, FlatIndexSearchesRemovesAndPersists) {
  auto idx = VectorIndex::Create("test", 4, "Flat");
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  const std::vector<std::int64_t> ids = {10, 20, 30};
  const std::vector<float> v = {1, 0, 0, 0, 0, 1, 0, 0, 0.8f, 0.6f, 0, 0};
  ASSERT_TRUE((*idx)->Add(ids, v).ok());
  ASSERT_TRUE((*idx)->Add(ids, v).ok()) << "idempotent";
  EXPECT_EQ((*idx)->size(), 3);
  const std::vector<float> q = {1, 0, 0, 0};
  auto hits = (*idx)->Search(q, 2);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].passage_id, 10);
  EXPECT_EQ((*hits)[1].passage_id, 30);
  EXPECT_NEAR((*hits)[1].score, 0.8f, 1e-6);
  const std::vector<std::int64_t> gone = {10, 99};
  ASSERT_TRUE((*idx)->Remove(gone).ok());
  EXPECT_EQ((*idx)->Search(q, 1)->front().passage_id, 30);
  EXPECT_TRUE((*idx)->Search(std::vector<float>(4, 0.0f), 3)->empty()) << "zero query";
  EXPECT_EQ((*idx)->Search(std::vector<float>(3, 1.0f), 3).status().code(),
            StatusCode::kInvalidArgument);

  (*idx)->set_applied_seq(42);
  const std::string path = VectorIndexPath(dir_.string());
  ASSERT_TRUE((*idx)->Save(path).ok());
  EXPECT_TRUE(fs::exists(path + ".json"));
  auto loaded = VectorIndex::Load(path, "test", 4);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 2);
  EXPECT_EQ((*loaded)->info().applied_seq, 42);
  EXPECT_EQ((*loaded)->Search(q, 1)->front().passage_id, 30);
  auto rec = (*loaded)->Reconstruct(20);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ((*rec)[1], 1.0f);
}

TEST_F(IndexTest, LoadingAnIndexOfAnotherEmbedderSuggestsRebuild) {
  auto idx = VectorIndex::Create("glove-6b-100d-sif", 4, "Flat");
  ASSERT_TRUE(idx.ok());
  const std::string path = VectorIndexPath(dir_.string());
  ASSERT_TRUE((*idx)->Save(path).ok());
  for (auto [name, dim] : {std::pair{"other-embedder", 4}, std::pair{"glove-6b-100d-sif", 8}}) {
    auto r = VectorIndex::Load(path, name, dim);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("lumen index --rebuild"), std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(VectorIndex::Load((dir_ / "none.faiss").string(), "x", 4).status().code(),
            StatusCode::kNotFound);
  std::ofstream(path) << "garbage";
  EXPECT_EQ(VectorIndex::Load(path, "glove-6b-100d-sif", 4).status().code(),
            StatusCode::kCorruption);
}

TEST_F(IndexTest, ApproximateIndexRemovesThroughPersistentTombstones) {
  auto idx = VectorIndex::Create("test", 4, "HNSW8,Flat");
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  const std::vector<std::int64_t> ids = {1, 2, 3};
  const std::vector<float> v = {1, 0, 0, 0, 0.9f, 0.1f, 0, 0, 0, 0, 1, 0};
  ASSERT_TRUE((*idx)->Add(ids, v).ok());
  const std::vector<std::int64_t> gone = {1};
  ASSERT_TRUE((*idx)->Remove(gone).ok());
  const std::vector<float> q = {1, 0, 0, 0};
  EXPECT_EQ((*idx)->Search(q, 1)->front().passage_id, 2);
  EXPECT_EQ((*idx)->size(), 2);
  const std::string path = VectorIndexPath(dir_.string());
  ASSERT_TRUE((*idx)->Save(path).ok());
  auto loaded = VectorIndex::Load(path, "test", 4);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->Search(q, 1)->front().passage_id, 2) << "tombstones persist";
  EXPECT_FALSE((*loaded)->Contains(1));
}

// Flat and HNSW indexes compute inner products with Lumen's SIMD code (Debian's FAISS has only
// scalar loops): exact search must still return the true top k, best first, and the file must
// stay a plain FAISS index that FAISS itself reads and searches the same way.
TEST_F(IndexTest, SimdSearchFindsTheExactTopKAndKeepsTheFaissFileFormat) {
  constexpr int kDim = 37, kCount = 3000, kK = 15;
  std::mt19937 rng(9);
  std::normal_distribution<float> g;
  std::vector<float> vectors(static_cast<std::size_t>(kDim) * kCount);
  for (float& x : vectors) x = g(rng);
  std::vector<std::int64_t> ids(kCount);
  for (int i = 0; i < kCount; ++i) ids[i] = 1000 + 3 * i;
  for (const char* factory : {"Flat", "HNSW16,Flat"}) {
    SCOPED_TRACE(factory);
    auto idx = VectorIndex::Create("test", kDim, factory);
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    ASSERT_TRUE((*idx)->Add(ids, vectors).ok());
    (*idx)->SetSearchParameters(/*ef_search=*/400, /*nprobe=*/0);
    const std::string path = VectorIndexPath((dir_ / factory).string());
    fs::create_directories(dir_ / factory);
    ASSERT_TRUE((*idx)->Save(path).ok());
    auto loaded = VectorIndex::Load(path, "test", kDim);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    (*loaded)->SetSearchParameters(400, 0);
    std::unique_ptr<faiss::Index> plain(faiss::read_index(path.c_str()));
    ASSERT_EQ(plain->ntotal, kCount);
    int found = 0;
    for (int q = 0; q < 20; ++q) {
      std::vector<float> query(kDim);
      for (float& x : query) x = g(rng);
      std::vector<std::pair<double, std::int64_t>> truth;
      for (int i = 0; i < kCount; ++i) {
        double dot = 0;
        for (int j = 0; j < kDim; ++j)
          dot += static_cast<double>(query[j]) * vectors[static_cast<std::size_t>(i) * kDim + j];
        truth.emplace_back(dot, ids[i]);
      }
      std::sort(truth.rbegin(), truth.rend());
      for (const auto* index : {idx->get(), loaded->get()}) {
        auto hits = index->Search(query, kK);
        ASSERT_TRUE(hits.ok());
        ASSERT_EQ(hits->size(), static_cast<std::size_t>(kK));
        for (int r = 0; r < kK; ++r) {
          EXPECT_GE((*hits)[r].score, r + 1 < kK ? (*hits)[r + 1].score : -1e30f);
          if (std::string(factory) == "Flat") {
            EXPECT_EQ((*hits)[r].passage_id, truth[r].second) << "query " << q << " rank " << r;
            EXPECT_NEAR((*hits)[r].score, truth[r].first, 1e-4);
          } else {
            found += std::any_of(truth.begin(), truth.begin() + kK,
                                 [&](const auto& t) { return t.second == (*hits)[r].passage_id; });
          }
        }
      }
      std::vector<float> scores(kK);
      std::vector<faiss::Index::idx_t> labels(kK);
      plain->search(1, query.data(), kK, scores.data(), labels.data());
      auto ours = (*loaded)->Search(query, kK);
      for (int r = 0; r < kK; ++r) EXPECT_NEAR(scores[r], (*ours)[r].score, 1e-4);
    }
    if (std::string(factory) != "Flat") {
      EXPECT_GE(found, 2 * 20 * kK * 95 / 100) << "recall";
    }
  }
}

TEST(IndexChoiceAdviceTest, LargeExactIndexesAreToldWhichApproximateIndexToUse) {
  EXPECT_EQ(IndexChoiceAdvice("Flat", kExactSearchAdviceVectors - 1), "");
  const std::string advice = IndexChoiceAdvice("Flat", 1'000'000);
  EXPECT_NE(advice.find("1000000 vectors"), std::string::npos) << advice;
  EXPECT_NE(advice.find("HNSW32,Flat"), std::string::npos) << advice;
  EXPECT_NE(advice.find("lumen index --rebuild"), std::string::npos) << advice;
  EXPECT_EQ(IndexChoiceAdvice("HNSW32,Flat", 5'000'000), "") << "already approximate";
}

TEST_F(IndexTest, InvalidFactoryStringsAndDevicesAreClearErrors) {
  auto bad = VectorIndex::Create("test", 4, "NoSuchIndex42");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("NoSuchIndex42"), std::string::npos);
  auto idx = VectorIndex::Create("test", 4, "Flat");
  ASSERT_TRUE(idx.ok());
  EXPECT_TRUE((*idx)->UseDevice("cpu").ok());
  EXPECT_TRUE((*idx)->UseDevice("auto").ok());
  EXPECT_EQ((*idx)->UseDevice("tpu").code(), StatusCode::kInvalidArgument);
#if !defined(LUMEN_HAVE_FAISS_GPU)
  EXPECT_EQ((*idx)->UseDevice("gpu").code(), StatusCode::kUnavailable);
#endif
}

TEST_F(IndexTest, IndexerFollowsTheStoreIncrementally) {
  auto store = Store::Open((dir_ / "data").string());
  ASSERT_TRUE(store.ok());
  auto put = [&](const std::string& url, const std::string& text) {
    const Passage p[] = {{.ordinal = 0, .begin = 0, .end = text.size(), .text = text}};
    auto r = (*store)->UpsertPage({.url = url, .title = "", .content_hash = text}, p);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->added_passage_ids.front() : 0;
  };
  const std::int64_t wing = put("u:wing", "aircraft wing flutter and lift");
  const std::int64_t soup = put("u:soup", "a soup recipe to bake in the oven");
  GloveSifEmbedder embedder(vectors_);
  const std::string data = (dir_ / "data").string();
  auto first = UpdateVectorIndex(**store, embedder, data, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->rebuilt);
  EXPECT_EQ(first->total, 2);

  const std::int64_t song = put("u:song", "guitar chord melody song");
  ASSERT_TRUE((*store)->DeletePage("u:soup").ok());
  GloveSifEmbedder embedder2(vectors_);
  auto second = UpdateVectorIndex(**store, embedder2, data, {});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->rebuilt);
  EXPECT_EQ(second->added, 1);
  EXPECT_EQ(second->removed, 1);
  EXPECT_EQ(second->total, 2);

  GloveSifEmbedder query_embedder(vectors_);
  auto index = OpenVectorIndex(query_embedder, data);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_TRUE((*index)->Contains(wing));
  EXPECT_TRUE((*index)->Contains(song));
  EXPECT_FALSE((*index)->Contains(soup));
  auto q = query_embedder.EmbedOne("melody", EmbedRole::kQuery);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*index)->Search(*q, 1)->front().passage_id, song);

  auto third = UpdateVectorIndex(**store, embedder2, data, {});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->added + third->removed, 0) << "nothing new";
}

class HybridTest : public IndexTest {
 protected:
  void SetUp() override {
    IndexTest::SetUp();
    auto s = Store::Open((dir_ / "data").string());
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    auto put = [&](const std::string& url, const std::string& title,
                   std::vector<std::string> texts) {
      std::vector<Passage> ps;
      for (std::size_t i = 0; i < texts.size(); ++i)
        ps.push_back({.ordinal = static_cast<int>(i), .begin = 0, .end = 0, .text = texts[i]});
      ASSERT_TRUE(store_->UpsertPage({.url = url, .title = title, .content_hash = url}, ps).ok());
    };
    put("u:air", "Aircraft", {"wing flutter", "wing lift", "wing aircraft", "wing and lift"});
    put("u:cook", "Kitchen", {"soup recipe", "bake in the oven"});
    put("u:music", "Songs", {"guitar chord", "a melody"});
    embedder_ = std::make_unique<GloveSifEmbedder>(vectors_);
    ASSERT_TRUE(UpdateVectorIndex(*store_, *embedder_, (dir_ / "data").string(), {}).ok());
    auto idx = OpenVectorIndex(*embedder_, (dir_ / "data").string());
    ASSERT_TRUE(idx.ok());
    index_ = std::move(*idx);
  }
  std::unique_ptr<Store> store_;
  std::unique_ptr<GloveSifEmbedder> embedder_;
  std::unique_ptr<VectorIndex> index_;
};

TEST_F(HybridTest, DenseFindsSynonymsThatBm25Misses) {
  ranking::HybridRetriever r(*store_, embedder_.get(), index_.get(), {});
  auto bm25 = r.Search("melody", 5, ranking::RetrievalMode::kBm25);
  ASSERT_TRUE(bm25.ok());
  ASSERT_EQ(bm25->size(), 1u);
  auto dense = r.Search("song", 2, ranking::RetrievalMode::kDense);
  ASSERT_TRUE(dense.ok()) << dense.status().ToString();
  ASSERT_FALSE(dense->empty());
  EXPECT_EQ(dense->front().view.url, "u:music") << "'song' is no stored word, but a music one";
  auto hybrid = r.Search("guitar song", 3);
  ASSERT_TRUE(hybrid.ok());
  ASSERT_FALSE(hybrid->empty());
  EXPECT_EQ(hybrid->front().view.url, "u:music");
  EXPECT_GT(hybrid->front().signals.bm25_rank, 0);
  EXPECT_GT(hybrid->front().signals.dense_rank, 0);
}

// With short lists, one search finds passages the other does not; in hybrid mode each candidate
// still gets the other search's score (its cosine, its BM25), so fusion compares like with like.
TEST_F(HybridTest, EveryCandidateGetsBothScores) {
  auto lexical = LexicalIndex::Build(*store_);
  ASSERT_TRUE(lexical.ok());
  const std::vector<WeightedTerm> terms = {{.word = "wing"}, {.word = "lift"}};
  int bm25_only = 0, dense_only = 0;
  for (auto [bm25_depth, dense_depth] : {std::pair{1, 6}, std::pair{6, 1}}) {
    ranking::HybridOptions options;
    options.bm25_candidates = bm25_depth;
    options.dense_candidates = dense_depth;
    options.expansion_weight = 0;
    options.max_per_page = 0;
    ranking::HybridRetriever r(*store_, embedder_.get(), index_.get(), options, lexical->get());
    auto hits = r.Search("wing lift", 10);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    for (const ranking::RankedPassage& h : *hits) {
      const ranking::Signals& s = h.signals;
      if (s.bm25_rank && !s.dense_rank) {
        ++bm25_only;
        // (the cosine with the feedback-moved question vector, so only its presence is checked)
        EXPECT_NE(s.dense, 0.0) << h.view.passage.text << ": its cosine was computed";
      }
      if (s.dense_rank && !s.bm25_rank) {
        ++dense_only;
        EXPECT_FLOAT_EQ(static_cast<float>(s.bm25),
                        (*lexical)->ScorePassages(terms, std::vector<std::int64_t>{h.view.id})[0])
            << h.view.passage.text;
      }
    }
  }
  EXPECT_GT(bm25_only, 0);
  EXPECT_GT(dense_only, 0);
}

TEST_F(HybridTest, AtMostMaxPerPagePassagesOfOnePage) {
  ranking::HybridOptions o;
  o.max_per_page = 2;
  ranking::HybridRetriever r(*store_, embedder_.get(), index_.get(), o);
  auto hits = r.Search("wing", 10);
  ASSERT_TRUE(hits.ok());
  int air = 0;
  for (const auto& h : *hits) air += h.view.url == "u:air";
  EXPECT_EQ(air, 2);
}

TEST_F(HybridTest, MmrPrefersADifferentPassageOverANearDuplicate) {
  ranking::HybridOptions o;
  o.mmr_lambda = 0.3;
  o.max_per_page = 0;
  ranking::HybridRetriever r(*store_, embedder_.get(), index_.get(), o);
  auto hits = r.Search("wing lift soup", 3);
  ASSERT_TRUE(hits.ok());
  ASSERT_GE(hits->size(), 2u);
  EXPECT_NE((*hits)[0].view.url, (*hits)[1].view.url) << "diversity reorders the top";
}

TEST_F(HybridTest, HostileQueriesGiveSensibleResults) {
  auto lexical = LexicalIndex::Build(*store_);
  ASSERT_TRUE(lexical.ok());
  // With BM25 from FTS5 and from the in-memory index.
  for (LexicalIndex* memory : {static_cast<LexicalIndex*>(nullptr), lexical->get()}) {
    ranking::HybridRetriever r(*store_, embedder_.get(), index_.get(), {}, memory);
    std::string huge;
    while (huge.size() < 100 * 1024) huge += "wing \"NEAR( -x:^ * ";
    const std::vector<std::string> queries = {"",
                                              "\"",
                                              "*",
                                              "NEAR(a b)",
                                              "-wing",
                                              "x:wing",
                                              "^wing",
                                              "((wing",
                                              "'; DROP TABLE pages; --",
                                              std::string("\xff\xfe wing \xc0"),
                                              "the of and a",
                                              huge};
    for (const std::string& q : queries) {
      for (auto mode : {ranking::RetrievalMode::kHybrid, ranking::RetrievalMode::kBm25,
                        ranking::RetrievalMode::kDense}) {
        auto hits = r.Search(q, 5, mode);
        ASSERT_TRUE(hits.ok()) << "[" << q.substr(0, 40) << "] " << hits.status().ToString();
        EXPECT_LE(hits->size(), 5u);
      }
    }
    EXPECT_TRUE(r.Search("", 5)->empty());
    EXPECT_EQ(*store_->CountPages(), 3);
    auto stop_words = r.Search("the and a", 5, ranking::RetrievalMode::kBm25);
    ASSERT_TRUE(stop_words.ok());
    EXPECT_FALSE(stop_words->empty()) << "only stop-words: searched for (through FTS5)";
  }
}

// A content word the question repeats weighs more, saturating with ranking.bm25_k3: asked twice
// with k3 = 2 it weighs (2 + 1) * 2 / (2 + 2) = 1.5 times its single weight; k3 = 0 counts it once.
TEST_F(HybridTest, RepeatedQuestionWordsWeighMoreWithK3) {
  auto lexical = LexicalIndex::Build(*store_);
  ASSERT_TRUE(lexical.ok());
  auto scores = [&](double k3) {
    ranking::HybridOptions o;
    o.bm25_k3 = k3;
    ranking::HybridRetriever r(*store_, nullptr, nullptr, o, lexical->get());
    auto hits = r.Search("soup oven, SOUP?", 10, ranking::RetrievalMode::kBm25);
    EXPECT_TRUE(hits.ok());
    std::map<std::string, double> by_text;
    for (const ranking::RankedPassage& h : *hits) by_text[h.view.passage.text] = h.signals.bm25;
    return by_text;
  };
  auto once = scores(0), saturated = scores(2);
  ASSERT_EQ(once.size(), 2u);
  ASSERT_EQ(saturated.size(), 2u);
  EXPECT_NEAR(saturated["soup recipe"], 1.5 * once["soup recipe"], 1e-4);
  EXPECT_NEAR(saturated["bake in the oven"], once["bake in the oven"], 1e-4);
}

TEST_F(HybridTest, MemoryAndFts5LexicalRetrievalAgree) {
  auto lexical = LexicalIndex::Build(*store_);
  ASSERT_TRUE(lexical.ok());
  ranking::HybridRetriever fts5(*store_, nullptr, nullptr, {});
  ranking::HybridRetriever memory(*store_, nullptr, nullptr, {}, lexical->get());
  for (const char* q : {"wing", "wing lift", "soup oven recipe", "guitar melody chords"}) {
    auto a = fts5.Search(q, 10, ranking::RetrievalMode::kBm25);
    auto b = memory.Search(q, 10, ranking::RetrievalMode::kBm25);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size()) << q;
    for (std::size_t i = 0; i < a->size(); ++i)
      EXPECT_NEAR((*a)[i].signals.bm25, (*b)[i].signals.bm25, 1e-4) << q;
  }
  // A page added after the index was built is found: the retriever catches up first.
  std::vector<Passage> ps = {{.ordinal = 0, .begin = 0, .end = 0, .text = "violin sonata"}};
  ASSERT_TRUE(
      store_->UpsertPage({.url = "u:new", .title = "Strings", .content_hash = "n"}, ps).ok());
  auto hits = memory.Search("violin", 5, ranking::RetrievalMode::kBm25);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front().view.url, "u:new");
}

TEST(RankingFeaturesTest, FeaturesAreBoundedAndRespondToTheQuery) {
  PassageView v;
  v.title = "Heat transfer";
  v.passage.text = "the heat flux and the transfer of heat in laminar flow";
  const std::vector<std::string> terms = {"heat", "transfer", "laminar"};
  EXPECT_NEAR(ranking::TitleMatch(terms, v), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(ranking::PhraseMatch({"laminar", "flow"}, v.passage.text), 1.0);
  EXPECT_EQ(ranking::PhraseMatch({"flow", "laminar"}, v.passage.text), 0.0);
  const double p = ranking::Proximity(terms, v.passage.text);
  EXPECT_GT(p, 0.0);
  EXPECT_LE(p, 1.0);
  EXPECT_GT(ranking::Proximity({"laminar", "flow"}, v.passage.text),
            ranking::Proximity({"heat", "flow"}, "heat a b c d e f g h i j k l flow"));
  EXPECT_GE(ranking::QualityPrior(v), 0.0);
  EXPECT_LE(ranking::QualityPrior(v), 1.0);
}

}  // namespace
}  // namespace lumen::retrieval
