#include "llm/answer/support.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "llm/answer/terms.h"

namespace lumen::answer {
namespace {

// Longer terms carry more meaning than short ones ("serialization" vs "row").
double TermWeight(const std::string& t) {
  return std::log(2.0 + static_cast<double>(t.size()));
}

const Source* FindSource(const SourceList& sources, int n) {
  for (const Source& s : sources) {
    if (s.n == n) return &s;
  }
  return nullptr;
}

}  // namespace

double SupportScorer::Score(std::string_view claim, std::string_view evidence) const {
  const std::vector<std::string> claim_terms = ContentTerms(claim);
  if (claim_terms.empty()) return 0;
  const std::vector<std::string> evidence_terms = ContentTerms(evidence);
  const std::unordered_set<std::string> have(evidence_terms.begin(), evidence_terms.end());
  std::unordered_set<std::string> seen;
  double total = 0, found = 0;
  for (const std::string& t : claim_terms) {
    if (!seen.insert(t).second) continue;
    const double w = TermWeight(t);
    total += w;
    if (have.count(t)) found += w;
  }
  const double overlap = total > 0 ? found / total : 0;
  if (!embed_) return overlap;
  const double sim = std::clamp(CosineSimilarity(embed_(claim), embed_(evidence)), 0.0, 1.0);
  return (1 - options_.embedding_weight) * overlap + options_.embedding_weight * sim;
}

AnswerCheck CheckCitations(const std::vector<CitedSentence>& sentences, const SourceList& sources,
                           const SupportScorer& scorer) {
  AnswerCheck out;
  int supported_sentences = 0;
  for (const CitedSentence& s : sentences) {
    SentenceCheck check;
    check.text = s.text;
    check.invalid = s.invalid;
    out.invalid_citations += static_cast<int>(s.invalid.size());
    std::string joint;
    for (int n : s.cited) {
      const Source* src = FindSource(sources, n);
      if (src == nullptr) continue;
      CitationCheck c;
      c.n = n;
      c.score = scorer.Score(s.text, src->text);
      check.citations.push_back(c);
      joint += src->text;
      joint += '\n';
    }
    if (!check.citations.empty()) {
      check.joint_score = scorer.Score(s.text, joint);
      check.supported = check.joint_score >= scorer.options().threshold;
    }
    if (check.supported) {
      ++supported_sentences;
      for (CitationCheck& c : check.citations) {
        if (c.score >= scorer.options().threshold) {
          c.supported = true;
          continue;
        }
        // Relevant only if the others cannot support the sentence without it.
        std::string others;
        for (const CitationCheck& o : check.citations) {
          if (o.n == c.n) continue;
          if (const Source* src = FindSource(sources, o.n)) {
            others += src->text;
            others += '\n';
          }
        }
        c.supported = others.empty() || !scorer.Supports(s.text, others);
      }
    }
    for (const CitationCheck& c : check.citations) {
      ++out.citations;
      if (c.supported) ++out.supported_citations;
    }
    out.sentences.push_back(std::move(check));
  }
  out.citations += out.invalid_citations;  // an invalid citation is never relevant
  if (!sentences.empty()) {
    out.citation_recall = static_cast<double>(supported_sentences) / sentences.size();
  }
  if (out.citations > 0) {
    out.citation_precision = static_cast<double>(out.supported_citations) / out.citations;
  }
  return out;
}

}  // namespace lumen::answer
