// Deadline: a point on the monotonic clock by which work must finish. Pass it down a request so
// every stage (fetch, retrieval, generation) can check what is left. Copyable, immutable,
// thread-safe to read.
#pragma once

#include <algorithm>
#include <chrono>

namespace lumen {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // A deadline that never expires.
  static Deadline Infinite() { return Deadline(Clock::time_point::max()); }
  static Deadline After(Clock::duration d) { return Deadline(Clock::now() + d); }
  static Deadline AfterMs(long long ms) { return After(std::chrono::milliseconds(ms)); }
  static Deadline At(Clock::time_point t) { return Deadline(t); }

  bool infinite() const { return at_ == Clock::time_point::max(); }
  bool expired() const { return !infinite() && Clock::now() >= at_; }
  Clock::time_point time_point() const { return at_; }

  // Time left, never negative; Clock::duration::max() when infinite.
  Clock::duration remaining() const {
    if (infinite()) return Clock::duration::max();
    return std::max(Clock::duration::zero(), at_ - Clock::now());
  }
  // Milliseconds left, rounded down; a large value when infinite.
  long long remaining_ms() const {
    if (infinite()) return 1LL << 50;
    return std::chrono::duration_cast<std::chrono::milliseconds>(remaining()).count();
  }

  // The earlier of this deadline and `other` (a stage's own budget inside a request).
  Deadline Min(Deadline other) const { return Deadline(std::min(at_, other.at_)); }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

}  // namespace lumen
