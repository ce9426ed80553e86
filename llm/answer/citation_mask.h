// Citation-constrained decoding: while a model writes an answer, a citation marker it opens can
// only name a real source. Once the generated text has an open '[', the only tokens allowed are
// those whose text continues a marker of the grammar
//
//   marker := '[' number (',' ' '? number)* ']'      number := 1..num_sources, no leading zero
//
// ("[2]", "[1, 3]", "[1,3]"; "[1][2]" is two markers), so an invalid citation — "[7]" with six
// sources, "[0]", "[]", "[^1]", "[source]" — cannot be produced. The mask works on the bytes each
// token stands for, so a token such as " [1" or "]." is allowed or refused by what it contains,
// not by where it starts. Inside a ``` fenced code block (opened at the start of a line) '[' is
// free: the citation parser (citations.h) never reads markers there. Anywhere else — inline code
// included, since an unclosed backtick would leave its text outside code — every '[' opens a
// marker, so a markdown link cannot be written either; answers cite with [n] only.
//
//   auto vocab = CitationVocabulary::Build(tokenizer, model_vocab);   // once per tokenizer
//   CitationMask mask(vocab, /*num_sources=*/6);                      // once per generation
//   options.logit_processor = [&](auto generated, auto logits) { mask.Apply(generated, logits); };
//
// The grammar (CitationGrammar) is independent of any model and tokenizer; the vocabulary
// precomputes which tokens can matter to it; the mask caches, per grammar state, the tokens
// it refuses or allows. Thread-safety: a CitationVocabulary is immutable and may be shared; a
// CitationGrammar or CitationMask belongs to one generation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "llm/tokenizer.h"

namespace lumen::answer {

// Where the text generated so far leaves a reader of the marker grammar.
struct CitationState {
  enum Phase : std::uint8_t {
    kProse,       // outside markers and code fences
    kFence,       // inside a ``` fenced block: brackets are free
    kOpen,        // after '[': a number must follow
    kNumber,      // inside a number (value in `number`): a digit, ',' or ']' may follow
    kComma,       // after ',': a space or a number
    kCommaSpace,  // after ', ': a number
    kRejected,    // the text broke the grammar
  };
  Phase phase = kProse;
  std::uint8_t ticks = 0;  // backticks in a row (prose: only those begun at a line start)
  bool line_start = true;  // prose: only spaces or tabs since the last newline (or the start)
  int number = 0;

  bool inside_marker() const { return phase >= kOpen && phase <= kCommaSpace; }
  std::uint32_t key() const;  // a compact identity, for caches
};

// The grammar over bytes, for `num_sources` sources (1..999; more are capped at 999, the
// parser's largest number).
class CitationGrammar {
 public:
  explicit CitationGrammar(int num_sources);

  // The state after `byte`; kRejected stays kRejected.
  CitationState Step(CitationState s, char byte) const;
  // The state after all of `text`, stopping at the first rejection.
  CitationState Run(CitationState s, std::string_view text) const;
  int num_sources() const { return num_sources_; }

 private:
  int num_sources_;
};

// Each token id's bytes, decoded once, and the ids that can matter to citations.
class CitationVocabulary {
 public:
  // `model_vocab` is the size of the model's logits (it may exceed the tokenizer's ids; those
  // extra ids stand for no text). Special tokens stand for their content ("<|im_end|>").
  static std::shared_ptr<const CitationVocabulary> Build(const llm::Tokenizer& tokenizer,
                                                         int model_vocab);
  // Same from explicit token texts (id = index), for tests of the grammar alone.
  static std::shared_ptr<const CitationVocabulary> FromTokens(std::vector<std::string> tokens);

  int size() const { return static_cast<int>(bytes_.size()); }
  const std::string& bytes(int id) const { return bytes_[static_cast<std::size_t>(id)]; }
  // Ids whose text holds '[': outside a marker, the only ones that can be refused.
  const std::vector<int>& opening() const { return opening_; }
  // Ids whose text could continue an open marker: it starts with a digit, ',' or ']', or is a
  // space optionally followed by a digit. Every other id is refused inside a marker.
  const std::vector<int>& continuing() const { return continuing_; }

 private:
  explicit CitationVocabulary(std::vector<std::string> bytes);
  std::vector<std::string> bytes_;
  std::vector<int> opening_;
  std::vector<int> continuing_;
};

class CitationMask {
 public:
  // `num_sources` >= 1 (with 0 nothing could be cited: every '[' is refused).
  CitationMask(std::shared_ptr<const CitationVocabulary> vocab, int num_sources);

  // Sets to -infinity the logits of every token that cannot come next in the current state.
  // `logits` has one entry per vocabulary id; inside a marker, entries past the vocabulary are
  // refused too.
  void MaskLogits(std::span<float> logits);
  // Advances over one generated id. A refused id (only possible when its logit was not masked)
  // is counted in violations() and the grammar restarts in prose at the refused byte.
  void Accept(int id);

  // For GenerationOptions::logit_processor: Accepts the ids of `generated` not yet seen (a
  // shorter list than before starts a new generation), then MaskLogits. Use either this or
  // Accept + MaskLogits, not both.
  void Apply(std::span<const int> generated, std::span<float> logits);
  // Whether `id` may come next in the current state.
  bool Allows(int id) const;

  const CitationState& state() const { return state_; }
  int violations() const { return violations_; }

 private:
  // The ids refused (prose and fence states) or allowed (marker states) in `s`, cached.
  const std::vector<int>& Listed(const CitationState& s);

  std::shared_ptr<const CitationVocabulary> vocab_;
  CitationGrammar grammar_;
  CitationState state_;
  std::size_t seen_ = 0;
  int violations_ = 0;
  std::unordered_map<std::uint32_t, std::vector<int>> cache_;
  std::vector<std::pair<int, float>> kept_;  // scratch of Apply
};

}  // namespace lumen::answer
