// Invalid traffic: beacons and clicks that must never be billed, and why. Every one is still
// recorded in the ledger as an `invalid` entry carrying the reason's name.
//
// The client-side checks live here (user agent, rate per client); token and ledger-state checks
// (forged, expired, replayed, never served) are made by the AdServer, which reports them with the
// same reasons.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace lumen::ads {

enum class InvalidReason {
  kMalformedToken,  // not a token at all (garbled, truncated, wrong alphabet)
  kBadSignature,    // forged or signed with another key
  kWrongTokenKind,  // a click token at the impression URL or the reverse
  kNoServe,         // authentic token whose serve is not in the ledger
  kTokenMismatch,   // authentic token whose fields differ from its serve
  kExpired,         // past its expiry
  kDuplicate,       // the impression was already decided (a replay or a retry)
  kMissingUserAgent,
  kBotUserAgent,            // matches configs/bot_user_agents.txt
  kRateLimited,             // more beacons from one client than a person can produce
  kDuplicateClick,          // the impression's click was already counted
  kClickWithoutImpression,  // a click on an impression that was never billable
};
std::string_view Name(InvalidReason r);

// Who sent a beacon or click, as the web layer sees it.
struct ClientInfo {
  std::string user_agent;  // "" when the request had none
  std::string client_ip;   // used only as a rate-limit key; "" allowed
};

// Known crawlers and bots: case-insensitive substrings of the User-Agent header, one per line;
// blank lines and lines starting with '#' are ignored. Immutable; thread-safe.
class BotList {
 public:
  static BotList FromText(std::string_view text);
  // The list embedded from configs/bot_user_agents.txt.
  static BotList BuiltIn();
  bool IsBot(std::string_view user_agent) const;
  std::size_t size() const { return patterns_.size(); }

 private:
  std::vector<std::string> patterns_;  // lower-cased
};

// Per-client rate limit over fixed one-minute windows, plus the user-agent checks.
// Thread-safe. Memory is bounded: windows of past minutes are dropped as time moves on.
class TrafficFilter {
 public:
  // `max_per_minute` == 0 turns the rate limit off.
  TrafficFilter(BotList bots, std::int64_t max_per_minute)
      : bots_(std::move(bots)), max_per_minute_(max_per_minute) {}

  // The reason to refuse this client's beacon or click, or nullopt. Counts the request against
  // the client's rate (refused ones too: a flood stays a flood).
  std::optional<InvalidReason> Check(const ClientInfo& client, std::int64_t now_us);
  // Only the user-agent checks (missing, bot); counts nothing.
  std::optional<InvalidReason> CheckUserAgent(std::string_view user_agent) const;

 private:
  BotList bots_;
  std::int64_t max_per_minute_;
  std::mutex mu_;
  std::int64_t minute_ = 0;
  std::unordered_map<std::string, std::int64_t> counts_;  // client -> requests this minute
};

}  // namespace lumen::ads
