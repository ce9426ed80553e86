#include "llm/cpu/ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lumen::llm::cpu {

void RmsNorm(const SimdKernels& simd, const float* x, const float* weight, std::size_t rows,
             std::size_t dim, double eps, float* out) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* o = out + r * dim;
    const double ms = static_cast<double>(simd.dot(xr, xr, dim)) / static_cast<double>(dim);
    const float inv = static_cast<float>(1.0 / std::sqrt(ms + eps));
    for (std::size_t i = 0; i < dim; ++i) o[i] = xr[i] * inv * weight[i];
  }
}

RopeTable MakeRopeTable(std::size_t p0, std::size_t n, std::size_t head_dim, double theta) {
  RopeTable t;
  t.half = head_dim / 2;
  t.cos.resize(n * t.half);
  t.sin.resize(n * t.half);
  for (std::size_t i = 0; i < t.half; ++i) {
    const double inv_freq =
        std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    for (std::size_t p = 0; p < n; ++p) {
      const double angle = static_cast<double>(p0 + p) * inv_freq;
      t.cos[p * t.half + i] = static_cast<float>(std::cos(angle));
      t.sin[p * t.half + i] = static_cast<float>(std::sin(angle));
    }
  }
  return t;
}

void ApplyRope(const RopeTable& rope, float* x, std::size_t n, std::size_t heads,
               std::size_t head_dim) {
  const std::size_t half = head_dim / 2;
  for (std::size_t t = 0; t < n; ++t) {
    const float* c = rope.cos.data() + t * half;
    const float* s = rope.sin.data() + t * half;
    for (std::size_t h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * head_dim;
      for (std::size_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i] + a * s[i];
      }
    }
  }
}

void SwiGlu(float* gate, const float* up, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void RouteTopK(std::span<const float> logits, int k, bool normalize,
               std::vector<ExpertChoice>& out) {
  const std::size_t n = logits.size();
  const float max = *std::max_element(logits.begin(), logits.end());
  std::vector<float> prob(n);
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += prob[i] = std::exp(logits[i] - max);
  for (float& p : prob) p /= sum;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
    return prob[a] > prob[b] || (prob[a] == prob[b] && a < b);
  });
  out.clear();
  float chosen = 0.0f;
  for (int i = 0; i < k; ++i) {
    out.push_back({order[i], prob[order[i]]});
    chosen += prob[order[i]];
  }
  if (normalize) {
    for (ExpertChoice& c : out) c.weight /= chosen;
  }
}

}  // namespace lumen::llm::cpu
