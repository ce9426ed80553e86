// LSA embedder: checked against a TF-IDF computation written here (not the embedder's own code):
// when the kept dimensions cover the sample's rank, projecting passages onto the right singular
// vectors preserves their inner products, so the embedded passages' cosines must equal their
// TF-IDF cosines; the squared singular values must add up to the squared Frobenius norm.
#include "retrieval/lsa_embedder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace lumen::retrieval {
namespace {

namespace fs = std::filesystem;

// `docs` passages over 3 topics of 40 made-up words ("t1w17"; digits end them, so neither the
// stemmer nor the stop-word list changes them), 4-12 words each, mostly from one topic.
std::vector<std::string> Corpus(int docs, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (int d = 0; d < docs; ++d) {
    const int topic = d % 3;
    const int n = 4 + static_cast<int>(rng() % 9);
    std::string text;
    for (int i = 0; i < n; ++i) {
      const int t = rng() % 6 == 0 ? static_cast<int>(rng() % 3) : topic;
      text += "t" + std::to_string(t) + "w" + std::to_string(rng() % 40) + " ";
    }
    out.push_back(text);
  }
  return out;
}

// TF-IDF rows as the LSA definition states them: (1 + ln tf) * ln(N / df), L2-normalised.
std::vector<std::map<std::string, double>> TfIdf(const std::vector<std::string>& docs) {
  std::vector<std::map<std::string, int>> tf(docs.size());
  std::map<std::string, int> df;
  for (std::size_t d = 0; d < docs.size(); ++d) {
    std::string w;
    for (char c : docs[d] + " ") {
      if (c != ' ') {
        w += c;
      } else if (!w.empty()) {
        ++tf[d][w];
        w.clear();
      }
    }
    for (const auto& [term, n] : tf[d]) ++df[term];
  }
  std::vector<std::map<std::string, double>> rows(docs.size());
  for (std::size_t d = 0; d < docs.size(); ++d) {
    double norm = 0;
    for (const auto& [term, n] : tf[d]) {
      const double v = (1 + std::log(n)) * std::log(static_cast<double>(docs.size()) / df[term]);
      rows[d][term] = v;
      norm += v * v;
    }
    for (auto& [term, v] : rows[d]) v /= std::sqrt(norm);
  }
  return rows;
}

double Cosine(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  double s = 0;
  for (const auto& [term, v] : a) {
    auto it = b.find(term);
    if (it != b.end()) s += v * it->second;
  }
  return s;
}

std::vector<float> EmbedAll(const Embedder& e, const std::vector<std::string>& texts) {
  std::vector<std::string_view> refs(texts.begin(), texts.end());
  std::vector<float> out;
  EXPECT_TRUE(e.Embed(refs, EmbedRole::kPassage, out).ok());
  return out;
}

void Fit(LsaEmbedder& e, const std::vector<std::string>& docs) {
  std::vector<std::string_view> refs(docs.begin(), docs.end());
  e.ResetCorpus();
  e.ObserveCorpus(refs);
  e.FinishCorpus(refs);
}

double Dot(const float* a, const float* b, int d) {
  double s = 0;
  for (int j = 0; j < d; ++j) s += static_cast<double>(a[j]) * b[j];
  return s;
}

TEST(LsaEmbedderTest, FullRankProjectionKeepsTfIdfCosinesAndTheFrobeniusNorm) {
  const std::vector<std::string> docs = Corpus(40, 7);
  LsaEmbedder lsa({.dimension = 48});  // >= 40 documents >= the rank of the sample
  Fit(lsa, docs);
  EXPECT_EQ(lsa.statistics().documents, 40u);
  double sum_sq = 0;
  for (double s : lsa.singular_values()) sum_sq += s * s;
  EXPECT_NEAR(sum_sq, 40.0, 1e-6) << "rows have unit norm, so ||A||_F^2 = 40";
  for (std::size_t i = 1; i < lsa.singular_values().size(); ++i)
    EXPECT_GE(lsa.singular_values()[i - 1], lsa.singular_values()[i]);

  const auto rows = TfIdf(docs);
  const std::vector<float> v = EmbedAll(lsa, docs);
  const int d = lsa.dimension();
  for (std::size_t i = 0; i < docs.size(); ++i) {
    EXPECT_NEAR(Dot(&v[i * d], &v[i * d], d), 1.0, 1e-5);
    for (std::size_t j = 0; j < i; ++j)
      EXPECT_NEAR(Dot(&v[i * d], &v[j * d], d), Cosine(rows[i], rows[j]), 1e-4)
          << "passages " << i << " and " << j;
  }
}

TEST(LsaEmbedderTest, FewDimensionsGroupPassagesByTopic) {
  const std::vector<std::string> docs = Corpus(300, 11);
  LsaEmbedder lsa({.dimension = 3});
  Fit(lsa, docs);
  const std::vector<float> v = EmbedAll(lsa, docs);
  double same = 0, other = 0;
  int n_same = 0, n_other = 0;
  for (std::size_t i = 0; i < docs.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const double c = Dot(&v[i * 3], &v[j * 3], 3);
      if (i % 3 == j % 3) {
        same += c;
        ++n_same;
      } else {
        other += c;
        ++n_other;
      }
    }
  EXPECT_GT(same / n_same, 0.8);
  EXPECT_LT(other / n_other, 0.2);
  // A question in a topic's words (one the sample never used together) lands in that topic.
  const std::vector<float> q = EmbedAll(lsa, {"t2w3 t2w31 t2w8"});
  EXPECT_GT(Dot(q.data(), &v[2 * 3], 3), 0.8);
  EXPECT_LT(Dot(q.data(), &v[0], 3), 0.3);
}

TEST(LsaEmbedderTest, UnknownWordsEmbedToZeroAndFitsAreDeterministic) {
  const std::vector<std::string> docs = Corpus(60, 3);
  LsaEmbedder a({.dimension = 8}), b({.dimension = 8});
  EXPECT_EQ(EmbedAll(a, {"t0w1"}), std::vector<float>(8, 0.0f)) << "nothing fitted yet";
  Fit(a, docs);
  Fit(b, docs);
  EXPECT_EQ(EmbedAll(a, docs), EmbedAll(b, docs));
  EXPECT_EQ(EmbedAll(a, {"", "zebra quantum", "the of and"}), std::vector<float>(24, 0.0f));
}

// Fitted on the sample alone (no ObserveCorpus pass), the sample is the corpus: document
// frequencies and N come from it, giving the same vectors as a full fit over the same texts.
TEST(LsaEmbedderTest, AFitWithoutACorpusPassUsesTheSampleAsTheCorpus) {
  const std::vector<std::string> docs = Corpus(60, 13);
  std::vector<std::string_view> refs(docs.begin(), docs.end());
  LsaEmbedder full({.dimension = 8}), sample_only({.dimension = 8});
  Fit(full, docs);
  sample_only.ResetCorpus();
  sample_only.FinishCorpus(refs);
  EXPECT_EQ(sample_only.statistics().documents, 60u);
  EXPECT_EQ(sample_only.statistics().df, full.statistics().df);
  const std::vector<float> a = EmbedAll(full, docs), b = EmbedAll(sample_only, docs);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
}

TEST(LsaEmbedderTest, StatisticsRoundTripAndDamagedFilesAreClearErrors) {
  const fs::path dir = fs::temp_directory_path() / ("lumen_lsa_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "vectors.faiss.stats.2").string();
  const std::vector<std::string> docs = Corpus(60, 5);
  LsaEmbedder fitted({.dimension = 8});
  Fit(fitted, docs);
  ASSERT_TRUE(fitted.SaveStatistics(path).ok());
  LsaEmbedder loaded({.dimension = 8});
  ASSERT_TRUE(loaded.LoadStatistics(path).ok());
  EXPECT_EQ(EmbedAll(loaded, docs), EmbedAll(fitted, docs));

  LsaEmbedder other({.dimension = 16});
  EXPECT_EQ(other.LoadStatistics(path).code(), StatusCode::kInvalidArgument);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::size_t keep : {std::size_t{3}, std::size_t{30}, bytes.size() - 5}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, keep);
    EXPECT_EQ(loaded.LoadStatistics(path).code(), StatusCode::kCorruption) << keep << " bytes";
  }
  std::string bad = bytes;
  bad[0] = 'X';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  EXPECT_EQ(loaded.LoadStatistics(path).code(), StatusCode::kCorruption);
  EXPECT_EQ(loaded.LoadStatistics((dir / "missing").string()).code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lumen::retrieval
