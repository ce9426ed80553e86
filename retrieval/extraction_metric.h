// The extraction benchmark's metric (../shared/eval/README.md; Scrapinghub's
// article-extraction-benchmark): tokens are `\w+` runs, a text is the multiset of its word
// 4-grams (a text with fewer than 4 tokens is one shingle of all of them), per document
// tp = Σ min(true, predicted), fp and fn the excesses, each divided by tp+fp+fn. Precision is
// the mean of tp/(tp+fp) over documents with tp+fp > 0, recall the mean of tp/(tp+fn) over
// documents with tp+fn > 0 (fp = fn = 0 scores 1 for both), F1 the harmonic mean of the means.
#pragma once

#include <string_view>
#include <vector>

namespace lumen::retrieval {

struct ShingleMatch {
  double tp = 0, fp = 0, fn = 0;  // normalized so that tp + fp + fn == 1 (or all 0)
};

// Compares one document's predicted text with its true text.
ShingleMatch MatchShingles(std::string_view truth, std::string_view predicted);

struct ExtractionScore {
  double precision = 0, recall = 0, f1 = 0;
  int documents = 0;
};

ExtractionScore ScoreExtraction(const std::vector<ShingleMatch>& documents);

// Per-document precision/recall as the metric defines them (for listing the worst pages).
double DocumentPrecision(const ShingleMatch& m);
double DocumentRecall(const ShingleMatch& m);

}  // namespace lumen::retrieval
