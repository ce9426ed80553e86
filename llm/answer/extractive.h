// The extractive answer writer: composes an answer from sentences of the sources themselves,
// each cited to the source it came from — so every citation is exact by construction. It is the
// default when no model is configured and the fallback when a model fails or runs out of time.
//
// Sentences are scored by how much of the question they cover (question terms weighted by their
// rarity among the candidate sentences), their embedding similarity to the question when an
// embedder is given, and their position (earlier sources and earlier sentences first); near
// duplicates are removed with maximal marginal relevance. The chosen sentences are written in
// source order, each followed by its marker: "A sentence from source two [2]."
//
// Thread-safe: Write() is const and keeps no state between calls.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/answer/source.h"
#include "llm/answer/text_span.h"

namespace lumen::answer {

struct ExtractiveOptions {
  int min_sentences = 2;  // when the sources have that many relevant sentences
  int max_sentences = 6;
  int max_words = 120;
  int max_sentence_words = 60;  // longer sentences are not candidates
  int min_sentence_words = 4;
  double mmr_lambda = 0.7;           // relevance vs novelty
  double min_relative_score = 0.35;  // stop adding below this share of the best score
};

struct ExtractedSentence {
  int n = 0;         // the source it came from
  TextSpan span;     // where, in that source's text
  std::string text;  // the sentence as written in the answer (without its marker)
  double score = 0;
};

struct ExtractiveAnswer {
  std::string text;  // markdown with [n] markers; empty when no source sentence is relevant
  std::vector<ExtractedSentence> sentences;
};

class ExtractiveWriter {
 public:
  using EmbedFn = std::function<std::vector<float>(std::string_view)>;

  explicit ExtractiveWriter(ExtractiveOptions options = {}, EmbedFn embed = {})
      : options_(options), embed_(std::move(embed)) {}

  ExtractiveAnswer Write(std::string_view question, const SourceList& sources) const;

 private:
  ExtractiveOptions options_;
  EmbedFn embed_;
};

}  // namespace lumen::answer
