// Near-duplicate detection with 64-bit SimHash (Charikar) over word shingles.
//
// A text's words (\w+ runs, lower-cased) form overlapping shingles of `shingle_words` words;
// each shingle is hashed to 64 bits and votes +1/-1 on every bit; the sign of each bit's total
// is the fingerprint. Texts that share most shingles differ in few bits: two pages are near
// duplicates when the Hamming distance of their fingerprints is at most the configured
// threshold (crawl.near_duplicate_bits, 3 by default). Pure functions, thread-safe.
#pragma once

#include <bit>
#include <cstdint>
#include <string_view>

namespace lumen::retrieval {

// The fingerprint of `text`; 0 for a text without words.
std::uint64_t SimHash(std::string_view text, int shingle_words = 3);

inline int HammingDistance(std::uint64_t a, std::uint64_t b) {
  return std::popcount(a ^ b);
}

inline bool NearDuplicate(std::uint64_t a, std::uint64_t b, int max_bits) {
  return HammingDistance(a, b) <= max_bits;
}

}  // namespace lumen::retrieval
