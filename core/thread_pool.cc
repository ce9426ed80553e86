#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

namespace lumen {

ThreadPool::ThreadPool(std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Enqueue(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

void ThreadPool::ParallelFor(std::size_t begin, std::size_t end,
                             const std::function<void(std::size_t)>& fn) {
  if (begin >= end) return;
  // Chunks are claimed dynamically, so the calling thread never waits on a queued helper that no
  // worker is free to run: it keeps claiming chunks itself until none are left. The shared state
  // outlives this call because a helper may start after every chunk is done; it then claims
  // nothing and never touches `fn`.
  struct State {
    std::size_t begin, n, chunks;
    const std::function<void(std::size_t)>* fn;
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    std::exception_ptr error;
  };
  auto st = std::make_shared<State>();
  st->begin = begin;
  st->n = end - begin;
  st->chunks = std::min(st->n, workers_.size() + 1);
  st->fn = &fn;

  auto run_chunks = [st] {
    for (;;) {
      const std::size_t c = st->next.fetch_add(1);
      if (c >= st->chunks) return;
      const std::size_t lo = st->begin + st->n * c / st->chunks;
      const std::size_t hi = st->begin + st->n * (c + 1) / st->chunks;
      try {
        for (std::size_t i = lo; i < hi; ++i) (*st->fn)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(st->mu);
        if (!st->error) st->error = std::current_exception();
      }
      if (st->done.fetch_add(1) + 1 == st->chunks) {
        std::lock_guard<std::mutex> lock(st->mu);
        st->cv.notify_all();
      }
    }
  };
  for (std::size_t h = 0; h + 1 < st->chunks; ++h) Enqueue(run_chunks);
  run_chunks();
  std::unique_lock<std::mutex> lock(st->mu);
  st->cv.wait(lock, [&] { return st->done.load() == st->chunks; });
  if (st->error) std::rethrow_exception(st->error);
}

}  // namespace lumen
