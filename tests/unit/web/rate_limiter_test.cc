#include "web/rate_limiter.h"

#include <gtest/gtest.h>

namespace lumen::web {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, AllowsABurstThenRefusesWithTheWait) {
  RateLimiter limiter(2.0, 3.0);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a", t0).allowed) << i;
  const RateLimiter::Decision d = limiter.Take("a", t0);
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.retry_after_seconds, 0.5, 1e-9);
  EXPECT_TRUE(limiter.Take("b", t0).allowed) << "clients are separate";
  EXPECT_TRUE(limiter.Take("a", t0 + 500ms).allowed) << "refilled";
  EXPECT_FALSE(limiter.Take("a", t0 + 500ms).allowed);
}

TEST(RateLimiterTest, ZeroRateDisablesLimiting) {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_EQ(limiter.clients(), 0u);
}

TEST(RateLimiterTest, MemoryIsBoundedByEvictingTheLeastRecentClient) {
  RateLimiter limiter(1.0, 1.0, /*max_clients=*/2);
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.Take("a", t0).allowed);
  EXPECT_TRUE(limiter.Take("b", t0).allowed);
  EXPECT_TRUE(limiter.Take("c", t0).allowed);  // evicts "a"
  EXPECT_EQ(limiter.clients(), 2u);
  EXPECT_TRUE(limiter.Take("a", t0).allowed) << "a starts again with a full bucket";
  EXPECT_FALSE(limiter.Take("c", t0).allowed);
}

}  // namespace
}  // namespace lumen::web
