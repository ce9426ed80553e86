// Content terms: the lowercase, lightly stemmed, non-stop words of a text — what the citation
// checker and the extractive writer compare. Pure functions, thread-safe.
//
// Words are runs of ASCII letters and digits or of non-ASCII UTF-8 bytes (so "naïve", "データ"
// stay whole); "'s" and "n't" endings are dropped with the apostrophe; English stop words and
// one-character words are removed; plural "-s/-es/-ies" and "-ing/-ed" are stripped from words
// long enough to keep a stem ("reading" -> "read", "files" -> "file", "libraries" -> "library").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lumen::answer {

// The content terms of `text`, in order, with repeats.
std::vector<std::string> ContentTerms(std::string_view text);

// True for English stop words (lowercase input).
bool IsStopWord(std::string_view word);

// The light stemmer used by ContentTerms (lowercase input).
std::string StemTerm(std::string_view word);

// Cosine similarity of two vectors; 0 when either is empty, all zero, or their sizes differ.
double CosineSimilarity(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace lumen::answer
