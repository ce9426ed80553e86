// Latent semantic analysis of the indexed corpus itself (Deerwester et al., 1990), as an
// embedder, and the joint embedder that puts it beside the GloVe SIF vectors.
//
//   passage(s) = normalise( sum_{t in s} (1 + log tf(t, s)) * idf(t) * T[t] )
//
// t runs over the Snowball-stemmed content words of s (the stems the BM25 index uses), idf(t) =
// log(N / df(t)) over the whole corpus, and T (terms x k) holds the top k right singular vectors
// of the sample's TF-IDF matrix (rows L2-normalised): a passage's vector is its TF-IDF vector
// projected onto the corpus's k main "topics". The SVD is randomised (Halko, Martinsson & Tropp,
// 2011: a Gaussian sketch, power iterations, then the exact eigen-decomposition of a small
// matrix), seeded, so a rebuild gives the same vectors.
//
// Why: GloVe knows general English but not a collection's own vocabulary; on Cranfield the LSA
// vectors of the same passages, fused with BM25 beside the GloVe ones, raise hybrid nDCG@10 from
// 0.397 to 0.41 on both halves of the queries (docs/BENCHMARKS.md). Fitting costs one pass over
// the corpus (document frequencies) and an SVD of a sample (index.lsa_sample passages).
//
// The joint embedder ("glove-sif+lsa", the default) concatenates the two unit vectors weighted
// so that the inner product of two joint vectors is (cos_glove + w * cos_lsa) / (1 + w).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "retrieval/embedder.h"

struct sb_stemmer;

namespace lumen::retrieval {

// What an LSA fit produces; saved next to the vector index.
struct LsaStatistics {
  std::uint64_t documents = 0;     // N: passages counted for document frequencies
  std::vector<std::string> terms;  // stems with a row in `vectors`, in row order
  std::vector<std::uint32_t> df;   // document frequency of each term in the whole corpus
  std::vector<float> vectors;      // terms.size() x dimension, row-major
  int dimension = 0;

  Status Save(const std::string& path) const;
  // kCorruption for a damaged file, kInvalidArgument for another dimension.
  static Result<LsaStatistics> Load(const std::string& path, int dimension);
};

class LsaEmbedder : public Embedder {
 public:
  struct Options {
    int dimension = 100;            // k: singular vectors kept
    std::size_t sample = 20000;     // passages the SVD is fitted on (the first ones given)
    std::size_t max_terms = 50000;  // most frequent stems of the sample that get a vector
    int power_iterations = 3;
    std::uint64_t seed = 20261130;
  };

  LsaEmbedder();
  explicit LsaEmbedder(Options options);
  ~LsaEmbedder() override;

  std::string name() const override { return "lsa-" + std::to_string(options_.dimension); }
  int dimension() const override { return options_.dimension; }
  // Before a fit (or load) every text embeds to the zero vector.
  Status Embed(std::span<const std::string_view> texts, EmbedRole role,
               std::vector<float>& out) const override;

  bool uses_corpus_statistics() const override { return true; }
  void ResetCorpus() override;
  void ObserveCorpus(std::span<const std::string_view> texts) override;
  void FinishCorpus(std::span<const std::string_view> sample) override;
  Status SaveStatistics(const std::string& path) const override { return stats_.Save(path); }
  Status LoadStatistics(const std::string& path) override;

  const LsaStatistics& statistics() const { return stats_; }
  // The singular values of the last fit, largest first (empty after a load).
  const std::vector<double>& singular_values() const { return singular_values_; }

 private:
  // Stemmed content words of `text`, with their counts.
  std::unordered_map<std::string, int> TermCounts(std::string_view text) const;
  void IndexTerms();

  Options options_;
  LsaStatistics stats_;
  std::unordered_map<std::string, std::uint32_t> corpus_df_;  // while fitting
  std::unordered_map<std::string, std::int32_t> row_of_;      // term -> row of stats_.vectors
  std::vector<float> idf_;                                    // per row
  std::vector<double> singular_values_;
  mutable std::mutex stem_mu_;  // a Snowball stemmer is not thread-safe
  std::unique_ptr<sb_stemmer, void (*)(sb_stemmer*)> stemmer_;
};

// Two embedders side by side: the vector is [a / |a| * sqrt(1 / (1 + w)), b / |b| * sqrt(w /
// (1 + w))], renormalised (so a text one part cannot embed keeps the other part's direction).
// Corpus statistics go to `path` (first) and `path + ".2"` (second).
class JointEmbedder : public Embedder {
 public:
  JointEmbedder(std::unique_ptr<Embedder> first, std::unique_ptr<Embedder> second,
                double second_weight);

  std::string name() const override;
  int dimension() const override { return first_->dimension() + second_->dimension(); }
  Status Embed(std::span<const std::string_view> texts, EmbedRole role,
               std::vector<float>& out) const override;

  bool uses_corpus_statistics() const override;
  void ResetCorpus() override;
  void ObserveCorpus(std::span<const std::string_view> texts) override;
  void FinishCorpus(std::span<const std::string_view> sample) override;
  Status SaveStatistics(const std::string& path) const override;
  Status LoadStatistics(const std::string& path) override;

  Embedder& first() { return *first_; }
  Embedder& second() { return *second_; }

 private:
  std::unique_ptr<Embedder> first_, second_;
  double weight_;
};

}  // namespace lumen::retrieval
