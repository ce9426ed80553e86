#include "llm/bpe.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <queue>
#include <unordered_map>

namespace lumen::llm {

namespace {

constexpr uint32_t kNoMerge = ~uint32_t{0};
// Words up to this many bytes are merged with the quadratic scan on the stack (faster for the
// short words that make up almost all text); longer ones use the heap.
constexpr size_t kShortWord = 128;

inline uint64_t Mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

void BpeMerges::Reserve(size_t count) {
  const size_t want = std::bit_ceil(std::max<size_t>(16, count * 2));
  slots_.assign(want, Slot{});
  mask_ = want - 1;
  size_ = 0;
}

void BpeMerges::Add(int32_t left, int32_t right, int32_t merged, uint32_t rank) {
  if ((size_ + 1) * 2 > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    Reserve(std::max<size_t>(16, (size_ + 1) * 2));
    for (const Slot& s : old) {
      if (s.key != kEmpty)
        Add(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key), s.merged, s.rank);
    }
  }
  const uint64_t key = Key(left, right);
  for (uint64_t h = Mix(key) & mask_;; h = (h + 1) & mask_) {
    Slot& s = slots_[h];
    if (s.key == key) return;  // first rank wins
    if (s.key == kEmpty) {
      s = Slot{.key = key, .rank = rank, .merged = merged};
      ++size_;
      return;
    }
  }
}

const BpeMerges::Slot* BpeMerges::Find(int32_t left, int32_t right) const {
  if (slots_.empty()) return nullptr;
  const uint64_t key = Key(left, right);
  for (uint64_t h = Mix(key) & mask_;; h = (h + 1) & mask_) {
    const Slot& s = slots_[h];
    if (s.key == key) return &s;
    if (s.key == kEmpty) return nullptr;
  }
}

void BpeMerges::EncodeWord(std::string_view word, const int32_t* byte_ids,
                           std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() == 1) {
    out.push_back(byte_ids[static_cast<unsigned char>(word[0])]);
    return;
  }
  if (word.size() <= kShortWord) {
    EncodeShort(word, byte_ids, out);
  } else if (rank_ordered_) {
    EncodeLongByRank(word, byte_ids, out);
  } else {
    EncodeLong(word, byte_ids, out);
  }
}

void BpeMerges::Finish() {
  // The highest rank of a merge producing each token.
  std::unordered_map<int32_t, uint32_t> produced_at;
  for (const Slot& s : slots_) {
    if (s.key == kEmpty) continue;
    uint32_t& r = produced_at.try_emplace(s.merged, 0).first->second;
    r = std::max(r, s.rank + 1);  // stored +1 so that 0 means "not produced by any merge"
  }
  rank_ordered_ = true;
  for (const Slot& s : slots_) {
    if (s.key == kEmpty) continue;
    for (const int32_t part : {static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key)}) {
      const auto it = produced_at.find(part);
      if (it != produced_at.end() && it->second > s.rank) rank_ordered_ = false;  // rank+1 > rank
    }
  }
}

void BpeMerges::IndexBytePairs(const int32_t* byte_ids) {
  byte_pairs_.assign(256 * 256, BytePair{kNoMerge, 0});
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      if (const Slot* s = Find(byte_ids[a], byte_ids[b]))
        byte_pairs_[a << 8 | b] = {s->rank, s->merged};
    }
  }
}

// With rank-ordered merges, merging at rank r only creates pairs of higher rank (they contain the
// new token, which every merge using it ranks after). So the ranks can be processed in increasing
// order, each rank's positions left to right: exactly the heap's order, with one bucket of
// positions per rank present in the word and a small heap of those ranks.
void BpeMerges::EncodeLongByRank(std::string_view word, const int32_t* byte_ids,
                                 std::vector<int32_t>& out) const {
  const size_t n = word.size();
  std::vector<int32_t> id(n), next(n), prev(n);
  std::vector<bool> dead(n, false);
  for (size_t i = 0; i < n; ++i) {
    id[i] = byte_ids[static_cast<unsigned char>(word[i])];
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  std::unordered_map<uint32_t, std::vector<int32_t>> buckets;
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<>> ranks;
  auto push = [&](int32_t pos) {
    if (next[pos] < 0) return;
    const Slot* s = Find(id[pos], id[next[pos]]);
    if (s == nullptr) return;
    std::vector<int32_t>& bucket = buckets[s->rank];
    if (bucket.empty()) ranks.push(s->rank);
    bucket.push_back(pos);
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  std::vector<int32_t> positions;
  while (!ranks.empty()) {
    const uint32_t rank = ranks.top();
    ranks.pop();
    const auto it = buckets.find(rank);
    positions.swap(it->second);
    buckets.erase(it);
    if (!std::is_sorted(positions.begin(), positions.end())) {
      std::sort(positions.begin(), positions.end());
    }
    for (const int32_t pos : positions) {
      const int32_t nx = next[pos];
      if (dead[pos] || nx < 0) continue;
      const Slot* s = Find(id[pos], id[nx]);
      if (s == nullptr || s->rank != rank) continue;  // stale: a side has merged since
      id[pos] = s->merged;
      dead[nx] = true;
      next[pos] = next[nx];
      if (next[nx] >= 0) prev[next[nx]] = pos;
      if (prev[pos] >= 0) push(prev[pos]);
      push(pos);
    }
    positions.clear();
  }
  for (int32_t i = 0; i >= 0; i = next[i]) out.push_back(id[i]);
}

void BpeMerges::EncodeShort(std::string_view word, const int32_t* byte_ids,
                            std::vector<int32_t>& out) const {
  int32_t ids[kShortWord];
  uint32_t ranks[kShortWord];  // ranks[i]: rank of the pair (ids[i], ids[i + 1])
  int32_t merged[kShortWord];  // and the id it merges into
  size_t m = word.size();
  for (size_t i = 0; i < m; ++i) ids[i] = byte_ids[static_cast<unsigned char>(word[i])];
  auto rank_pair = [&](size_t i) {
    const Slot* s = Find(ids[i], ids[i + 1]);
    ranks[i] = s ? s->rank : kNoMerge;
    merged[i] = s ? s->merged : 0;
  };
  if (byte_pairs_.empty()) {
    for (size_t i = 0; i + 1 < m; ++i) rank_pair(i);
  } else {
    for (size_t i = 0; i + 1 < m; ++i) {
      const BytePair& p = byte_pairs_[static_cast<unsigned char>(word[i]) << 8 |
                                      static_cast<unsigned char>(word[i + 1])];
      ranks[i] = p.rank;
      merged[i] = p.merged;
    }
  }
  while (m > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < m; ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == kNoMerge) break;
    ids[best] = merged[best];
    // Remove symbol best + 1 and the pair that started at it.
    for (size_t i = best + 1; i + 1 < m; ++i) {
      ids[i] = ids[i + 1];
      ranks[i] = ranks[i + 1];
      merged[i] = merged[i + 1];
    }
    --m;
    if (best > 0) rank_pair(best - 1);
    if (best + 1 < m) rank_pair(best);
  }
  out.insert(out.end(), ids, ids + m);
}

void BpeMerges::EncodeLong(std::string_view word, const int32_t* byte_ids,
                           std::vector<int32_t>& out) const {
  const size_t n = word.size();
  // Doubly linked symbols; a merged-away symbol is never reached again through the links.
  struct Symbol {
    int32_t id;
    int32_t prev;  // -1: none
    int32_t next;  // -1: none
  };
  std::vector<Symbol> sym(n);
  for (size_t i = 0; i < n; ++i) {
    sym[i] = Symbol{.id = byte_ids[static_cast<unsigned char>(word[i])],
                    .prev = static_cast<int32_t>(i) - 1,
                    .next = i + 1 < n ? static_cast<int32_t>(i + 1) : -1};
  }
  // A candidate merge of the symbol at `pos` with its successor. Entries go stale when either
  // side changes; a popped entry is used only if the pair there still has exactly this rank
  // (ranks are unique per pair, so that identifies the merge).
  struct Candidate {
    uint32_t rank;
    int32_t pos;  // index of the left symbol's first byte: the tie-breaker (leftmost first)
  };
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::vector<Candidate> storage;
  storage.reserve(n);
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> heap(later,
                                                                               std::move(storage));
  std::vector<bool> dead(n, false);
  auto push = [&](int32_t pos) {
    const int32_t nx = sym[pos].next;
    if (nx < 0) return;
    if (const Slot* s = Find(sym[pos].id, sym[nx].id)) heap.push({s->rank, pos});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& a = sym[c.pos];
    if (dead[c.pos] || a.next < 0) continue;
    Symbol& b = sym[a.next];
    const Slot* s = Find(a.id, b.id);
    if (s == nullptr || s->rank != c.rank) continue;
    a.id = s->merged;
    dead[a.next] = true;
    a.next = b.next;
    if (b.next >= 0) sym[b.next].prev = c.pos;
    if (a.prev >= 0) push(a.prev);
    push(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

void TokenIndex::Reserve(size_t count) {
  entries_.assign(std::bit_ceil(std::max<size_t>(16, count * 2)), Entry{});
  mask_ = entries_.size() - 1;
  size_ = 0;
}

void TokenIndex::Add(std::string_view bytes, int32_t id, bool overwrite) {
  if ((size_ + 1) * 2 > entries_.size()) {
    std::vector<Entry> old = std::move(entries_);
    const std::string arena = std::move(arena_);
    arena_.clear();
    Reserve(std::max<size_t>(16, (size_ + 1) * 2));
    for (const Entry& e : old) {
      if (e.id >= 0) Add(std::string_view(arena).substr(e.offset, e.length), e.id);
    }
  }
  const uint64_t h = std::hash<std::string_view>{}(bytes);
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.id < 0) {
      e = Entry{.hash = h,
                .offset = static_cast<uint32_t>(arena_.size()),
                .length = static_cast<uint32_t>(bytes.size()),
                .id = id};
      arena_.append(bytes);
      ++size_;
      return;
    }
    if (e.hash == h && std::string_view(arena_).substr(e.offset, e.length) == bytes) {
      if (overwrite) e.id = id;
      return;
    }
  }
}

int32_t TokenIndex::Find(std::string_view piece) const {
  if (entries_.empty()) return -1;
  const uint64_t h = std::hash<std::string_view>{}(piece);
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    const Entry& e = entries_[i];
    if (e.id < 0) return -1;
    if (e.hash == h && e.length == piece.size() &&
        std::string_view(arena_).substr(e.offset, e.length) == piece) {
      return e.id;
    }
  }
}

}  // namespace lumen::llm
