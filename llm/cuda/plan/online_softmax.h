// The online softmax of the attention kernel (a running maximum and sum, as in flash attention):
// positions are folded in one at a time, and partial states of different warps or KV splits are
// merged afterwards. Marked LUMEN_HD: the same functions run in llm/cuda/kernels.cu and in the
// host test that checks splitting and merging against a direct softmax.
//
// A state is (m, l, acc): m the largest score seen (-inf when none), l = Σ e^(s - m), and
// acc = Σ e^(s - m) · v. The attention output is acc / l after every part is merged.
#pragma once

#include <math.h>

#include "llm/cuda/plan/moe_plan.h"  // LUMEN_HD

namespace lumen::llm::cuda {

// Folds score `s` into (m, l). The caller scales its accumulator by `corr` and adds `p` · v.
LUMEN_HD inline void OnlineSoftmaxPush(float& m, float& l, float s, float& corr, float& p) {
  const float m_new = fmaxf(m, s);
  corr = expf(m - m_new);  // 0 when nothing was seen (m = -inf)
  p = expf(s - m_new);
  l = l * corr + p;
  m = m_new;
}

// The factor of a partial state with maximum `m_part` in a merge whose overall maximum is
// `m_all`; 0 for a part that saw no position (m_part = -inf), whatever m_all is.
LUMEN_HD inline float OnlineSoftmaxMergeFactor(float m_part, float m_all) {
  return m_part == -INFINITY ? 0.0f : expf(m_part - m_all);
}

}  // namespace lumen::llm::cuda
