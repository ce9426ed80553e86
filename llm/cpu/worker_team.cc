#include "llm/cpu/worker_team.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lumen::llm::cpu {
namespace {

// A hint to the CPU that this is a spin-wait loop (frees the core's resources for a sibling).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits up to WorkerTeam::kSpin for pred() without blocking: busy-waits for the first few
// microseconds (the usual gap between two regions of a decode step), then yields the CPU between
// checks, so that on an oversubscribed machine the thread being waited for can run here.
// True if pred() holds.
template <typename Pred>
bool SpinFor(Pred pred) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (pred()) return true;
      CpuRelax();
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited > WorkerTeam::kSpin) return pred();
    if (waited > std::chrono::microseconds(20)) std::this_thread::yield();
  }
}

}  // namespace

WorkerTeam::WorkerTeam(std::size_t workers) {
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

WorkerTeam::~WorkerTeam() {
  {
    const std::lock_guard<std::mutex> lock(run_mu_);
    stopping_ = true;
    generation_.fetch_add(1);
    generation_.notify_all();
  }
  for (std::thread& t : threads_) t.join();
}

void WorkerTeam::Claim() {
  for (std::size_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) {
    try {
      (*fn_)(i);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mu_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void WorkerTeam::WorkerLoop() {
  std::uint32_t seen = 0;
  for (;;) {
    if (!SpinFor([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
      // Block. Run reads sleepers_ after bumping generation_ and wait() rechecks generation_
      // after sleepers_ is raised (both sequentially consistent), so no wake-up is lost.
      sleepers_.fetch_add(1);
      generation_.wait(seen);
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_) return;
    Claim();
    if (busy_.fetch_sub(1) == 1 && caller_blocked_.load()) busy_.notify_one();
  }
}

void WorkerTeam::Run(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (threads_.empty() || n <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  const std::lock_guard<std::mutex> lock(run_mu_);
  fn_ = &fn;
  n_ = n;
  error_ = nullptr;
  next_.store(0, std::memory_order_relaxed);
  busy_.store(static_cast<std::uint32_t>(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1);  // publishes the region (sequentially consistent, hence release)
  if (sleepers_.load() > 0) generation_.notify_all();
  Claim();
  // Wait for the workers to leave the region: they may still be running their last call, or
  // not have woken yet (they then claim nothing).
  if (!SpinFor([&] { return busy_.load(std::memory_order_acquire) == 0; })) {
    caller_blocked_.store(true);
    for (std::uint32_t b = busy_.load(); b != 0; b = busy_.load()) busy_.wait(b);
    caller_blocked_.store(false);
  }
  fn_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace lumen::llm::cpu
