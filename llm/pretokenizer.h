// Pre-tokenization: splitting normalized text into the pieces BPE merges within.
//
// Hugging Face files describe this with `Split` regexes. Lumen recognises the regexes of the
// byte-level BPE family by their exact text and runs a hand-written matcher for each, which agrees
// with the regex (leftmost alternative first, greedy quantifiers with backtracking, `(?!\S)`
// lookahead) and is several times faster than a regex engine, in linear time with no recursion.
// An unrecognised regex is an Unimplemented error at load time, never a silent difference.
//
// Convention: pieces are byte ranges of the (valid UTF-8) text, given by their end offsets.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::llm {

enum class SplitPattern {
  kQwen2,       // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
                // ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,      // the same with \p{N}{1,3}
  kGpt2,        // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kDigits1to3,  // \p{N}{1,3}                                    (DeepSeek-V3, first stage)
  kCjkRun,      // [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+    (DeepSeek-V3, second stage)
  kDeepSeekV3,  // the third stage: [!-/:-@[-`{-~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|...
};

// The pattern a `Split` regex denotes; Unimplemented (quoting the regex) when it is none of the
// above.
Result<SplitPattern> RecognizeSplitRegex(std::string_view regex);

// Splits `text` (valid UTF-8) with `pattern` in the `Isolated` behaviour: every match is a piece
// and so is every stretch between matches. Appends the end offset of each piece, relative to
// `text`, plus `base`, to `ends`.
void SplitIsolated(SplitPattern pattern, std::string_view text, size_t base,
                   std::vector<size_t>& ends);

}  // namespace lumen::llm
