#include "llm/answer/extractive.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "llm/answer/citations.h"
#include "llm/answer/sentences.h"
#include "llm/answer/terms.h"

namespace lumen::answer {
namespace {

struct Candidate {
  int n = 0;
  int source_rank = 0;  // 0 for the first source
  int position = 0;     // sentence index within the source
  TextSpan span;
  std::string text;
  std::vector<std::string> terms;
  int words = 0;
  double score = 0;
};

int CountWords(std::string_view s) {
  int n = 0;
  bool in = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in) ++n;
    in = !space;
  }
  return n;
}

// A word of program text: a call or subscript ("csv.reader(f)", "row[0]"), an assignment or
// comparison operator, a dotted name ("csv.Error"), a block opener ("try:", "f:"), a prompt.
bool IsCodeToken(std::string_view w) {
  if (w == "=" || w == "==" || w == "+=" || w == "->" || w == ">>>" || w == "...") return true;
  if (w.find('(') != std::string_view::npos || w.find('[') != std::string_view::npos ||
      w.find('=') != std::string_view::npos) {
    return true;
  }
  const std::size_t dot = w.find('.');
  if (dot != std::string_view::npos && dot > 0 && dot + 1 < w.size() &&
      std::isalpha(static_cast<unsigned char>(w[dot - 1])) &&
      std::isalpha(static_cast<unsigned char>(w[dot + 1]))) {
    return true;
  }
  return w.size() > 1 && w.back() == ':' &&
         std::isalnum(static_cast<unsigned char>(w[w.size() - 2]));
}

// Sentences that are mostly symbols are code or tables, not prose; so are sentences in which
// many words are program text (a flattened code sample: "import csv with open(f) as f: ...").
bool LooksLikeProse(std::string_view s) {
  int words = 0, code = 0;
  for (std::size_t i = 0; i < s.size();) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) {
      ++words;
      if (IsCodeToken(s.substr(i, j - i))) ++code;
    }
    i = j;
  }
  // A colon or period ending the sentence is punctuation, not a block opener.
  if (words > 0 && code * 4 > words) return false;
  int letters = 0, symbols = 0;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalpha(u) || u >= 0x80) {
      ++letters;
    } else if (std::strchr("{}()[];=<>_*/\\|#$@%^&~`", c) != nullptr) {
      ++symbols;
    }
  }
  return letters > 0 && symbols * 6 < letters;
}

double Jaccard(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  if (sa.empty() || sb.empty()) return 0;
  std::size_t inter = 0;
  for (const std::string& t : sa) inter += sb.count(t);
  return static_cast<double>(inter) / static_cast<double>(sa.size() + sb.size() - inter);
}

// "It does X." + n -> "It does X [n]."
std::string WithMarker(const std::string& sentence, int n) {
  const std::string marker = "[" + std::to_string(n) + "]";
  std::size_t end = sentence.size();
  while (end > 0 &&
         (sentence[end - 1] == '"' || sentence[end - 1] == '\'' || sentence[end - 1] == ')')) {
    --end;
  }
  if (end > 0 && (sentence[end - 1] == '.' || sentence[end - 1] == '!' ||
                  sentence[end - 1] == '?' || sentence[end - 1] == ':')) {
    std::string body = sentence.substr(0, end - 1);
    // A sentence introducing a code sample ends in ':'; in an answer it ends with a period.
    const char stop = sentence[end - 1] == ':' ? '.' : sentence[end - 1];
    return body + " " + marker + stop + sentence.substr(end);
  }
  return sentence + " " + marker + ".";
}

// Collapses runs of whitespace (passages keep the page's line breaks).
std::string Tidy(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

}  // namespace

ExtractiveAnswer ExtractiveWriter::Write(std::string_view question,
                                         const SourceList& sources) const {
  ExtractiveAnswer answer;
  const std::vector<std::string> q_terms = ContentTerms(question);
  const std::unordered_set<std::string> q_set(q_terms.begin(), q_terms.end());

  std::vector<Candidate> candidates;
  for (std::size_t r = 0; r < sources.size(); ++r) {
    const Source& src = sources[r];
    int position = 0;
    for (const TextSpan& span : SplitSentences(src.text)) {
      Candidate c;
      c.n = src.n;
      c.source_rank = static_cast<int>(r);
      c.position = position++;
      c.span = span;
      // Bracketed numbers in a source ("[9]" footnotes) would read as citations in the answer.
      c.text = StripCitationMarkers(Tidy(span.In(src.text)));
      c.words = CountWords(c.text);
      if (c.words < options_.min_sentence_words || c.words > options_.max_sentence_words) continue;
      if (!LooksLikeProse(c.text)) continue;
      // "The simplest example is:" introduces code or a list the answer would not show.
      if (!c.text.empty() && c.text.back() == ':') continue;
      c.terms = ContentTerms(c.text);
      candidates.push_back(std::move(c));
    }
  }
  if (candidates.empty() || q_set.empty()) return answer;

  // Rarity of each question term among the candidates (terms in every sentence say little).
  std::unordered_map<std::string, double> idf;
  for (const std::string& t : q_set) {
    int df = 0;
    for (const Candidate& c : candidates) {
      df += std::find(c.terms.begin(), c.terms.end(), t) != c.terms.end() ? 1 : 0;
    }
    idf[t] = std::log(1.0 + static_cast<double>(candidates.size()) / (1.0 + df));
  }
  double idf_total = 0;
  for (const auto& [t, w] : idf) idf_total += w;

  std::vector<float> q_vec;
  if (embed_) q_vec = embed_(question);
  for (Candidate& c : candidates) {
    const std::unordered_set<std::string> have(c.terms.begin(), c.terms.end());
    double covered = 0;
    for (const auto& [t, w] : idf) {
      if (have.count(t)) covered += w;
    }
    const double coverage = idf_total > 0 ? covered / idf_total : 0;
    const double similarity = embed_ ? std::max(0.0, CosineSimilarity(q_vec, embed_(c.text))) : 0;
    const double position = 1.0 / (1.0 + 0.15 * c.source_rank) * (1.0 / (1.0 + 0.08 * c.position));
    c.score = embed_ ? 0.55 * coverage + 0.30 * similarity + 0.15 * position
                     : 0.80 * coverage + 0.20 * position;
    if (coverage == 0) c.score = 0;  // a sentence sharing no question term does not answer it
  }

  // Greedy maximal marginal relevance under the word budget.
  std::vector<const Candidate*> chosen;
  std::vector<bool> used(candidates.size(), false);
  double best_score = 0;
  for (const Candidate& c : candidates) best_score = std::max(best_score, c.score);
  if (best_score <= 0) return answer;
  int words = 0;
  while (static_cast<int>(chosen.size()) < options_.max_sentences) {
    int best = -1;
    double best_mmr = -1e9;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const Candidate& c = candidates[i];
      if (used[i] || c.score <= 0 || words + c.words > options_.max_words) continue;
      double redundancy = 0;
      for (const Candidate* s : chosen)
        redundancy = std::max(redundancy, Jaccard(c.terms, s->terms));
      if (redundancy > 0.6) continue;  // a near duplicate adds nothing
      const double mmr = options_.mmr_lambda * c.score - (1 - options_.mmr_lambda) * redundancy;
      if (mmr > best_mmr) {
        best_mmr = mmr;
        best = static_cast<int>(i);
      }
    }
    if (best < 0) break;
    const Candidate& c = candidates[static_cast<std::size_t>(best)];
    if (static_cast<int>(chosen.size()) >= options_.min_sentences &&
        c.score < options_.min_relative_score * best_score) {
      break;
    }
    used[static_cast<std::size_t>(best)] = true;
    chosen.push_back(&c);
    words += c.words;
  }

  // Source order reads better than score order: earlier sources, then position.
  std::sort(chosen.begin(), chosen.end(), [](const Candidate* a, const Candidate* b) {
    return std::tie(a->source_rank, a->position) < std::tie(b->source_rank, b->position);
  });
  for (const Candidate* c : chosen) {
    if (!answer.text.empty()) answer.text += ' ';
    answer.text += WithMarker(c->text, c->n);
    answer.sentences.push_back({c->n, c->span, c->text, c->score});
  }
  return answer;
}

}  // namespace lumen::answer
