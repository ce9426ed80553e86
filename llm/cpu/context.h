// What every CPU kernel call needs: the instruction-set kernels and the worker threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>

#include "core/thread_pool.h"
#include "llm/cpu/simd.h"

namespace lumen::llm::cpu {

struct CpuContext {
  const SimdKernels* simd = nullptr;
  ThreadPool* pool = nullptr;  // not owned; nullptr runs everything on the calling thread

  std::size_t threads() const { return pool ? pool->size() + 1 : 1; }
  // Calls fn(i) for i in [0, n) across the pool and the calling thread. Each thread claims the
  // next i when it finishes one, so a thread that starts late or runs slowly (a descheduled
  // vCPU) takes fewer tasks instead of holding up a fixed share.
  void ParallelFor(std::size_t n, const std::function<void(std::size_t)>& fn) const {
    if (pool == nullptr || n <= 1) {
      for (std::size_t i = 0; i < n; ++i) fn(i);
      return;
    }
    std::atomic<std::size_t> next{0};
    pool->ParallelFor(0, std::min(n, threads()), [&](std::size_t) {
      for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
    });
  }
};

}  // namespace lumen::llm::cpu
