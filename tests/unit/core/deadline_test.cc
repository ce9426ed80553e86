#include "core/deadline.h"

#include <gtest/gtest.h>

#include <thread>

namespace lumen {
namespace {

TEST(DeadlineTest, InfiniteNeverExpires) {
  Deadline d = Deadline::Infinite();
  EXPECT_TRUE(d.infinite());
  EXPECT_FALSE(d.expired());
  EXPECT_GT(d.remaining_ms(), 1LL << 40);
}

TEST(DeadlineTest, PastDeadlineIsExpiredWithZeroRemaining) {
  Deadline d = Deadline::AfterMs(-5);
  EXPECT_TRUE(d.expired());
  EXPECT_EQ(d.remaining_ms(), 0);
  EXPECT_EQ(d.remaining(), Deadline::Clock::duration::zero());
}

TEST(DeadlineTest, ExpiresAfterItsDuration) {
  Deadline d = Deadline::AfterMs(20);
  EXPECT_FALSE(d.expired());
  EXPECT_LE(d.remaining_ms(), 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(d.expired());
}

TEST(DeadlineTest, MinTakesTheEarlier) {
  Deadline a = Deadline::AfterMs(10'000);
  Deadline b = Deadline::AfterMs(50);
  EXPECT_EQ(a.Min(b).time_point(), b.time_point());
  EXPECT_EQ(b.Min(Deadline::Infinite()).time_point(), b.time_point());
}

}  // namespace
}  // namespace lumen
