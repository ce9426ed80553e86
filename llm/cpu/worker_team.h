// WorkerTeam: the CPU engine's worker threads, for many short fork-join regions in a row.
//
// A decode step runs about six parallel regions per layer (projections, attention, experts),
// each a few hundred microseconds long with microseconds of serial work between them. Waking a
// sleeping thread for each region (a condition variable, as core/thread_pool.h does) costs tens
// of microseconds on a virtual CPU, so between regions the workers spin briefly on an atomic
// counter, and only block (futex) after about kSpin of idleness, e.g. between requests.
//
// Thread-safety: Run may be called from any thread, but calls are serialised (one region at a
// time) and fn must not call Run on the same team. The destructor joins the workers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lumen::llm::cpu {

class WorkerTeam {
 public:
  // How long an idle thread spins before it blocks.
  static constexpr std::chrono::microseconds kSpin{200};

  // `workers` threads besides the caller of Run (0: Run runs everything on its caller).
  explicit WorkerTeam(std::size_t workers);
  ~WorkerTeam();
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;

  std::size_t workers() const { return threads_.size(); }

  // Calls fn(i) for every i in [0, n) on the workers and the calling thread, each thread
  // claiming the next i when it finishes one (a descheduled thread takes fewer, instead of
  // holding up a fixed share); returns when all calls have finished. The first exception thrown
  // by fn is rethrown here, after the others have finished.
  void Run(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  void WorkerLoop();
  void Claim();

  std::mutex run_mu_;  // one region at a time
  // A new region is published by bumping generation_ (after setting fn_/n_/next_/busy_).
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<std::uint32_t> sleepers_{0};  // workers blocked on generation_
  std::atomic<std::uint32_t> busy_{0};      // workers still inside the current region
  std::atomic<bool> caller_blocked_{false};
  std::atomic<std::size_t> next_{0};
  std::size_t n_ = 0;
  const std::function<void(std::size_t)>* fn_ = nullptr;
  std::mutex error_mu_;
  std::exception_ptr error_;
  bool stopping_ = false;  // written before a generation bump, read after observing it
  std::vector<std::thread> threads_;
};

}  // namespace lumen::llm::cpu
