// RateLimiter: a token bucket per client (IP address or API key). Each client may burst up to
// `burst` requests and is refilled at `rate_per_second`; a refused request learns how long to
// wait (for a 429's Retry-After). Memory is bounded: at most `max_clients` buckets are kept, and
// the least recently seen bucket is dropped first (a dropped client starts with a full bucket,
// which errs on the side of serving).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lumen::web {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    bool allowed = true;
    double retry_after_seconds = 0;  // when refused: time until one token is available
  };

  // rate_per_second <= 0 disables limiting (every request allowed).
  RateLimiter(double rate_per_second, double burst, std::size_t max_clients = 100'000);

  Decision Take(std::string_view client, Clock::time_point now = Clock::now());
  std::size_t clients() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
    std::list<std::string>::iterator lru;
  };

  const double rate_;
  const double burst_;
  const std::size_t max_clients_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> lru_;  // most recently seen first
};

}  // namespace lumen::web
