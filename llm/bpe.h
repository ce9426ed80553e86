// Byte-pair encoding by merge rank: the core of the byte-level BPE model.
//
// A word (one pre-tokenized piece, as raw bytes) starts as one symbol per byte; the adjacent pair
// with the lowest merge rank is merged, ties going to the leftmost pair, until no adjacent pair
// has a merge. This is Hugging Face's (and the JavaScript reference's) algorithm. Short words use a
// simple scan; long ones (a 10 MB line without spaces is one word) a heap, so time is
// O(n log n) and there is no recursion.
//
// Thread-safety: immutable after construction; EncodeWord may be called from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lumen::llm {

class BpeMerges {
 public:
  BpeMerges() = default;

  // Sizes the table for `count` merges (call before Add).
  void Reserve(size_t count);
  // Registers the merge left + right -> merged with `rank` (its index in the merges list). A pair
  // given twice keeps its first (lowest) rank, as the reference implementations do.
  void Add(int32_t left, int32_t right, int32_t merged, uint32_t rank);
  size_t size() const { return size_; }
  // Call after the last Add. Checks whether every merge ranks after all merges that produce its
  // two parts (true of any merges list BPE training writes): then long words are merged rank by
  // rank, in linear-time buckets, instead of through a heap of every pair.
  void Finish();
  // Builds the dense table of merges between two single-byte tokens (the first merges of every
  // word, looked up without hashing). `byte_ids[b]` is the id of the single-byte token b.
  void IndexBytePairs(const int32_t* byte_ids);

  // Appends the ids of `word` to `out`. `byte_ids[b]` is the id of the single-byte token b.
  void EncodeWord(std::string_view word, const int32_t* byte_ids, std::vector<int32_t>& out) const;

 private:
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t rank = 0;
    int32_t merged = 0;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  static uint64_t Key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  // The slot for (left, right), or nullptr when the pair has no merge.
  const Slot* Find(int32_t left, int32_t right) const;
  void EncodeShort(std::string_view word, const int32_t* byte_ids, std::vector<int32_t>& out) const;
  void EncodeLong(std::string_view word, const int32_t* byte_ids, std::vector<int32_t>& out) const;
  void EncodeLongByRank(std::string_view word, const int32_t* byte_ids,
                        std::vector<int32_t>& out) const;

  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
  bool rank_ordered_ = false;  // see Finish()
  struct BytePair {
    uint32_t rank;
    int32_t merged;
  };
  std::vector<BytePair> byte_pairs_;  // [a << 8 | b]; empty until IndexBytePairs
};

// A map from token text (bytes) to id in one flat open-addressing table: much faster to build and
// to probe than std::unordered_map<std::string, ...> for the ~150k entries of a vocabulary. Used
// for the spelling -> id map and for the whole-token index (pieces that encode to a single token,
// found with one probe instead of running BPE; the tokenizer only adds tokens for which BPE itself
// yields exactly that token, so using it never changes a result).
class TokenIndex {
 public:
  void Reserve(size_t count);
  // Maps `bytes` to `id`; when `bytes` is already present, keeps the old id unless `overwrite`.
  void Add(std::string_view bytes, int32_t id, bool overwrite = false);
  // The id of `piece`, or -1.
  int32_t Find(std::string_view piece) const;
  size_t size() const { return size_; }

 private:
  struct Entry {
    uint64_t hash = 0;
    uint32_t offset = 0;  // into arena_
    uint32_t length = 0;
    int32_t id = -1;  // -1: empty
  };
  std::vector<Entry> entries_;
  std::string arena_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace lumen::llm
