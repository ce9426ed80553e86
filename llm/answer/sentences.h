// Sentence splitting for answers and passages (English-first, CJK-aware). Pure functions,
// thread-safe, linear in the input.
//
// A sentence ends after '.', '!', '?' or '…' (plus closing quotes and brackets) when followed by
// whitespace and then something that can start a sentence, at a CJK full stop (。！？), at a
// blank line, and at a line that starts a list item. It does not end after common abbreviations
// ("e.g.", "Dr.", "etc." before a lowercase word), single-letter initials, or inside numbers
// and dotted names ("3.14", "os.path"). Citation markers right after the end ("... end.[2]")
// stay with the sentence they follow.
#pragma once

#include <string_view>
#include <vector>

#include "llm/answer/text_span.h"

namespace lumen::answer {

// The sentences of `text` as byte spans, trimmed of surrounding whitespace; empty ones dropped.
std::vector<TextSpan> SplitSentences(std::string_view text);

}  // namespace lumen::answer
