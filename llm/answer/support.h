// Citation checking: does a cited passage support the sentence that cites it?
//
// The support score of a claim by some evidence is in [0, 1]: the share of the claim's content
// terms (llm/answer/terms.h) found in the evidence — longer, rarer-looking terms weigh more —
// blended with the cosine similarity of their embeddings when an embedder is given. A claim is
// supported when the score reaches `threshold`.
//
// Answer-level figures follow ALCE (Gao et al., 2023):
//   citation recall    = sentences whose citations, taken together, support them / sentences;
//                        a sentence without citations counts as unsupported.
//   citation precision = relevant citations / citations, where a citation of a jointly
//                        supported sentence is relevant unless it does not support the sentence
//                        alone AND the other citations still support it without it; citations
//                        of an unsupported sentence are not relevant.
// Thread-safe: a SupportScorer is immutable after construction (the embedder must be callable
// concurrently if the scorer is shared).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/answer/citations.h"
#include "llm/answer/source.h"

namespace lumen::answer {

struct SupportOptions {
  double threshold = 0.5;          // score at which a claim counts as supported
  double embedding_weight = 0.35;  // share of the score from embedding similarity (if any)
};

class SupportScorer {
 public:
  // Embeds a text as an L2-normalised vector (any dimension, the same for every call).
  using EmbedFn = std::function<std::vector<float>(std::string_view)>;

  explicit SupportScorer(SupportOptions options = {}, EmbedFn embed = {})
      : options_(options), embed_(std::move(embed)) {}

  double Score(std::string_view claim, std::string_view evidence) const;
  bool Supports(std::string_view claim, std::string_view evidence) const {
    return Score(claim, evidence) >= options_.threshold;
  }
  const SupportOptions& options() const { return options_; }

 private:
  SupportOptions options_;
  EmbedFn embed_;
};

struct CitationCheck {
  int n = 0;               // the source number cited
  bool supported = false;  // relevant in the ALCE sense (see above)
  double score = 0;        // support of the sentence by this source alone
};

struct SentenceCheck {
  std::string text;  // without markers
  std::vector<CitationCheck> citations;
  std::vector<int> invalid;  // cited numbers that name no source
  bool supported = false;    // its citations jointly support it
  double joint_score = 0;
};

struct AnswerCheck {
  std::vector<SentenceCheck> sentences;
  double citation_recall = 0;     // in [0, 1]; 0 for an answer without sentences
  double citation_precision = 0;  // in [0, 1]; 0 when nothing is cited
  int citations = 0;
  int supported_citations = 0;
  int invalid_citations = 0;
};

// Checks every citation of `sentences` (ParseCitedAnswer) against `sources` (numbered 1..n by
// their `n`).
AnswerCheck CheckCitations(const std::vector<CitedSentence>& sentences, const SourceList& sources,
                           const SupportScorer& scorer);

}  // namespace lumen::answer
