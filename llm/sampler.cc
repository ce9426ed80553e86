#include "llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lumen::llm {

Status SamplingParams::Validate() const {
  if (!(temperature >= 0.0) || !std::isfinite(temperature)) {
    return InvalidArgument("temperature must be >= 0");
  }
  if (!(top_p > 0.0 && top_p <= 1.0)) return InvalidArgument("top-p must be in (0, 1]");
  if (!(min_p >= 0.0 && min_p <= 1.0)) return InvalidArgument("min-p must be in [0, 1]");
  if (top_k < 0) return InvalidArgument("top-k must be >= 0");
  if (!(repetition_penalty > 0.0) || !std::isfinite(repetition_penalty)) {
    return InvalidArgument("repetition penalty must be > 0");
  }
  return Status::Ok();
}

int Sampler::Sample(std::span<float> logits, std::span<const int> seen) {
  const int n = static_cast<int>(logits.size());
  if (params_.repetition_penalty != 1.0) {
    const float p = static_cast<float>(params_.repetition_penalty);
    order_.assign(seen.begin(), seen.end());  // once per distinct id, as HF does
    std::sort(order_.begin(), order_.end());
    order_.erase(std::unique(order_.begin(), order_.end()), order_.end());
    for (int id : order_) {
      if (id < 0 || id >= n) continue;
      float& l = logits[static_cast<std::size_t>(id)];
      l = l > 0 ? l / p : l * p;
    }
  }
  if (params_.temperature == 0.0) {
    return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates sorted by logit (descending, lower id first on ties), cut by top-k.
  order_.resize(static_cast<std::size_t>(n));
  std::iota(order_.begin(), order_.end(), 0);
  const int k = params_.top_k > 0 ? std::min(params_.top_k, n) : n;
  auto by_logit = [&](int a, int b) {
    return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)] ||
           (logits[static_cast<std::size_t>(a)] == logits[static_cast<std::size_t>(b)] && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), by_logit);
  order_.resize(static_cast<std::size_t>(k));
  // Softmax at temperature T over the candidates.
  const double best = logits[static_cast<std::size_t>(order_[0])];
  probs_.resize(order_.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    probs_[i] =
        std::exp((logits[static_cast<std::size_t>(order_[i])] - best) / params_.temperature);
    sum += probs_[i];
  }
  for (double& p : probs_) p /= sum;
  // min-p, then top-p (keep the smallest prefix whose mass reaches top_p).
  std::size_t keep = probs_.size();
  if (params_.min_p > 0.0) {
    const double floor = params_.min_p * probs_[0];
    keep = 1;
    while (keep < probs_.size() && probs_[keep] >= floor) ++keep;
  }
  if (params_.top_p < 1.0) {
    double mass = 0.0;
    std::size_t i = 0;
    while (i < keep) {
      mass += probs_[i++];
      if (mass >= params_.top_p) break;
    }
    keep = i;
  }
  const double total =
      std::accumulate(probs_.begin(), probs_.begin() + static_cast<long>(keep), 0.0);
  const double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  double acc = 0.0;
  for (std::size_t i = 0; i < keep; ++i) {
    acc += probs_[i];
    if (u < acc) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace lumen::llm
