// Citations in answer text: finding the [n] markers, and splitting an answer into sentences with
// the sources each one cites. Pure functions, thread-safe.
//
// Accepted markers: [1], [1][2], [1, 2], [1,2], [1-3], [1–3] (en dash), each number 1..999.
// Not markers: markdown links "[text](url)", footnote-style "[^1]", anything inside `code` spans
// or ``` fenced blocks, and brackets holding anything but numbers, commas, spaces and dashes.
// Markers that follow a sentence's final punctuation ("... end.[2]") belong to that sentence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llm/answer/text_span.h"

namespace lumen::answer {

struct CitationMarker {
  TextSpan span;         // the whole marker, brackets included ("[1, 2]")
  std::vector<int> ids;  // in order, duplicates removed; ranges expanded
};

// Every citation marker in `text`, in order. Ranges wider than 20 numbers are ignored as not
// being citations.
std::vector<CitationMarker> FindCitationMarkers(std::string_view text);

struct CitedSentence {
  TextSpan span;             // the sentence in the answer, markers included
  std::string text;          // the sentence with its markers removed and spaces tidied
  std::vector<int> cited;    // ids in 1..max_source, in order of first citation, no duplicates
  std::vector<int> invalid;  // ids outside 1..max_source that the sentence cited
};

// Splits `answer` into sentences (llm/answer/sentences.h) and attaches to each the ids of its
// markers. Headings and empty lines produce no sentence.
std::vector<CitedSentence> ParseCitedAnswer(std::string_view answer, int max_source);

// `text` without its citation markers (spaces before a removed marker are dropped too).
std::string StripCitationMarkers(std::string_view text);

}  // namespace lumen::answer
