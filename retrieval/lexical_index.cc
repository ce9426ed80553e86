#include "retrieval/lexical_index.h"

#include <libstemmer.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace lumen::retrieval {
namespace {

constexpr std::size_t kMaxQueryTerms = 64;
constexpr float kTfScale = 4.0f;  // term frequencies are stored in quarters

}  // namespace

// Per-search working memory: one accumulator per passage ordinal (kept all zero between
// searches) and the ordinals touched by this search.
struct LexicalIndex::Scratch {
  std::vector<float> acc;
  std::vector<std::uint32_t> touched;
};

LexicalIndex::LexicalIndex(const LexicalIndexOptions& options)
    : options_(options), stemmer_(sb_stemmer_new("porter", "UTF_8"), [](sb_stemmer* s) {
        if (s != nullptr) sb_stemmer_delete(s);
      }) {}

LexicalIndex::~LexicalIndex() = default;

Result<std::unique_ptr<LexicalIndex>> LexicalIndex::Build(Store& store,
                                                          const LexicalIndexOptions& options) {
  if (!(options.k1 >= 0) || !(options.b >= 0 && options.b <= 1))
    return InvalidArgument("bm25 k1 must be >= 0 and b within [0, 1]");
  std::unique_ptr<LexicalIndex> index(new LexicalIndex(options));
  if (index->stemmer_ == nullptr) return Internal("cannot create the Snowball porter stemmer");
  std::unique_lock lock(index->mu_);
  LUMEN_RETURN_IF_ERROR(index->LoadAll(store));
  return index;
}

Status LexicalIndex::LoadAll(Store& store) {
  word_to_term_.clear();
  stem_to_term_.clear();
  terms_.clear();
  ids_.clear();
  lengths_.clear();
  removed_.clear();
  tombstones_ = 0;
  total_length_ = 0;
  postings_ = 0;
  // The log position is read before the passages: a change made while reading is either seen by
  // the scan and skipped by CatchUp (ids only grow), or applied by CatchUp.
  LUMEN_ASSIGN_OR_RETURN(std::int64_t seq, store.LastChangeSeq());
  LUMEN_RETURN_IF_ERROR(store.ForEachPassage(0, 4096, [this](const PassageView& v) {
    AddPassage(v);
    return Status::Ok();
  }));
  for (Term& t : terms_) {
    t.docs.shrink_to_fit();
    t.tf.shrink_to_fit();
  }
  RecomputeNorms();
  applied_seq_.store(seq);
  return Status::Ok();
}

std::string LexicalIndex::Stem(std::string_view word) const {
  std::lock_guard lock(stem_mu_);
  const sb_symbol* s =
      sb_stemmer_stem(stemmer_.get(), reinterpret_cast<const sb_symbol*>(word.data()),
                      static_cast<int>(word.size()));
  if (s == nullptr) return std::string(word);  // out of memory in the stemmer: use the word
  return std::string(reinterpret_cast<const char*>(s),
                     static_cast<std::size_t>(sb_stemmer_length(stemmer_.get())));
}

std::int32_t LexicalIndex::InternTerm(const std::string& word) {
  auto it = word_to_term_.find(word);
  if (it != word_to_term_.end()) return it->second;
  std::int32_t id = -1;
  if (!IsStopWord(word)) {
    auto [st, fresh] =
        stem_to_term_.try_emplace(Stem(word), static_cast<std::int32_t>(terms_.size()));
    if (fresh) terms_.emplace_back();
    id = st->second;
  }
  word_to_term_.emplace(word, id);
  return id;
}

std::int32_t LexicalIndex::FindTerm(std::string_view word) const {
  const std::string w(word);
  auto it = word_to_term_.find(w);
  if (it != word_to_term_.end()) return it->second;
  if (IsStopWord(w)) return -1;
  auto st = stem_to_term_.find(Stem(w));
  return st == stem_to_term_.end() ? -1 : st->second;
}

void LexicalIndex::AddPassage(const PassageView& v) {
  std::vector<std::pair<std::int32_t, float>> occurrences;
  std::uint32_t length = 0;
  auto add_field = [&](std::string_view text, double weight) {
    for (const std::string& w : SplitWords(text)) {
      ++length;
      const std::int32_t t = InternTerm(w);
      if (t >= 0) occurrences.emplace_back(t, static_cast<float>(weight));
    }
  };
  add_field(v.title, options_.title_weight);
  add_field(v.passage.heading_path, options_.heading_weight);
  add_field(v.passage.text, options_.body_weight);
  std::sort(occurrences.begin(), occurrences.end());
  const auto ord = static_cast<std::uint32_t>(ids_.size());
  for (std::size_t i = 0; i < occurrences.size();) {
    const std::int32_t t = occurrences[i].first;
    float tf = 0;
    for (; i < occurrences.size() && occurrences[i].first == t; ++i) tf += occurrences[i].second;
    const long q = std::lround(tf * kTfScale);
    if (q <= 0) continue;  // a zero column weight
    Term& term = terms_[static_cast<std::size_t>(t)];
    term.docs.push_back(ord);
    term.tf.push_back(static_cast<std::uint8_t>(std::min(q, 255L)));
    term.max_tf = std::max(term.max_tf, term.tf.back());
    term.min_length = std::min(term.min_length, length);
    ++postings_;
  }
  ids_.push_back(v.id);
  lengths_.push_back(length);
  removed_.push_back(false);
  total_length_ += length;
}

void LexicalIndex::RecomputeNorms() {
  norms_.resize(ids_.size());
  const double avgdl =
      ids_.empty()
          ? 1.0
          : std::max(1.0, static_cast<double>(total_length_) / static_cast<double>(ids_.size()));
  const double k1 = options_.k1, b = options_.b;
  for (std::size_t i = 0; i < ids_.size(); ++i)
    norms_[i] = static_cast<float>(k1 * (1 - b + b * lengths_[i] / avgdl));
}

Status LexicalIndex::CatchUp(Store& store) {
  LUMEN_ASSIGN_OR_RETURN(std::int64_t last, store.LastChangeSeq());
  if (last <= applied_seq_.load()) return Status::Ok();
  std::unique_lock lock(mu_);
  bool added = false;
  while (applied_seq_.load() < last) {
    LUMEN_ASSIGN_OR_RETURN(std::vector<PassageChange> changes,
                           store.ChangesSince(applied_seq_.load(), 4096));
    if (changes.empty()) break;
    std::vector<std::int64_t> to_add;
    for (const PassageChange& c : changes) {
      if (c.added) {
        // Ids only grow; anything at or below the last one held was read by the scan already.
        if (ids_.empty() || c.passage_id > ids_.back()) to_add.push_back(c.passage_id);
        continue;
      }
      auto it = std::lower_bound(ids_.begin(), ids_.end(), c.passage_id);
      if (it == ids_.end() || *it != c.passage_id) continue;
      const auto ord = static_cast<std::size_t>(it - ids_.begin());
      if (!removed_[ord]) {
        removed_[ord] = true;
        ++tombstones_;
      }
    }
    if (!to_add.empty()) {
      // Passages removed again since are simply absent here.
      LUMEN_ASSIGN_OR_RETURN(std::vector<PassageView> views, store.GetPassages(to_add));
      for (const PassageView& v : views) {
        if (!ids_.empty() && v.id <= ids_.back()) continue;
        AddPassage(v);
        added = true;
      }
    }
    applied_seq_.store(changes.back().seq);
  }
  if (tombstones_ > 64 && tombstones_ * 4 > static_cast<std::int64_t>(ids_.size()))
    return LoadAll(store);  // compact: statistics without the removed passages
  if (added) RecomputeNorms();
  return Status::Ok();
}

std::unique_ptr<LexicalIndex::Scratch> LexicalIndex::AcquireScratch() const {
  std::unique_ptr<Scratch> s;
  {
    std::lock_guard lock(scratch_mu_);
    if (!scratch_.empty()) {
      s = std::move(scratch_.back());
      scratch_.pop_back();
    }
  }
  if (s == nullptr) s = std::make_unique<Scratch>();
  s->acc.resize(ids_.size(), 0.0f);
  s->touched.resize(ids_.size() + 1);
  return s;
}

void LexicalIndex::ReleaseScratch(std::unique_ptr<Scratch> s) const {
  std::lock_guard lock(scratch_mu_);
  if (scratch_.size() < 16) scratch_.push_back(std::move(s));
}

std::vector<std::pair<std::int32_t, double>> LexicalIndex::MergeTerms(
    std::span<const WeightedTerm> terms) const {
  std::vector<std::pair<std::int32_t, double>> query;  // term, summed weight
  for (const WeightedTerm& t : terms.first(std::min(terms.size(), kMaxQueryTerms))) {
    if (!(t.weight > 0)) continue;
    const std::int32_t id = FindTerm(t.word);
    if (id < 0) continue;
    auto it =
        std::find_if(query.begin(), query.end(), [id](const auto& q) { return q.first == id; });
    if (it == query.end()) {
      query.emplace_back(id, t.weight);
    } else {
      it->second += t.weight;
    }
  }
  return query;
}

double LexicalIndex::IdfOf(const Term& term) const {
  const double df = static_cast<double>(term.docs.size());
  const double idf = std::log((static_cast<double>(ids_.size()) - df + 0.5) / (df + 0.5));
  return idf <= 0 ? 1e-6 : idf;
}

std::vector<LexicalHit> LexicalIndex::Search(std::span<const WeightedTerm> terms, int k) const {
  std::vector<LexicalHit> hits;
  if (k <= 0 || terms.empty()) return hits;
  std::shared_lock lock(mu_);
  const std::size_t n = ids_.size();
  if (n == 0) return hits;
  const std::vector<std::pair<std::int32_t, double>> query = MergeTerms(terms);
  if (query.empty()) return hits;

  std::unique_ptr<Scratch> scratch = AcquireScratch();
  float* acc = scratch->acc.data();
  // Passages with a score so far, appended without a branch (a passage's first posting of a
  // query is a coin flip for the branch predictor): slot `touched` is always writable.
  std::uint32_t* touched = scratch->touched.data();
  std::size_t ntouched = 0;
  const float* norms = norms_.data();
  const double total = static_cast<double>(n);
  const double k1 = options_.k1, b = options_.b;
  const double avgdl = std::max(1.0, static_cast<double>(total_length_) / total);
  struct Scored {
    const Term* term;
    float c;   // weight * idf * (k1 + 1)
    float ub;  // no passage gets more than this from the term
  };
  std::vector<Scored> scored;
  for (const auto& [id, weight] : query) {
    const Term& term = terms_[static_cast<std::size_t>(id)];
    if (term.docs.empty()) continue;
    const double c = weight * IdfOf(term) * (k1 + 1);
    const double tf = term.max_tf / kTfScale;
    const double norm = k1 * (1 - b + b * term.min_length / avgdl);
    scored.push_back(
        {&term, static_cast<float>(c), static_cast<float>(c * tf / (tf + norm) * 1.001 + 1e-6)});
  }
  std::sort(scored.begin(), scored.end(),
            [](const Scored& x, const Scored& y) { return x.ub > y.ub; });
  std::vector<float> remaining(scored.size() + 1, 0.0f);  // sum of the bounds of terms i..end
  for (std::size_t i = scored.size(); i-- > 0;) remaining[i] = remaining[i + 1] + scored[i].ub;

  std::vector<std::uint32_t> cands;  // once pruning: the passages that can still make the top k
  bool pruning = false;
  std::vector<float> kth;
  for (std::size_t i = 0; i < scored.size(); ++i) {
    // The k-th best live score so far only grows; a passage not seen yet gets at most
    // remaining[i]. No passage has more than the bounds of the terms scored so far, so the
    // k-th best cannot beat remaining[i] (and is not worth selecting) until those do.
    if (!pruning && i > 0 && ntouched >= static_cast<std::size_t>(k) &&
        remaining[0] - remaining[i] > remaining[i]) {
      kth.clear();
      for (std::size_t t = 0; t < ntouched; ++t)
        if (!removed_[touched[t]]) kth.push_back(acc[touched[t]]);
      if (kth.size() >= static_cast<std::size_t>(k)) {
        std::nth_element(kth.begin(), kth.begin() + (k - 1), kth.end(), std::greater<float>());
        const float theta = kth[static_cast<std::size_t>(k - 1)];
        if (theta > remaining[i]) {
          pruning = true;
          const float need = theta - remaining[i];
          if (ntouched * 16 < n) {
            for (std::size_t t = 0; t < ntouched; ++t) {
              const std::uint32_t d = touched[t];
              if (!removed_[d] && acc[d] >= need) cands.push_back(d);
            }
            std::sort(cands.begin(), cands.end());
          } else {  // many: one pass over the accumulator yields them in order
            for (std::uint32_t d = 0; d < n; ++d)
              if (acc[d] != 0.0f && acc[d] >= need && !removed_[d]) cands.push_back(d);
          }
        }
      }
    }
    const Term& term = *scored[i].term;
    const float c = scored[i].c;
    const std::uint32_t* docs = term.docs.data();
    const std::uint8_t* tfs = term.tf.data();
    const std::size_t m = term.docs.size();
    if (!pruning) {
      for (std::size_t j = 0; j < m; ++j) {
        const std::uint32_t d = docs[j];
        const float tf = static_cast<float>(tfs[j]) * (1.0f / kTfScale);
        float& a = acc[d];
        touched[ntouched] = d;
        ntouched += a == 0.0f;
        a += c * tf / (tf + norms[d]);
      }
      continue;
    }
    // Look the candidates up (ascending) by galloping through the posting list.
    std::size_t j = 0;
    for (std::uint32_t d : cands) {
      if (j >= m) break;
      if (docs[j] < d) {
        std::size_t step = 1;
        while (j + step < m && docs[j + step] < d) step *= 2;
        j = static_cast<std::size_t>(
            std::lower_bound(docs + j + step / 2, docs + std::min(j + step + 1, m), d) - docs);
        if (j >= m) break;
      }
      if (docs[j] != d) continue;
      const float tf = static_cast<float>(tfs[j]) * (1.0f / kTfScale);
      acc[d] += c * tf / (tf + norms[d]);
    }
  }
  std::vector<std::pair<float, std::uint32_t>> cand;
  if (pruning) {
    cand.reserve(cands.size());
    for (std::uint32_t d : cands) cand.emplace_back(acc[d], d);
  } else {
    cand.reserve(ntouched);
    for (std::size_t t = 0; t < ntouched; ++t)
      if (!removed_[touched[t]]) cand.emplace_back(acc[touched[t]], touched[t]);
  }
  for (std::size_t t = 0; t < ntouched; ++t) acc[touched[t]] = 0.0f;
  ReleaseScratch(std::move(scratch));
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  const auto keep = std::min<std::size_t>(cand.size(), static_cast<std::size_t>(k));
  std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep), cand.end(),
                    better);
  hits.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i)
    hits.push_back({.passage_id = ids_[cand[i].second], .score = cand[i].first});
  return hits;
}

std::vector<float> LexicalIndex::ScorePassages(std::span<const WeightedTerm> terms,
                                               std::span<const std::int64_t> passage_ids) const {
  std::vector<float> scores(passage_ids.size(), 0.0f);
  std::shared_lock lock(mu_);
  if (ids_.empty() || terms.empty()) return scores;
  std::vector<std::uint32_t> ords(passage_ids.size(), UINT32_MAX);
  for (std::size_t i = 0; i < passage_ids.size(); ++i) {
    auto it = std::lower_bound(ids_.begin(), ids_.end(), passage_ids[i]);
    if (it != ids_.end() && *it == passage_ids[i] && !removed_[it - ids_.begin()])
      ords[i] = static_cast<std::uint32_t>(it - ids_.begin());
  }
  for (const auto& [id, weight] : MergeTerms(terms)) {
    const Term& term = terms_[static_cast<std::size_t>(id)];
    if (term.docs.empty()) continue;
    const auto c = static_cast<float>(weight * IdfOf(term) * (options_.k1 + 1));
    for (std::size_t i = 0; i < ords.size(); ++i) {
      if (ords[i] == UINT32_MAX) continue;
      auto it = std::lower_bound(term.docs.begin(), term.docs.end(), ords[i]);
      if (it == term.docs.end() || *it != ords[i]) continue;
      const float tf =
          static_cast<float>(term.tf[static_cast<std::size_t>(it - term.docs.begin())]) *
          (1.0f / kTfScale);
      scores[i] += c * tf / (tf + norms_[ords[i]]);
    }
  }
  return scores;
}

double LexicalIndex::Idf(std::string_view word) const {
  std::shared_lock lock(mu_);
  const std::int32_t id = FindTerm(word);
  if (id < 0 || ids_.empty()) return 0;
  return IdfOf(terms_[static_cast<std::size_t>(id)]);
}

double LexicalIndex::DocumentFraction(std::string_view word) const {
  std::shared_lock lock(mu_);
  const std::int32_t id = FindTerm(word);
  if (id < 0 || ids_.empty()) return 0;
  return static_cast<double>(terms_[static_cast<std::size_t>(id)].docs.size()) /
         static_cast<double>(ids_.size());
}

bool LexicalIndex::Knows(std::string_view word) const {
  std::shared_lock lock(mu_);
  return FindTerm(word) >= 0;
}

std::int64_t LexicalIndex::size() const {
  std::shared_lock lock(mu_);
  return static_cast<std::int64_t>(ids_.size()) - tombstones_;
}

std::int64_t LexicalIndex::postings() const {
  std::shared_lock lock(mu_);
  return postings_;
}

double LexicalIndex::BytesPerPassage() const {
  std::shared_lock lock(mu_);
  const auto live = static_cast<double>(static_cast<std::int64_t>(ids_.size()) - tombstones_);
  if (live <= 0) return 0;
  double bytes = static_cast<double>(postings_) * 5.0 +
                 static_cast<double>(ids_.size()) * (8 + 4 + 4) +
                 static_cast<double>(terms_.size()) * (sizeof(Term) + 48);
  for (const auto& [word, id] : word_to_term_) bytes += static_cast<double>(word.size()) + 48;
  return bytes / live;
}

}  // namespace lumen::retrieval
