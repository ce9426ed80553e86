// robots.txt (RFC 9309): parsing, matching, and a per-host cache.
//
// Parsing: lines "key: value" with '#' comments; unknown keys, lines without ':' and bytes that
// are not text are ignored, so garbage parses to "no rules" (allow all). Consecutive
// user-agent lines open a group; the groups naming our product token (case-insensitive, the
// token part of "LumenBot/1.0") are merged, else the "*" groups. Only the first
// kMaxRobotsBytes are read (RFC 9309 asks for at least 500 KiB).
//
// Matching: the rule with the longest pattern matching the URL's path and query wins, allow over
// disallow on a tie; '*' matches any run of characters, a final '$' anchors the end. Patterns
// and paths are compared in canonical percent-encoding. "/robots.txt" is always allowed.
//
// RobotsRules is immutable after parsing and thread-safe to read. RobotsCache is thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lumen::retrieval {

inline constexpr std::size_t kMaxRobotsBytes = 512 * 1024;

class RobotsRules {
 public:
  // Parses `body` for the crawler whose product token is `product_token` ("LumenBot").
  static RobotsRules Parse(std::string_view body, std::string_view product_token);
  static RobotsRules AllowAll() { return RobotsRules(); }
  static RobotsRules DisallowAll();

  // Whether `path` (path and query of a URL, starting with '/') may be fetched.
  bool IsAllowed(std::string_view path) const;
  // Crawl-delay of the matching group, in seconds, when it gave a valid one.
  std::optional<double> crawl_delay_seconds() const { return crawl_delay_; }
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }
  std::size_t rule_count() const { return rules_.size(); }

 private:
  struct Rule {
    std::string pattern;  // canonical escapes; may hold '*' and a final '$'
    bool allow = false;
  };
  static bool Matches(std::string_view pattern, std::string_view path);

  std::vector<Rule> rules_;
  std::optional<double> crawl_delay_;
  std::vector<std::string> sitemaps_;
};

// What a robots.txt fetch came back with, and the rules RFC 9309 derives from it:
// 2xx: the parsed body; 4xx other than 429: allow all ("unavailable"); 429, 5xx, or no
// answer at all (timeout, refused, DNS): disallow all ("unreachable"), cached only briefly.
struct RobotsFetchOutcome {
  int http_status = 0;  // 0 when there was no HTTP answer
  std::string body;
};
RobotsRules RulesFromFetch(const RobotsFetchOutcome& outcome, std::string_view product_token,
                           bool* unreachable = nullptr);

struct RobotsCacheOptions {
  std::chrono::seconds ttl{24 * 3600};            // parsed or 4xx answers
  std::chrono::seconds unreachable_ttl{10 * 60};  // 5xx / no answer: disallow for this long
  std::size_t max_hosts = 100000;                 // oldest entries are evicted beyond this
};

// Rules per origin ("https://example.com:443"), each with an expiry.
class RobotsCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RobotsCache(RobotsCacheOptions options = {}) : options_(options) {}

  // The cached rules for `origin`, or nullopt when absent or expired.
  std::optional<RobotsRules> Find(const std::string& origin, Clock::time_point now = Clock::now());
  // Stores rules; `unreachable` selects the short expiry.
  void Put(const std::string& origin, RobotsRules rules, bool unreachable,
           Clock::time_point now = Clock::now());

 private:
  struct Entry {
    RobotsRules rules;
    Clock::time_point expires;
  };
  RobotsCacheOptions options_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace lumen::retrieval
