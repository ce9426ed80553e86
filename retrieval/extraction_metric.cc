#include "retrieval/extraction_metric.h"

#include <string>
#include <unordered_map>

#include "retrieval/words.h"

namespace lumen::retrieval {
namespace {

constexpr int kShingle = 4;

std::unordered_map<std::string, int> Shingles(std::string_view text) {
  const std::vector<std::string_view> tokens = Words(text);
  std::unordered_map<std::string, int> out;
  const std::size_t n = tokens.size();
  const std::size_t count = n >= kShingle ? n - kShingle + 1 : 1;
  for (std::size_t i = 0; i < count; ++i) {
    std::string s;
    for (std::size_t k = i; k < std::min(n, i + kShingle); ++k) {
      if (k > i) s.push_back(' ');
      s.append(tokens[k]);
    }
    if (!s.empty()) ++out[s];
  }
  return out;
}

}  // namespace

ShingleMatch MatchShingles(std::string_view truth, std::string_view predicted) {
  const auto t = Shingles(truth);
  const auto p = Shingles(predicted);
  double tp = 0, fp = 0, fn = 0;
  for (const auto& [k, tc] : t) {
    auto it = p.find(k);
    const int pc = it == p.end() ? 0 : it->second;
    tp += std::min(tc, pc);
    fn += std::max(0, tc - pc);
    fp += std::max(0, pc - tc);
  }
  for (const auto& [k, pc] : p) {
    if (!t.count(k)) fp += pc;
  }
  const double sum = tp + fp + fn;
  if (sum > 0) {
    tp /= sum;
    fp /= sum;
    fn /= sum;
  }
  return {tp, fp, fn};
}

double DocumentPrecision(const ShingleMatch& m) {
  if (m.fp == 0 && m.fn == 0) return 1.0;
  return m.tp + m.fp > 0 ? m.tp / (m.tp + m.fp) : 0.0;
}

double DocumentRecall(const ShingleMatch& m) {
  if (m.fp == 0 && m.fn == 0) return 1.0;
  return m.tp + m.fn > 0 ? m.tp / (m.tp + m.fn) : 0.0;
}

ExtractionScore ScoreExtraction(const std::vector<ShingleMatch>& documents) {
  double p_sum = 0, r_sum = 0;
  int p_n = 0, r_n = 0;
  for (const ShingleMatch& m : documents) {
    const bool perfect = m.fp == 0 && m.fn == 0;
    if (perfect || m.tp + m.fp > 0) {
      p_sum += DocumentPrecision(m);
      ++p_n;
    }
    if (perfect || m.tp + m.fn > 0) {
      r_sum += DocumentRecall(m);
      ++r_n;
    }
  }
  ExtractionScore s;
  s.documents = static_cast<int>(documents.size());
  s.precision = p_n > 0 ? p_sum / p_n : 0.0;
  s.recall = r_n > 0 ? r_sum / r_n : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  return s;
}

}  // namespace lumen::retrieval
