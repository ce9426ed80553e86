// ResultCache: a least-recently-used cache with a time to live, for search results keyed by the
// normalised question and options. It holds the answer and its sources only — sponsored slots are
// chosen per request after the cache and are never stored here.
//
// Thread-safe. Values are shared_ptr<const V>, so a hit is cheap and a reader keeps its copy
// alive even when the entry is evicted meanwhile.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lumen::web {

template <typename V>
class ResultCache {
 public:
  using Clock = std::chrono::steady_clock;

  // capacity 0 or ttl <= 0 disables caching (Get always misses, Put does nothing).
  ResultCache(std::size_t capacity, Clock::duration ttl) : capacity_(capacity), ttl_(ttl) {}

  std::shared_ptr<const V> Get(const std::string& key, Clock::time_point now = Clock::now()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      ++misses_;
      return nullptr;
    }
    if (now >= it->second.expires) {
      order_.erase(it->second.pos);
      map_.erase(it);
      ++misses_;
      return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second.pos);
    ++hits_;
    return it->second.value;
  }

  void Put(const std::string& key, std::shared_ptr<const V> value,
           Clock::time_point now = Clock::now()) {
    if (capacity_ == 0 || ttl_ <= Clock::duration::zero()) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      order_.erase(it->second.pos);
      map_.erase(it);
    }
    while (map_.size() >= capacity_) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(key);
    map_.emplace(key, Entry{std::move(value), now + ttl_, order_.begin()});
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }
  std::size_t hits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }
  std::size_t misses() const {
    std::lock_guard<std::mutex> lock(mu_);
    return misses_;
  }

 private:
  struct Entry {
    std::shared_ptr<const V> value;
    Clock::time_point expires;
    std::list<std::string>::iterator pos;
  };
  const std::size_t capacity_;
  const Clock::duration ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  std::list<std::string> order_;  // most recently used first
  std::size_t hits_ = 0, misses_ = 0;
};

}  // namespace lumen::web
