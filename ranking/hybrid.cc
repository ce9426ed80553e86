#include "ranking/hybrid.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "core/inner_product.h"

namespace lumen::ranking {
namespace {

using retrieval::PassageView;

// Content words of the query (stop-words dropped unless nothing else is left), deduplicated.
std::vector<std::string> QueryTerms(std::string_view query) {
  std::vector<std::string> words = retrieval::SplitWords(query);
  std::vector<std::string> terms;
  std::set<std::string> seen;
  for (const std::string& w : words)
    if (!retrieval::IsStopWord(w) && seen.insert(w).second) terms.push_back(w);
  if (terms.empty())
    for (const std::string& w : words)
      if (seen.insert(w).second) terms.push_back(w);
  if (terms.size() > 64) terms.resize(64);
  return terms;
}

// Words as query terms of weight 1.
std::vector<retrieval::WeightedTerm> Unweighted(const std::vector<std::string>& words) {
  std::vector<retrieval::WeightedTerm> out;
  out.reserve(words.size());
  for (const std::string& w : words) out.push_back({.word = w, .weight = 1.0});
  return out;
}

// The question's terms (QueryTerms) weighted by how often the question says each, saturating
// with k3 as in Robertson's BM25: (k3 + 1) q / (k3 + q), so a word asked twice weighs 1.5 with
// k3 = 2 and a word asked once weighs 1 whatever k3 is.
std::vector<retrieval::WeightedTerm> QueryTermWeights(std::string_view query,
                                                      const std::vector<std::string>& terms,
                                                      double k3) {
  std::unordered_map<std::string, int> asked;
  if (k3 > 0)
    for (const std::string& w : retrieval::SplitWords(query)) ++asked[w];
  std::vector<retrieval::WeightedTerm> out;
  out.reserve(terms.size());
  for (const std::string& t : terms) {
    auto it = asked.find(t);
    const double q = it == asked.end() ? 1.0 : it->second;
    out.push_back({.word = t, .weight = (k3 + 1) * q / (k3 + q)});
  }
  return out;
}

// A crude suffix-stripping match so that "flows" matches "flow" in the features.
std::string Stem(std::string_view w) {
  std::string s(w);
  for (std::string_view suf : {"ing", "ed", "es", "s"}) {
    if (s.size() > suf.size() + 2 && s.compare(s.size() - suf.size(), suf.size(), suf) == 0) {
      s.resize(s.size() - suf.size());
      break;
    }
  }
  return s;
}

}  // namespace

HybridOptions HybridOptionsFromConfig(const Config& c) {
  HybridOptions o;
  o.bm25_candidates =
      static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.bm25_candidates"), 1, 10000));
  o.dense_candidates =
      static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.dense_candidates"), 1, 10000));
  o.fusion = c.GetString("ranking.fusion");
  o.lexical = c.GetString("ranking.lexical_index");
  o.bm25_k1 = c.GetDouble("ranking.bm25_k1");
  o.bm25_b = c.GetDouble("ranking.bm25_b");
  o.bm25_k3 = std::max(0.0, c.GetDouble("ranking.bm25_k3"));
  o.bm25_weight = c.GetDouble("ranking.bm25_weight");
  o.dense_weight = c.GetDouble("ranking.dense_weight");
  o.dense_floor = c.GetDouble("ranking.dense_floor");
  o.rrf_k = c.GetDouble("ranking.rrf_k");
  o.prf_docs = static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.prf_docs"), 0, 100));
  o.prf_weight = c.GetDouble("ranking.prf_weight");
  o.expansion_terms =
      static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.expansion_terms"), 0, 64));
  o.expansion_weight = c.GetDouble("ranking.expansion_weight");
  o.expansion_max_df = c.GetDouble("ranking.expansion_max_df");
  o.expansion_scope = c.GetString("ranking.expansion_scope");
  o.rerank_pool =
      static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.rerank_pool"), 0, 1000));
  o.title_weight = c.GetDouble("ranking.title_weight");
  o.phrase_weight = c.GetDouble("ranking.phrase_weight");
  o.proximity_weight = c.GetDouble("ranking.proximity_weight");
  o.quality_weight = c.GetDouble("ranking.quality_weight");
  o.mmr_lambda = std::clamp(c.GetDouble("ranking.mmr_lambda"), 0.0, 1.0);
  o.mmr_pool = static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.mmr_pool"), 1, 1000));
  o.max_per_page =
      static_cast<int>(std::clamp<std::int64_t>(c.GetInt("ranking.max_per_page"), 0, 1000));
  return o;
}

Status ValidateHybridOptions(const HybridOptions& options) {
  if (options.lexical != "memory" && options.lexical != "fts5")
    return InvalidArgument("ranking.lexical_index must be \"memory\" or \"fts5\", not \"" +
                           options.lexical + "\"");
  if (options.expansion_scope != "index" && options.expansion_scope != "candidates")
    return InvalidArgument("ranking.expansion_scope must be \"index\" or \"candidates\", not \"" +
                           options.expansion_scope + "\"");
  return Status::Ok();
}

retrieval::StoreOptions StoreOptionsFromConfig(const Config& c) {
  retrieval::StoreOptions o;
  o.title_weight = c.GetDouble("ranking.bm25_title_weight");
  o.heading_weight = c.GetDouble("ranking.bm25_heading_weight");
  return o;
}

retrieval::LexicalIndexOptions LexicalOptions(const retrieval::StoreOptions& store,
                                              const HybridOptions& options) {
  return {.k1 = options.bm25_k1,
          .b = options.bm25_b,
          .title_weight = store.title_weight,
          .heading_weight = store.heading_weight,
          .body_weight = store.body_weight};
}

std::string_view RetrievalModeName(RetrievalMode mode) {
  switch (mode) {
    case RetrievalMode::kBm25: return "bm25";
    case RetrievalMode::kDense: return "dense";
    case RetrievalMode::kHybrid: return "hybrid";
  }
  return "hybrid";
}

double TitleMatch(const std::vector<std::string>& query_terms, const PassageView& v) {
  if (query_terms.empty()) return 0;
  std::set<std::string> title;
  for (const std::string& w : retrieval::SplitWords(v.title)) title.insert(Stem(w));
  for (const std::string& w : retrieval::SplitWords(v.passage.heading_path)) title.insert(Stem(w));
  int hit = 0;
  for (const std::string& t : query_terms) hit += title.count(Stem(t)) ? 1 : 0;
  return static_cast<double>(hit) / static_cast<double>(query_terms.size());
}

double PhraseMatch(const std::vector<std::string>& query_words, std::string_view text) {
  if (query_words.size() < 2) return 0;
  std::set<std::pair<std::string, std::string>> bigrams;
  const std::vector<std::string> words = retrieval::SplitWords(text);
  for (std::size_t i = 1; i < words.size(); ++i)
    bigrams.emplace(Stem(words[i - 1]), Stem(words[i]));
  int hit = 0, total = 0;
  for (std::size_t i = 1; i < query_words.size(); ++i) {
    if (retrieval::IsStopWord(query_words[i - 1]) && retrieval::IsStopWord(query_words[i]))
      continue;
    ++total;
    hit += bigrams.count({Stem(query_words[i - 1]), Stem(query_words[i])}) ? 1 : 0;
  }
  return total == 0 ? 0 : static_cast<double>(hit) / total;
}

double Proximity(const std::vector<std::string>& query_terms, std::string_view text) {
  if (query_terms.size() < 2) return 0;
  std::unordered_map<std::string, int> index;
  for (std::size_t i = 0; i < query_terms.size(); ++i)
    index.emplace(Stem(query_terms[i]), static_cast<int>(i));
  const std::vector<std::string> words = retrieval::SplitWords(text);
  std::vector<std::pair<int, int>> hits;  // (position, term)
  std::set<int> present;
  for (std::size_t i = 0; i < words.size(); ++i) {
    auto it = index.find(Stem(words[i]));
    if (it != index.end()) {
      hits.emplace_back(static_cast<int>(i), it->second);
      present.insert(it->second);
    }
  }
  const int want = static_cast<int>(present.size());
  if (want < 2) return 0;
  // Shortest window holding every matched term once (sliding window over the hit list).
  std::map<int, int> counts;
  int best = 1 << 30;
  std::size_t lo = 0;
  for (std::size_t hi = 0; hi < hits.size(); ++hi) {
    ++counts[hits[hi].second];
    while (static_cast<int>(counts.size()) == want) {
      best = std::min(best, hits[hi].first - hits[lo].first + 1);
      if (--counts[hits[lo].second] == 0) counts.erase(hits[lo].second);
      ++lo;
    }
  }
  // Matched-term coverage times tightness (a window exactly as long as the terms scores 1).
  const double coverage = static_cast<double>(want) / static_cast<double>(query_terms.size());
  return coverage * static_cast<double>(want) / static_cast<double>(std::max(best, want));
}

double QualityPrior(const PassageView& v) {
  const double words = v.passage.word_count > 0
                           ? v.passage.word_count
                           : static_cast<double>(retrieval::SplitWords(v.passage.text).size());
  return std::min(1.0, words / 40.0);
}

HybridRetriever::HybridRetriever(retrieval::Store& store, const retrieval::Embedder* embedder,
                                 const retrieval::VectorIndex* index, HybridOptions options,
                                 retrieval::LexicalIndex* lexical)
    : store_(store),
      embedder_(embedder),
      index_(index),
      options_(std::move(options)),
      lexical_(lexical) {}

Result<std::vector<retrieval::LexicalHit>> HybridRetriever::Lexical(
    std::string_view query, const std::vector<retrieval::WeightedTerm>& terms, int k) const {
  const bool content =
      std::any_of(terms.begin(), terms.end(),
                  [](const retrieval::WeightedTerm& t) { return !retrieval::IsStopWord(t.word); });
  if (lexical_ == nullptr || !content) return store_.SearchBm25(query, k);
  return lexical_->Search(terms, k);
}

Result<std::vector<RankedPassage>> HybridRetriever::Search(std::string_view query, int k,
                                                           RetrievalMode mode) const {
  std::vector<RankedPassage> out;
  if (k <= 0) return out;
  k = std::min(k, 1000);
  const bool use_bm25 = mode != RetrievalMode::kDense;
  const bool use_dense = mode != RetrievalMode::kBm25 && embedder_ != nullptr && index_ != nullptr;
  if (mode == RetrievalMode::kDense && !use_dense)
    return Unavailable("dense retrieval needs a vector index (run `lumen index`)");

  std::unordered_map<std::int64_t, Signals> cands;
  std::vector<std::int64_t> order;  // first-seen order, for deterministic ties
  auto cand = [&](std::int64_t id) -> Signals& {
    auto [it, fresh] = cands.try_emplace(id);
    if (fresh) order.push_back(id);
    return it->second;
  };
  if (lexical_ != nullptr && mode != RetrievalMode::kDense)
    LUMEN_RETURN_IF_ERROR(lexical_->CatchUp(store_));
  const std::vector<std::string> terms = QueryTerms(query);
  const std::vector<retrieval::WeightedTerm> weighted =
      QueryTermWeights(query, terms, options_.bm25_k3);
  const int depth_bm25 = mode == RetrievalMode::kBm25 ? std::max(k, options_.bm25_candidates)
                                                      : options_.bm25_candidates;
  const int depth_dense = mode == RetrievalMode::kDense ? std::max(k, options_.dense_candidates)
                                                        : options_.dense_candidates;
  double max_bm25 = 0;
  if (use_bm25) {
    LUMEN_ASSIGN_OR_RETURN(std::vector<retrieval::LexicalHit> hits,
                           Lexical(query, weighted, depth_bm25));
    for (std::size_t i = 0; i < hits.size(); ++i) {
      Signals& s = cand(hits[i].passage_id);
      s.bm25 = hits[i].score;
      s.bm25_rank = static_cast<int>(i) + 1;
      max_bm25 = std::max(max_bm25, hits[i].score);
    }
  }
  double max_expansion = 0;
  std::vector<std::string> feedback_terms;  // expansion_scope "candidates": scored below
  if (mode == RetrievalMode::kHybrid && options_.expansion_terms > 0 &&
      options_.expansion_weight > 0 && options_.prf_docs > 0 && !order.empty()) {
    // Feedback terms: frequent content words of the best lexical hits, not already asked for.
    std::vector<std::int64_t> top(
        order.begin(), order.begin() + std::min<std::size_t>(order.size(), options_.prf_docs));
    LUMEN_ASSIGN_OR_RETURN(std::vector<PassageView> fb, store_.GetPassages(top));
    std::set<std::string> asked;
    for (const std::string& w : retrieval::SplitWords(query)) asked.insert(Stem(w));
    std::unordered_map<std::string, double> tf;
    for (const PassageView& v : fb) {
      std::unordered_map<std::string, int> local;
      const std::vector<std::string> ws = retrieval::SplitWords(v.title + " " + v.passage.text);
      for (const std::string& w : ws)
        if (w.size() > 2 && !retrieval::IsStopWord(w) && !asked.count(Stem(w)) &&
            !std::isdigit(static_cast<unsigned char>(w[0])))
          ++local[w];
      for (const auto& [w, n] : local)
        tf[w] += static_cast<double>(n) / static_cast<double>(std::max<std::size_t>(ws.size(), 1));
    }
    std::vector<std::pair<double, std::string>> ranked_terms;
    for (const auto& [w, score] : tf) {
      // Words in a large share of the passages add little but cost the most to score.
      if (lexical_ != nullptr && options_.expansion_max_df < 1.0 &&
          lexical_->DocumentFraction(w) > options_.expansion_max_df)
        continue;
      ranked_terms.emplace_back(score, w);
    }
    std::sort(ranked_terms.begin(), ranked_terms.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::string expansion;
    std::vector<std::string> expansion_terms;
    for (int i = 0; i < options_.expansion_terms && i < static_cast<int>(ranked_terms.size());
         ++i) {
      expansion += ranked_terms[i].second + " ";
      expansion_terms.push_back(ranked_terms[i].second);
    }
    if (!expansion.empty() && lexical_ != nullptr && options_.expansion_scope == "candidates") {
      feedback_terms = std::move(expansion_terms);  // scored once the dense candidates are in
    } else if (!expansion.empty()) {
      LUMEN_ASSIGN_OR_RETURN(std::vector<retrieval::LexicalHit> hits,
                             Lexical(expansion, Unweighted(expansion_terms), depth_bm25));
      for (const retrieval::LexicalHit& h : hits) {
        cand(h.passage_id).expansion = h.score;
        max_expansion = std::max(max_expansion, h.score);
      }
    }
  }
  if (use_dense) {
    LUMEN_ASSIGN_OR_RETURN(std::vector<float> qv,
                           embedder_->EmbedOne(query, retrieval::EmbedRole::kQuery));
    if (mode == RetrievalMode::kHybrid && options_.prf_docs > 0 && options_.prf_weight > 0) {
      // Rocchio in embedding space over the best lexical hits (order: BM25 rank).
      std::vector<double> centroid(qv.size(), 0.0);
      int used = 0;
      for (std::int64_t id : order) {
        if (used == options_.prf_docs || cands[id].bm25_rank == 0) break;
        Result<std::vector<float>> v = index_->Reconstruct(id);
        if (!v.ok()) continue;
        for (std::size_t j = 0; j < qv.size(); ++j) centroid[j] += (*v)[j];
        ++used;
      }
      if (used > 0) {
        double norm = 0;
        for (std::size_t j = 0; j < qv.size(); ++j) {
          qv[j] += static_cast<float>(options_.prf_weight * centroid[j] / used);
          norm += static_cast<double>(qv[j]) * qv[j];
        }
        if (norm > 0)
          for (float& x : qv) x = static_cast<float>(x / std::sqrt(norm));
      }
    }
    LUMEN_ASSIGN_OR_RETURN(std::vector<retrieval::DenseHit> hits, index_->Search(qv, depth_dense));
    for (std::size_t i = 0; i < hits.size(); ++i) {
      Signals& s = cand(hits[i].passage_id);
      s.dense = hits[i].score;
      s.dense_rank = static_cast<int>(i) + 1;
    }
    // Every candidate gets its cosine, not only the dense search's own: a passage BM25 found
    // just past the dense list is not a passage with no semantic match.
    if (mode == RetrievalMode::kHybrid) {
      for (std::int64_t id : order) {
        Signals& s = cands[id];
        if (s.dense_rank) continue;
        Result<std::vector<float>> v = index_->Reconstruct(id);
        if (!v.ok()) continue;  // an index kind that cannot reconstruct: no cosine
        s.dense = InnerProduct(qv.data(), v->data(), qv.size());
      }
    }
  }
  if (mode == RetrievalMode::kHybrid && lexical_ != nullptr) {
    // Likewise the question's BM25 for the candidates only the dense search found (by lookup;
    // none of them can score above the BM25 list, which holds the best).
    std::vector<std::int64_t> missing;
    for (std::int64_t id : order)
      if (!cands[id].bm25_rank) missing.push_back(id);
    const std::vector<float> scores = lexical_->ScorePassages(weighted, missing);
    for (std::size_t i = 0; i < missing.size(); ++i) cands[missing[i]].bm25 = scores[i];
  }
  if (!feedback_terms.empty()) {
    // The feedback words' BM25 for the candidates the question and its vector found, by lookup:
    // searching the whole index for a bag of common words cost more than everything else at
    // 1M passages, for candidates that only this signal would have brought in.
    const std::vector<float> scores = lexical_->ScorePassages(Unweighted(feedback_terms), order);
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (scores[i] <= 0) continue;
      cands[order[i]].expansion = scores[i];
      max_expansion = std::max(max_expansion, static_cast<double>(scores[i]));
    }
  }
  if (cands.empty()) return out;

  const std::vector<std::string> words = retrieval::SplitWords(query);
  const bool rerank = mode == RetrievalMode::kHybrid;
  const double floor = std::clamp(options_.dense_floor, 0.0, 0.99);
  // Fused scores come from the signals alone; passages are read from the store only as far down
  // the fused list as can be used: the rerank and MMR pools, then as many as the per-page cap
  // needs to fill k (reading every candidate cost more than the searches at 1M passages).
  std::vector<std::pair<std::int64_t, Signals>> fused;
  fused.reserve(order.size());
  for (std::int64_t id : order) {
    Signals s = cands[id];
    if (mode == RetrievalMode::kBm25) {
      s.fused = s.bm25;
    } else if (mode == RetrievalMode::kDense) {
      s.fused = s.dense;
    } else if (options_.fusion == "rrf") {
      // (feedback terms only feed the dense query and the linear fusion)
      if (s.bm25_rank) s.fused += options_.bm25_weight / (options_.rrf_k + s.bm25_rank);
      if (s.dense_rank) s.fused += options_.dense_weight / (options_.rrf_k + s.dense_rank);
    } else {
      if (max_bm25 > 0) s.fused += options_.bm25_weight * std::min(1.0, s.bm25 / max_bm25);
      if (max_expansion > 0) s.fused += options_.expansion_weight * s.expansion / max_expansion;
      s.fused += options_.dense_weight * std::max(0.0, s.dense - floor) / (1.0 - floor);
    }
    fused.emplace_back(id, s);
  }
  std::stable_sort(fused.begin(), fused.end(),
                   [](const auto& a, const auto& b) { return a.second.fused > b.second.fused; });
  std::size_t next = 0;  // the first entry of `fused` not read yet
  // Appends the next `count` candidates that still exist in the store to `out`.
  auto read_more = [&](std::size_t count) -> Status {
    const std::size_t to = std::min(fused.size(), next + count);
    std::vector<std::int64_t> ids;
    for (std::size_t i = next; i < to; ++i) ids.push_back(fused[i].first);
    LUMEN_ASSIGN_OR_RETURN(std::vector<PassageView> views, store_.GetPassages(ids));
    std::size_t v = 0;
    for (std::size_t i = next; i < to && v < views.size(); ++i) {
      if (views[v].id != fused[i].first) continue;  // removed since it was found
      out.push_back({.view = std::move(views[v++]),
                     .score = fused[i].second.fused,
                     .signals = fused[i].second});
    }
    next = to;
    return Status::Ok();
  };
  std::size_t wanted = static_cast<std::size_t>(2 * k);
  if (rerank) {
    wanted = std::max<std::size_t>(wanted, static_cast<std::size_t>(options_.rerank_pool));
    if (options_.mmr_lambda < 1.0)
      wanted = std::max<std::size_t>(wanted, static_cast<std::size_t>(options_.mmr_pool));
  }
  while (out.size() < wanted && next < fused.size())
    LUMEN_RETURN_IF_ERROR(read_more(wanted - out.size()));
  auto by_score = [](const RankedPassage& a, const RankedPassage& b) { return a.score > b.score; };
  if (rerank) {
    const std::size_t pool = std::min<std::size_t>(
        out.size(), static_cast<std::size_t>(std::max(options_.rerank_pool, 0)));
    for (std::size_t i = 0; i < pool; ++i) {
      RankedPassage& r = out[i];
      Signals& s = r.signals;
      s.title = TitleMatch(terms, r.view);
      s.phrase = PhraseMatch(words, r.view.passage.text);
      s.proximity = Proximity(terms, r.view.passage.text);
      s.quality = QualityPrior(r.view);
      r.score += options_.title_weight * s.title + options_.phrase_weight * s.phrase +
                 options_.proximity_weight * s.proximity + options_.quality_weight * s.quality;
    }
    std::stable_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(pool), by_score);
  }

  // Maximal marginal relevance among the top of the list (needs stored vectors).
  if (rerank && options_.mmr_lambda < 1.0 && index_ != nullptr && out.size() > 1) {
    const std::size_t pool = std::min<std::size_t>(out.size(), std::max(options_.mmr_pool, k));
    std::vector<std::vector<float>> vecs(pool);
    for (std::size_t i = 0; i < pool; ++i) {
      Result<std::vector<float>> r = index_->Reconstruct(out[i].view.id);
      if (r.ok()) vecs[i] = std::move(*r);
    }
    const double top = out[0].score > 0 ? out[0].score : 1;
    std::vector<bool> taken(pool, false);
    std::vector<std::size_t> chosen;
    std::vector<RankedPassage> reordered;
    for (std::size_t step = 0; step < pool; ++step) {
      double best = -1e300;
      std::size_t best_i = 0;
      double best_pen = 0;
      for (std::size_t i = 0; i < pool; ++i) {
        if (taken[i]) continue;
        double pen = 0;
        for (std::size_t c : chosen) {
          if (vecs[i].empty() || vecs[c].empty()) continue;
          double dot = 0;
          for (std::size_t j = 0; j < vecs[i].size(); ++j) dot += vecs[i][j] * vecs[c][j];
          pen = std::max(pen, dot);
        }
        const double val =
            options_.mmr_lambda * out[i].score / top - (1 - options_.mmr_lambda) * pen;
        if (val > best) {
          best = val;
          best_i = i;
          best_pen = pen;
        }
      }
      taken[best_i] = true;
      chosen.push_back(best_i);
      out[best_i].signals.mmr_penalty = best_pen;
    }
    for (std::size_t c : chosen) reordered.push_back(std::move(out[c]));
    for (std::size_t i = pool; i < out.size(); ++i) reordered.push_back(std::move(out[i]));
    out = std::move(reordered);
  }

  std::vector<RankedPassage> capped;
  std::unordered_map<std::int64_t, int> per_page;
  for (std::size_t i = 0; static_cast<int>(capped.size()) < k;) {
    if (i == out.size()) {
      if (next == fused.size()) break;
      LUMEN_RETURN_IF_ERROR(read_more(static_cast<std::size_t>(2 * k)));
      continue;
    }
    RankedPassage& r = out[i++];
    if (options_.max_per_page > 0 && ++per_page[r.view.passage.page_id] > options_.max_per_page)
      continue;
    capped.push_back(std::move(r));
  }
  return capped;
}

}  // namespace lumen::ranking
