// Choosing the numbered sources an answer is written from: the ranked passages, best first, as
// long as their text fits the prompt's token budget. Numbers are 1-based and dense ([1]..[n]),
// in rank order, so a citation [i] always names sources[i - 1].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ranking/hybrid.h"

namespace lumen::ranking {

struct Source {
  int number = 0;  // 1-based
  std::int64_t passage_id = 0;
  std::string url;
  std::string title;
  std::string heading_path;
  std::string text;
  int tokens = 0;  // estimated
};

// A rough token estimate for budgeting (about 0.75 English words per token, 4 bytes per token
// for text without spaces), never below 1 for non-empty text.
int EstimateTokens(std::string_view text);

// The longest prefix of `ranked` whose estimated tokens fit `token_budget`; a passage that does
// not fit is skipped and smaller later ones may still be taken. At most `max_sources`.
std::vector<Source> SelectSources(const std::vector<RankedPassage>& ranked, int token_budget,
                                  int max_sources = 20);

}  // namespace lumen::ranking
