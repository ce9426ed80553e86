// ThreadPool: a fixed set of worker threads running submitted tasks in FIFO order.
//
// Thread-safe: Submit and ParallelFor may be called from any thread, including from tasks, but a
// task must not block waiting on a task it submitted to the same pool when every worker may be
// busy (ParallelFor avoids this by running work on the calling thread too). The destructor
// finishes every queued task, then joins the workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace lumen {

class ThreadPool {
 public:
  // `threads` == 0 means one per hardware thread.
  explicit ThreadPool(std::size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t size() const { return workers_.size(); }

  // Queues `fn` and returns a future for its result (exceptions travel through the future).
  template <typename Fn>
  auto Submit(Fn fn) -> std::future<std::invoke_result_t<Fn>> {
    using R = std::invoke_result_t<Fn>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> future = task->get_future();
    Enqueue([task] { (*task)(); });
    return future;
  }

  // Calls fn(i) for every i in [begin, end), split into contiguous chunks over the workers and
  // the calling thread; returns when all calls have finished. fn must be safe to call
  // concurrently for different i. The first exception thrown by fn is rethrown here.
  void ParallelFor(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& fn);

 private:
  void Enqueue(std::function<void()> job);
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace lumen
