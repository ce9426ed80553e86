// Hybrid retrieval: lexical candidates (FTS5 BM25) and dense candidates (FAISS over embedder
// vectors) fused into one ranking, reranked with cheap features, diversified, and capped per page.
//
//   1. candidates: the best `bm25_candidates` by BM25 and `dense_candidates` by cosine; BM25
//      comes from the in-memory LexicalIndex when one is given (retrieval/lexical_index.h),
//      else from the store's FTS5 index (and always from FTS5 for questions of stop-words only)
//   2. fusion (ranking.fusion):
//        "linear" (default): w_b * bm25 / max(bm25) + w_d * max(0, cos - dense_floor) / (1 - floor)
//                 — measured best on Cranfield (docs/BENCHMARKS.md)
//        "rrf":   sum over lists of 1 / (rrf_k + rank)
//      dense pseudo-relevance feedback: the query vector moves towards the vectors of the top
//      BM25 hits before the dense search (measured on Cranfield, docs/BENCHMARKS.md)
//   3. rerank features (top `rerank_pool` fused candidates), added with their weights: share of
//   query words in the title/headings,
//      exact query bigram (phrase) matches, term proximity (shortest window holding the matched
//      query words), page quality (a mild length prior: very short passages are weak sources)
//   4. maximal marginal relevance over the top candidates (lambda 1 = no diversity)
//   5. at most `max_per_page` passages per page
//
// Every signal is reported per passage (`lumen ask --retrieval-only` prints them).
//
// Threading: a HybridRetriever is const after construction; Search may run concurrently when the
// Store and VectorIndex it was given may (the Store serialises itself; VectorIndex::Search is
// const).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "retrieval/embedder.h"
#include "retrieval/lexical_index.h"
#include "retrieval/store.h"
#include "retrieval/vector_index.h"

namespace lumen::ranking {

enum class RetrievalMode { kHybrid, kBm25, kDense };
std::string_view RetrievalModeName(RetrievalMode mode);

struct HybridOptions {
  // Lexical retrieval: "memory" (an in-memory BM25 index built from the store by whoever opens
  // the retriever; see Searcher) or "fts5" (the store's FTS5 index; no extra memory).
  std::string lexical = "memory";
  double bm25_k1 = 1.2;  // BM25 parameters of the in-memory index (FTS5 fixes 1.2 and 0.75)
  double bm25_b = 0.75;
  // Query-term frequency saturation (in-memory index): a content word the question repeats q
  // times weighs (k3 + 1) q / (k3 + q); 0 counts it once.
  double bm25_k3 = 2.0;
  int bm25_candidates = 100;
  int dense_candidates = 100;
  std::string fusion = "linear";  // "linear" or "rrf"
  double bm25_weight = 1.0;
  double dense_weight = 3.0;
  double dense_floor = 0.2;  // cosines at or below count as no evidence (linear fusion)
  double rrf_k = 60;
  // Dense pseudo-relevance feedback (hybrid mode): the query vector is moved towards the mean
  // vector of the top `prf_docs` BM25 hits by `prf_weight` before the dense search (0 = off).
  int prf_docs = 5;
  double prf_weight = 3.0;
  // Lexical pseudo-relevance feedback (hybrid mode): the `expansion_terms` most frequent content
  // words of the top `prf_docs` BM25 hits that are not in the query are searched again, and
  // that BM25 score (normalised) is added with `expansion_weight` (0 = off).
  int expansion_terms = 10;
  double expansion_weight = 0.3;
  // Feedback words found in more than this fraction of the passages are not used (with the
  // in-memory index; 1 = no limit).
  double expansion_max_df = 1.0;
  // Which passages the feedback words are scored for: "index" (a BM25 search of the whole index,
  // bringing in its own top candidates) or "candidates" (only the BM25 and dense candidates,
  // by lookup; in-memory index only, FTS5 always searches).
  std::string expansion_scope = "candidates";
  int rerank_pool = 30;  // fused candidates that get rerank features
  double title_weight = 0.05;
  double phrase_weight = 0.05;
  double proximity_weight = 0.05;
  double quality_weight = 0.02;
  double mmr_lambda = 1.0;  // 1: no diversity re-ordering
  int mmr_pool = 30;        // candidates MMR chooses among
  int max_per_page = 3;     // 0: no cap
};

// Each signal's value for one passage. Ranks are 1-based; 0 means "not in that list". In hybrid
// mode the bm25 and dense scores are filled in for every candidate, also those only the other
// search found (bm25 with the in-memory index; dense when the index can reconstruct vectors).
struct Signals {
  double bm25 = 0;
  int bm25_rank = 0;
  double expansion = 0;  // BM25 of the feedback terms
  double dense = 0;
  int dense_rank = 0;
  double fused = 0;
  double title = 0;
  double phrase = 0;
  double proximity = 0;
  double quality = 0;
  double mmr_penalty = 0;  // similarity to an already chosen passage (MMR), when used
};

struct RankedPassage {
  retrieval::PassageView view;
  double score = 0;
  Signals signals;
};

class HybridRetriever {
 public:
  // `embedder` and `index` may be null: dense retrieval is then skipped (hybrid = BM25 + rerank).
  // `lexical` may be null: BM25 then comes from the store's FTS5 index. When given, each Search
  // first brings it up to date with the store's passage log (LexicalIndex::CatchUp).
  HybridRetriever(retrieval::Store& store, const retrieval::Embedder* embedder,
                  const retrieval::VectorIndex* index, HybridOptions options,
                  retrieval::LexicalIndex* lexical = nullptr);

  // The best `k` passages for `query`, best first. Free text of any content is safe: an empty,
  // stop-word-only or unmatched query returns an empty list, never an error about syntax.
  Result<std::vector<RankedPassage>> Search(std::string_view query, int k,
                                            RetrievalMode mode = RetrievalMode::kHybrid) const;

  const HybridOptions& options() const { return options_; }

 private:
  // The best k BM25 hits for `query`, whose content words with their weights are `terms`.
  Result<std::vector<retrieval::LexicalHit>> Lexical(
      std::string_view query, const std::vector<retrieval::WeightedTerm>& terms, int k) const;

  retrieval::Store& store_;
  const retrieval::Embedder* embedder_;
  const retrieval::VectorIndex* index_;
  HybridOptions options_;
  retrieval::LexicalIndex* lexical_;
};

// The ranking.* and index.* keys that shape retrieval.
HybridOptions HybridOptionsFromConfig(const Config& config);
// kInvalidArgument naming the key when a named choice (ranking.lexical_index,
// ranking.expansion_scope) is not one of its values.
Status ValidateHybridOptions(const HybridOptions& options);
retrieval::StoreOptions StoreOptionsFromConfig(const Config& config);
// The in-memory BM25 index's options: the store's column weights and k1/b from `options`.
retrieval::LexicalIndexOptions LexicalOptions(const retrieval::StoreOptions& store,
                                              const HybridOptions& options);

// Query-passage features used by the reranker, exposed for tests. All in [0, 1].
double TitleMatch(const std::vector<std::string>& query_terms, const retrieval::PassageView& v);
double PhraseMatch(const std::vector<std::string>& query_words, std::string_view text);
double Proximity(const std::vector<std::string>& query_terms, std::string_view text);
double QualityPrior(const retrieval::PassageView& v);

}  // namespace lumen::ranking
