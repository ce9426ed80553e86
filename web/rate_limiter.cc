#include "web/rate_limiter.h"

#include <algorithm>

namespace lumen::web {

RateLimiter::RateLimiter(double rate_per_second, double burst, std::size_t max_clients)
    : rate_(rate_per_second),
      burst_(std::max(1.0, burst)),
      max_clients_(std::max<std::size_t>(1, max_clients)) {}

RateLimiter::Decision RateLimiter::Take(std::string_view client, Clock::time_point now) {
  if (rate_ <= 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(client);
    it = buckets_.emplace(std::string(client), Bucket{burst_, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  return {false, (1.0 - b.tokens) / rate_};
}

std::size_t RateLimiter::clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace lumen::web
