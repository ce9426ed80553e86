// Targeting: does a campaign want this question, and how relevant is it?
//
// Text is normalised the same way on both sides: ASCII letters lower-cased, every run of
// characters other than letters, digits and non-ASCII bytes is a word break. Relevance is an
// integer in parts per million (0..1'000'000) so that the auction is exact and reproducible:
//
//   exact   the question's words are the keyword's words (stop words aside)      1'000'000
//   phrase  the keyword's words appear contiguously, in order      600'000 + 400'000 * k / q
//   broad   every keyword word appears, any order, plurals folded   400'000 + 400'000 * k / q
//
// where k is the number of keyword words and q the number of non-stop-words of the question
// (so a keyword covering more of the question is more relevant). A campaign's relevance is its
// best keyword's. A negative keyword (phrase-matched) or a language mismatch excludes it.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ads/model.h"

namespace lumen::ads {

inline constexpr std::int64_t kRelevanceScale = 1'000'000;

// A question prepared once for matching against many campaigns.
struct NormalizedQuestion {
  std::vector<std::string> words;    // every word, in order
  std::vector<std::string> stems;    // words with plural endings folded (broad match)
  std::vector<std::string> content;  // words that are not stop words
};

// Lower-cased words of `text` (see above). At most 256 words are kept.
std::vector<std::string> Words(std::string_view text);
// Folds simple English plurals: "shoes" -> "shoe", "boxes" -> "box", "cities" -> "city".
std::string Stem(std::string_view word);
NormalizedQuestion NormalizeQuestion(std::string_view question);

// 0 when the keyword does not match, else its relevance in ppm.
std::int64_t KeywordRelevance(const Keyword& keyword, const NormalizedQuestion& q);

// The campaign's relevance for the question and request language ("" = unknown): 0 when no
// keyword matches, a negative keyword matches, or the campaign targets languages and `language`
// is not one of them (an unknown language never matches a language-targeted campaign).
std::int64_t CampaignRelevance(const Targeting& targeting, const NormalizedQuestion& q,
                               std::string_view language);

}  // namespace lumen::ads
