#include "ranking/sources.h"

#include <algorithm>
#include <cmath>

namespace lumen::ranking {

int EstimateTokens(std::string_view text) {
  if (text.empty()) return 0;
  const std::size_t words = retrieval::SplitWords(text).size();
  const double by_words = std::ceil(static_cast<double>(words) / 0.75);
  const double by_bytes = std::ceil(static_cast<double>(text.size()) / 4.0);
  return std::max(1, static_cast<int>(std::max(by_words, by_bytes)));
}

std::vector<Source> SelectSources(const std::vector<RankedPassage>& ranked, int token_budget,
                                  int max_sources) {
  std::vector<Source> out;
  int used = 0;
  for (const RankedPassage& r : ranked) {
    if (static_cast<int>(out.size()) >= max_sources) break;
    const int tokens = EstimateTokens(r.view.passage.text);
    if (used + tokens > token_budget) continue;
    used += tokens;
    out.push_back({.number = static_cast<int>(out.size()) + 1,
                   .passage_id = r.view.id,
                   .url = r.view.url,
                   .title = r.view.title,
                   .heading_path = r.view.passage.heading_path,
                   .text = r.view.passage.text,
                   .tokens = tokens});
  }
  return out;
}

}  // namespace lumen::ranking
