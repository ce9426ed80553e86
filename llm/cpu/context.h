// What every CPU kernel call needs: the instruction-set kernels and the worker threads.
#pragma once

#include <cstddef>
#include <functional>

#include "llm/cpu/simd.h"
#include "llm/cpu/worker_team.h"

namespace lumen::llm::cpu {

struct CpuContext {
  const SimdKernels* simd = nullptr;
  WorkerTeam* team = nullptr;  // not owned; nullptr runs everything on the calling thread

  std::size_t threads() const { return team ? team->workers() + 1 : 1; }
  // Calls fn(i) for i in [0, n) across the team and the calling thread (see WorkerTeam::Run).
  void ParallelFor(std::size_t n, const std::function<void(std::size_t)>& fn) const {
    if (team == nullptr) {
      for (std::size_t i = 0; i < n; ++i) fn(i);
      return;
    }
    team->Run(n, fn);
  }
};

}  // namespace lumen::llm::cpu
