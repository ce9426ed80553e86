#include "llm/answer/terms.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace lumen::answer {
namespace {

// Sorted for binary search.
constexpr std::array<std::string_view, 127> kStopWords = {
    "a",       "about",   "above",  "after",   "again", "against", "all",   "also",    "am",
    "an",      "and",     "any",    "are",     "as",    "at",      "be",    "because", "been",
    "before",  "being",   "below",  "between", "both",  "but",     "by",    "can",     "could",
    "did",     "do",      "does",   "doing",   "down",  "during",  "each",  "few",     "for",
    "from",    "further", "had",    "has",     "have",  "having",  "he",    "her",     "here",
    "hers",    "him",     "his",    "how",     "i",     "if",      "in",    "into",    "is",
    "it",      "its",     "itself", "just",    "me",    "might",   "more",  "most",    "must",
    "my",      "no",      "nor",    "not",     "now",   "of",      "off",   "on",      "once",
    "only",    "or",      "other",  "our",     "ours",  "out",     "over",  "own",     "same",
    "shall",   "she",     "should", "so",      "some",  "such",    "than",  "that",    "the",
    "their",   "theirs",  "them",   "then",    "there", "these",   "they",  "this",    "those",
    "through", "to",      "too",    "under",   "until", "up",      "us",    "use",     "used",
    "using",   "very",    "was",    "we",      "were",  "what",    "when",  "where",   "which",
    "while",   "who",     "whom",   "why",     "will",  "with",    "would", "you",     "your",
    "yours"};

bool Vowel(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool HasVowel(std::string_view s) {
  return std::any_of(s.begin(), s.end(), Vowel);
}

}  // namespace

bool IsStopWord(std::string_view word) {
  return std::binary_search(kStopWords.begin(), kStopWords.end(), word);
}

std::string StemTerm(std::string_view w) {
  std::string s(w);
  if (s.size() > 4 && EndsWith(s, "ies")) {
    s.replace(s.size() - 3, 3, "y");
  } else if (s.size() > 4 && (EndsWith(s, "ches") || EndsWith(s, "shes") || EndsWith(s, "sses") ||
                              EndsWith(s, "xes"))) {
    s.resize(s.size() - 2);
  } else if (s.size() > 3 && EndsWith(s, "s") && !EndsWith(s, "ss") && !EndsWith(s, "us") &&
             !EndsWith(s, "is")) {
    s.pop_back();
  }
  if (s.size() > 5 && EndsWith(s, "ing") && HasVowel(s.substr(0, s.size() - 3))) {
    s.resize(s.size() - 3);
    if (s.size() > 2 && s[s.size() - 1] == s[s.size() - 2] && !Vowel(s.back()) && s.back() != 'l' &&
        s.back() != 's') {
      s.pop_back();  // running -> run
    }
  } else if (s.size() > 4 && EndsWith(s, "ed") && HasVowel(s.substr(0, s.size() - 2))) {
    s.resize(s.size() - 2);
    if (s.size() > 2 && s[s.size() - 1] == s[s.size() - 2] && !Vowel(s.back()) && s.back() != 'l' &&
        s.back() != 's') {
      s.pop_back();
    }
  }
  return s;
}

std::vector<std::string> ContentTerms(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    // Drop possessive and negation tails ("python's", "don't").
    if (EndsWith(word, "'s")) word.resize(word.size() - 2);
    if (EndsWith(word, "n't")) word.resize(word.size() - 3);
    while (!word.empty() && word.back() == '\'') word.pop_back();
    if (word.size() > 1 && !IsStopWord(word)) out.push_back(StemTerm(word));
    word.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += static_cast<char>(c);
    } else if (c >= 'A' && c <= 'Z') {
      word += static_cast<char>(c - 'A' + 'a');
    } else if (c >= 0x80) {
      word += static_cast<char>(c);
    } else if (c == '\'' && !word.empty() && i + 1 < text.size() &&
               ((text[i + 1] >= 'a' && text[i + 1] <= 'z') ||
                (text[i + 1] >= 'A' && text[i + 1] <= 'Z'))) {
      word += '\'';
    } else {
      flush();
    }
  }
  flush();
  return out;
}

double CosineSimilarity(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

}  // namespace lumen::answer
