#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace lumen {
namespace {

TEST(ThreadPoolTest, SubmitReturnsResults) {
  ThreadPool pool(3);
  std::vector<std::future<int>> futures;
  for (int i = 0; i < 100; ++i) futures.push_back(pool.Submit([i] { return i * i; }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(futures[i].get(), i * i);
}

TEST(ThreadPoolTest, ExceptionsTravelThroughTheFuture) {
  ThreadPool pool(2);
  auto f = pool.Submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(f.get(), std::runtime_error);
}

TEST(ThreadPoolTest, ParallelForVisitsEveryIndexOnce) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(1000);
  pool.ParallelFor(0, hits.size(), [&](std::size_t i) { hits[i].fetch_add(1); });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPoolTest, ParallelForRethrowsAndStillFinishes) {
  ThreadPool pool(2);
  std::atomic<int> count{0};
  EXPECT_THROW(pool.ParallelFor(0, 50,
                                [&](std::size_t i) {
                                  count.fetch_add(1);
                                  if (i == 7) throw std::runtime_error("bad index");
                                }),
               std::runtime_error);
  EXPECT_GE(count.load(), 1);
}

TEST(ThreadPoolTest, NestedParallelForFromATaskDoesNotDeadlock) {
  ThreadPool pool(1);  // a single worker: the nested call must run on the calling thread
  std::atomic<int> sum{0};
  auto f = pool.Submit(
      [&] { pool.ParallelFor(0, 10, [&](std::size_t i) { sum.fetch_add(static_cast<int>(i)); }); });
  f.get();
  EXPECT_EQ(sum.load(), 45);
}

TEST(ThreadPoolTest, DestructorDrainsQueuedTasks) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    for (int i = 0; i < 20; ++i) (void)pool.Submit([&] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 20);
}

}  // namespace
}  // namespace lumen
