// What every CPU kernel call needs: the instruction-set kernels and the worker threads.
#pragma once

#include <cstddef>
#include <functional>

#include "core/thread_pool.h"
#include "llm/cpu/simd.h"

namespace lumen::llm::cpu {

struct CpuContext {
  const SimdKernels* simd = nullptr;
  ThreadPool* pool = nullptr;  // not owned; nullptr runs everything on the calling thread

  std::size_t threads() const { return pool ? pool->size() + 1 : 1; }
  // Calls fn(i) for i in [0, n) across the pool and the calling thread.
  void ParallelFor(std::size_t n, const std::function<void(std::size_t)>& fn) const {
    if (pool == nullptr || n <= 1) {
      for (std::size_t i = 0; i < n; ++i) fn(i);
    } else {
      pool->ParallelFor(0, n, fn);
    }
  }
};

}  // namespace lumen::llm::cpu
