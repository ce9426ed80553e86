#include "web/result_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace lumen::web {
namespace {

using namespace std::chrono_literals;
using Cache = ResultCache<std::string>;

TEST(ResultCacheTest, HitsUntilTheTtlPasses) {
  Cache cache(10, 60s);
  const auto t0 = Cache::Clock::now();
  cache.Put("q", std::make_shared<const std::string>("answer"), t0);
  ASSERT_NE(cache.Get("q", t0 + 59s), nullptr);
  EXPECT_EQ(*cache.Get("q", t0 + 59s), "answer");
  EXPECT_EQ(cache.Get("q", t0 + 60s), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ResultCacheTest, EvictsTheLeastRecentlyUsed) {
  Cache cache(2, 60s);
  cache.Put("a", std::make_shared<const std::string>("A"));
  cache.Put("b", std::make_shared<const std::string>("B"));
  ASSERT_NE(cache.Get("a"), nullptr);  // a is now the most recent
  cache.Put("c", std::make_shared<const std::string>("C"));
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
}

TEST(ResultCacheTest, AHeldValueOutlivesItsEviction) {
  Cache cache(1, 60s);
  cache.Put("a", std::make_shared<const std::string>("A"));
  auto held = cache.Get("a");
  cache.Put("b", std::make_shared<const std::string>("B"));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(*held, "A");
}

TEST(ResultCacheTest, ZeroCapacityDisablesCaching) {
  Cache cache(0, 60s);
  cache.Put("a", std::make_shared<const std::string>("A"));
  EXPECT_EQ(cache.Get("a"), nullptr);
}

}  // namespace
}  // namespace lumen::web
