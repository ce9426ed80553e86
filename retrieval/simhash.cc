#include "retrieval/simhash.h"

#include <array>
#include <string>
#include <vector>

#include "retrieval/words.h"

namespace lumen::retrieval {
namespace {

// FNV-1a over bytes (ASCII lower-cased), finished with a 64-bit mixer so that every bit of the
// shingle hash is well distributed.
std::uint64_t HashWord(std::string_view w) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : w) {
    const auto b = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    h = (h ^ b) * 1099511628211ULL;
  }
  return h;
}

std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t SimHash(std::string_view text, int shingle_words) {
  if (shingle_words < 1) shingle_words = 1;
  std::vector<std::uint64_t> words;
  ForEachWord(text, [&](std::size_t b, std::size_t e) {
    words.push_back(HashWord(text.substr(b, e - b)));
  });
  if (words.empty()) return 0;
  std::array<std::int64_t, 64> votes{};
  const std::size_t n = words.size();
  const std::size_t k = static_cast<std::size_t>(shingle_words);
  const std::size_t count = n >= k ? n - k + 1 : 1;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t h = 0;
    for (std::size_t j = i; j < std::min(n, i + k); ++j) h = Mix(h * 31 + words[j]);
    for (int bit = 0; bit < 64; ++bit) votes[bit] += (h >> bit) & 1 ? 1 : -1;
  }
  std::uint64_t out = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (votes[bit] > 0) out |= 1ULL << bit;
  }
  return out;
}

}  // namespace lumen::retrieval
