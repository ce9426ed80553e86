// An in-memory BM25 index over the store's passages: the fast path for lexical retrieval.
//
// Why it exists beside FTS5: a question is an OR of words, and FTS5 scores every passage that
// holds any of them through its auxiliary-function interface (position lists decoded per row)
// before it keeps the best k — about 1 µs and up per matching row, so a question with two or
// three common words costs hundreds of milliseconds at 100k passages and seconds at 1M. This
// index keeps, per term, the ordinals of the passages holding it and a quantised weighted term
// frequency (5 bytes a posting) and scores term by term into a dense accumulator: a few
// nanoseconds per posting. It is derived from the store, never a second source of truth: built
// by reading every passage, then kept current from the store's passage log (CatchUp), so it
// cannot disagree with SQLite after a crash. FTS5 stays the store's index (and what questions of
// stop-words only use). Xapian (a Debian package) was the library alternative; it would be a
// second on-disk database with its own transactions to keep consistent with lumen.db.
//
// Scoring is FTS5's bm25() — idf log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, term frequency
// summing title and heading words with their column weights, length = all tokens of the passage
// — with k1 and b configurable (FTS5 fixes 1.2 and 0.75), over words split like SplitWords and
// stemmed with Snowball's "porter" algorithm (libstemmer; the algorithm of FTS5's porter
// tokenizer). Stop-words (IsStopWord) are not indexed.
//
// Search is exact top-k with MaxScore pruning (Turtle & Flood 1995) in term-at-a-time form:
// terms are scored in decreasing order of their score's upper bound (largest tf over shortest
// passage); as soon as the k-th best score so far exceeds what all remaining terms together could
// add, no passage not yet seen can enter the top k, and the remaining (common, low-idf) terms are
// looked up only in the passages already seen (galloping search) instead of being scanned.
//
// Removal: removed passages become tombstones, never returned; they still count in N and in
// document frequencies until CatchUp rebuilds the index, which it does when tombstones exceed a
// quarter of the passages.
//
// Threading: Search may run from any number of threads at once; CatchUp excludes them while it
// applies changes (a reader-writer lock). Build and CatchUp read the store through its own
// (serialised) methods.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "retrieval/store.h"

struct sb_stemmer;

namespace lumen::retrieval {

struct LexicalIndexOptions {
  double k1 = 1.2;
  double b = 0.75;
  double title_weight = 1.5;  // as StoreOptions: column weights in the term frequency
  double heading_weight = 2.0;
  double body_weight = 1.0;
};

// One query term: a word (stemmed by the index) and the weight its BM25 score is multiplied by.
struct WeightedTerm {
  std::string word;
  double weight = 1.0;
};

class LexicalIndex {
 public:
  // Reads every passage of `store`. kInvalidArgument for k1 < 0 or b outside [0, 1].
  static Result<std::unique_ptr<LexicalIndex>> Build(Store& store,
                                                     const LexicalIndexOptions& options = {});
  ~LexicalIndex();
  LexicalIndex(const LexicalIndex&) = delete;
  LexicalIndex& operator=(const LexicalIndex&) = delete;

  // Applies the store's passage log since the last change applied (cheap when nothing changed:
  // one indexed read of the log's last seq). Rebuilds when tombstones exceed a quarter.
  Status CatchUp(Store& store);

  // The best k passages by sum over terms of weight * bm25(term). Terms the index has never seen
  // and stop-words contribute nothing; terms with the same stem add up (as FTS5 would score
  // "flow OR flows"). Ties are broken by passage id, smaller first. Never fails.
  std::vector<LexicalHit> Search(std::span<const WeightedTerm> terms, int k) const;

  // Sum over terms of weight * bm25(term) for each of `passage_ids` (as Search would score it;
  // 0 for passages the index does not hold or that hold none of the terms). Costs a binary
  // search per (passage, term) instead of a pass over the terms' postings: the way to score a
  // query of common words against a few hundred known candidates. Never fails.
  std::vector<float> ScorePassages(std::span<const WeightedTerm> terms,
                                   std::span<const std::int64_t> passage_ids) const;

  // Inverse document frequency of `word` as the scorer uses it (0 for unknown words).
  double Idf(std::string_view word) const;

  // Share of the passages holding `word`, tombstones included (0 for unknown words).
  double DocumentFraction(std::string_view word) const;

  // True when `word` is something the index can score (a content word it has seen).
  bool Knows(std::string_view word) const;

  std::int64_t size() const;       // live passages
  std::int64_t postings() const;   // (term, passage) pairs, tombstones included
  double BytesPerPassage() const;  // memory held per live passage
  std::int64_t applied_seq() const { return applied_seq_.load(); }

 private:
  struct Term {
    std::vector<std::uint32_t> docs;  // passage ordinals, ascending
    std::vector<std::uint8_t> tf;     // weighted term frequency * 4, rounded, capped at 255
    // For the score's upper bound (MaxScore pruning): the largest tf and the shortest passage.
    std::uint8_t max_tf = 0;
    std::uint32_t min_length = UINT32_MAX;
  };
  struct Scratch;

  explicit LexicalIndex(const LexicalIndexOptions& options);
  Status LoadAll(Store& store);
  void AddPassage(const PassageView& v);
  void RecomputeNorms();
  // Term id of a word, or -1 (unknown or a stop-word). Needs mu_ held (shared is enough).
  std::int32_t FindTerm(std::string_view word) const;
  // Term id of a word, adding the term when new (mu_ held exclusively); -1 for stop-words.
  std::int32_t InternTerm(const std::string& word);
  std::string Stem(std::string_view word) const;
  // Known content terms of a query (at most kMaxQueryTerms considered), terms with the same stem
  // merged by adding their weights. Needs mu_ held (shared is enough).
  std::vector<std::pair<std::int32_t, double>> MergeTerms(
      std::span<const WeightedTerm> terms) const;
  // FTS5's idf, log((N - n + 0.5) / (n + 0.5)) floored at 1e-6. Needs mu_ held.
  double IdfOf(const Term& term) const;
  std::unique_ptr<Scratch> AcquireScratch() const;
  void ReleaseScratch(std::unique_ptr<Scratch> s) const;

  LexicalIndexOptions options_;
  mutable std::shared_mutex mu_;
  mutable std::mutex stem_mu_;  // a Snowball stemmer is not thread-safe
  std::unique_ptr<sb_stemmer, void (*)(sb_stemmer*)> stemmer_;
  std::unordered_map<std::string, std::int32_t> word_to_term_;  // surface word -> term (-1: stop)
  std::unordered_map<std::string, std::int32_t> stem_to_term_;
  std::vector<Term> terms_;
  std::vector<std::int64_t> ids_;       // ordinal -> passage id (ascending)
  std::vector<std::uint32_t> lengths_;  // ordinal -> tokens in title + headings + text
  std::vector<float> norms_;            // ordinal -> k1 * (1 - b + b * length / avgdl)
  std::vector<bool> removed_;           // ordinal -> tombstone
  std::int64_t tombstones_ = 0;
  std::uint64_t total_length_ = 0;
  std::int64_t postings_ = 0;
  std::atomic<std::int64_t> applied_seq_{0};
  mutable std::mutex scratch_mu_;
  mutable std::vector<std::unique_ptr<Scratch>> scratch_;
};

}  // namespace lumen::retrieval
