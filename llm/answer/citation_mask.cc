#include "llm/answer/citation_mask.h"

#include <algorithm>
#include <limits>

namespace lumen::answer {
namespace {

constexpr int kMaxSources = 999;  // the citation parser reads at most three digits

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::uint32_t CitationState::key() const {
  return static_cast<std::uint32_t>(phase) | static_cast<std::uint32_t>(ticks) << 4 |
         static_cast<std::uint32_t>(line_start) << 7 | static_cast<std::uint32_t>(number) << 8;
}

CitationGrammar::CitationGrammar(int num_sources)
    : num_sources_(std::clamp(num_sources, 0, kMaxSources)) {}

CitationState CitationGrammar::Step(CitationState s, char c) const {
  auto digit = [&](int base) {
    // A number may grow while it stays within 1..num_sources ("0" and "01" never start one).
    const int v = base * 10 + (c - '0');
    if (v < 1 || v > num_sources_) return CitationState{.phase = CitationState::kRejected};
    return CitationState{.phase = CitationState::kNumber, .number = v};
  };
  switch (s.phase) {
    case CitationState::kProse:
      if (c == '[') return {.phase = CitationState::kOpen};
      if (c == '`') {
        // Only a run of three backticks begun at a line start (after optional spaces) opens a
        // fence: there the parser is surely outside inline code. Other backticks change
        // nothing, which only ever constrains more than the parser would.
        if (s.ticks > 0) {
          if (++s.ticks == 3) return {.phase = CitationState::kFence, .line_start = false};
          return s;
        }
        if (s.line_start) return {.phase = CitationState::kProse, .ticks = 1, .line_start = false};
        return s;
      }
      s.ticks = 0;
      if (c == '\n') {
        s.line_start = true;
      } else if (c != ' ' && c != '\t') {
        s.line_start = false;
      }
      return s;
    case CitationState::kFence:
      // The fence ends at the next three backticks in a row, wherever they are.
      if (c == '`') {
        if (++s.ticks == 3) return {.phase = CitationState::kProse, .line_start = false};
        return s;
      }
      s.ticks = 0;
      return s;
    case CitationState::kOpen:
      return IsDigit(c) ? digit(0) : CitationState{.phase = CitationState::kRejected};
    case CitationState::kNumber:
      if (IsDigit(c)) return digit(s.number);
      if (c == ']') return {.phase = CitationState::kProse, .line_start = false};
      if (c == ',') return {.phase = CitationState::kComma};
      return {.phase = CitationState::kRejected};
    case CitationState::kComma:
      if (c == ' ') return {.phase = CitationState::kCommaSpace};
      return IsDigit(c) ? digit(0) : CitationState{.phase = CitationState::kRejected};
    case CitationState::kCommaSpace:
      return IsDigit(c) ? digit(0) : CitationState{.phase = CitationState::kRejected};
    case CitationState::kRejected: return s;
  }
  return {.phase = CitationState::kRejected};
}

CitationState CitationGrammar::Run(CitationState s, std::string_view text) const {
  for (char c : text) {
    s = Step(s, c);
    if (s.phase == CitationState::kRejected) break;
  }
  return s;
}

CitationVocabulary::CitationVocabulary(std::vector<std::string> bytes) : bytes_(std::move(bytes)) {
  for (int id = 0; id < size(); ++id) {
    const std::string& b = bytes_[static_cast<std::size_t>(id)];
    if (b.find('[') != std::string::npos) opening_.push_back(id);
    if (b.empty()) continue;
    const char c = b[0];
    if (IsDigit(c) || c == ',' || c == ']' || (c == ' ' && (b.size() == 1 || IsDigit(b[1])))) {
      continuing_.push_back(id);
    }
  }
}

std::shared_ptr<const CitationVocabulary> CitationVocabulary::Build(const llm::Tokenizer& tokenizer,
                                                                    int model_vocab) {
  std::vector<std::string> bytes(static_cast<std::size_t>(std::max(0, model_vocab)));
  const int known = std::min(model_vocab, static_cast<int>(tokenizer.vocab_size()));
  for (int id = 0; id < known; ++id) bytes[static_cast<std::size_t>(id)] = tokenizer.TokenBytes(id);
  return std::shared_ptr<const CitationVocabulary>(new CitationVocabulary(std::move(bytes)));
}

std::shared_ptr<const CitationVocabulary> CitationVocabulary::FromTokens(
    std::vector<std::string> tokens) {
  return std::shared_ptr<const CitationVocabulary>(new CitationVocabulary(std::move(tokens)));
}

CitationMask::CitationMask(std::shared_ptr<const CitationVocabulary> vocab, int num_sources)
    : vocab_(std::move(vocab)), grammar_(num_sources) {}

const std::vector<int>& CitationMask::Listed(const CitationState& s) {
  auto [it, fresh] = cache_.try_emplace(s.key());
  if (!fresh) return it->second;
  std::vector<int>& out = it->second;
  if (s.inside_marker()) {
    // Allowed: the continuing ids whose whole text keeps to the grammar. An id standing for no
    // text is never allowed inside a marker (it would not move the marker towards its end).
    for (int id : vocab_->continuing()) {
      if (grammar_.Run(s, vocab_->bytes(id)).phase != CitationState::kRejected) out.push_back(id);
    }
  } else {
    for (int id : vocab_->opening()) {
      if (grammar_.Run(s, vocab_->bytes(id)).phase == CitationState::kRejected) out.push_back(id);
    }
  }
  return out;
}

void CitationMask::Apply(std::span<const int> generated, std::span<float> logits) {
  if (generated.size() < seen_) {
    state_ = {};
    seen_ = 0;
    violations_ = 0;
  }
  for (; seen_ < generated.size(); ++seen_) Accept(generated[seen_]);
  MaskLogits(logits);
}

void CitationMask::MaskLogits(std::span<float> logits) {
  const float refused = -std::numeric_limits<float>::infinity();
  const std::vector<int>& listed = Listed(state_);
  if (!state_.inside_marker()) {
    for (int id : listed) {
      if (static_cast<std::size_t>(id) < logits.size())
        logits[static_cast<std::size_t>(id)] = refused;
    }
    return;
  }
  // Inside a marker only the listed ids remain: keep their logits, refuse everything else.
  kept_.clear();
  for (int id : listed) {
    if (static_cast<std::size_t>(id) < logits.size()) {
      kept_.emplace_back(id, logits[static_cast<std::size_t>(id)]);
    }
  }
  std::fill(logits.begin(), logits.end(), refused);
  for (const auto& [id, logit] : kept_) logits[static_cast<std::size_t>(id)] = logit;
}

void CitationMask::Accept(int id) {
  if (id < 0 || id >= vocab_->size()) return;  // stands for no text
  for (char c : vocab_->bytes(id)) {
    CitationState next = grammar_.Step(state_, c);
    if (next.phase == CitationState::kRejected) {
      ++violations_;
      next = grammar_.Step(CitationState{.line_start = false}, c);
    }
    state_ = next;
  }
}

bool CitationMask::Allows(int id) const {
  if (id < 0 || id >= vocab_->size()) return !state_.inside_marker();
  const std::string& b = vocab_->bytes(id);
  if (state_.inside_marker() && b.empty()) return false;
  return grammar_.Run(state_, b).phase != CitationState::kRejected;
}

}  // namespace lumen::answer
