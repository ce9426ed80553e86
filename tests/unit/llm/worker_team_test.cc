// The engine's worker threads: every index of every region runs once, on spinning and on
// blocked workers alike, and failures come back to the caller.
#include "llm/cpu/worker_team.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lumen::llm::cpu {
namespace {

TEST(WorkerTeamTest, ManyRegionsInARowRunEveryIndexExactlyOnce) {
  WorkerTeam team(3);
  std::vector<std::atomic<int>> hits(97);
  for (int region = 0; region < 2000; ++region) {
    const std::size_t n = static_cast<std::size_t>(region % hits.size());
    team.Run(n, [&](std::size_t i) { hits[i].fetch_add(1); });
    for (std::size_t i = 0; i < hits.size(); ++i) {
      ASSERT_EQ(hits[i].exchange(0), i < n ? 1 : 0) << "region " << region << " index " << i;
    }
  }
}

TEST(WorkerTeamTest, WorkersThatWentToSleepWakeForTheNextRegion) {
  WorkerTeam team(2);
  for (int region = 0; region < 5; ++region) {
    std::this_thread::sleep_for(WorkerTeam::kSpin * 5);  // the workers block
    std::atomic<int> sum{0};
    std::vector<std::thread::id> ran(64);
    team.Run(ran.size(), [&](std::size_t i) {
      sum.fetch_add(static_cast<int>(i));
      ran[i] = std::this_thread::get_id();
    });
    EXPECT_EQ(sum.load(), 63 * 64 / 2);
  }
}

TEST(WorkerTeamTest, AnExceptionReachesTheCallerAfterTheOtherCallsFinish) {
  WorkerTeam team(2);
  std::atomic<int> finished{0};
  EXPECT_THROW(team.Run(50,
                        [&](std::size_t i) {
                          if (i == 7) throw std::runtime_error("bad index");
                          finished.fetch_add(1);
                        }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 49);
  // The team still works afterwards.
  std::atomic<int> again{0};
  team.Run(10, [&](std::size_t) { again.fetch_add(1); });
  EXPECT_EQ(again.load(), 10);
}

TEST(WorkerTeamTest, WithoutWorkersTheCallerRunsEverythingInOrder) {
  WorkerTeam team(0);
  std::vector<std::size_t> order;
  team.Run(5, [&](std::size_t i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace lumen::llm::cpu
