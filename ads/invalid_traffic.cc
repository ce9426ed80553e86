#include "ads/invalid_traffic.h"

#include <algorithm>
#include <cctype>

#include "core/embedded_file.h"

namespace lumen::ads {
namespace {

constexpr std::string_view kReasons[] = {
    "malformed_token", "bad_signature", "wrong_token_kind", "no_serve",
    "token_mismatch",  "expired",       "duplicate",        "missing_user_agent",
    "bot_user_agent",  "rate_limited",  "duplicate_click",  "click_without_impression"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view Name(InvalidReason r) {
  return kReasons[static_cast<int>(r)];
}

BotList BotList::FromText(std::string_view text) {
  BotList list;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
      line.remove_suffix(1);
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') continue;
    list.patterns_.push_back(Lower(line));
  }
  return list;
}

BotList BotList::BuiltIn() {
  const EmbeddedFile* f = FindEmbedded(ConfigFiles(), "bot_user_agents.txt");
  return f == nullptr ? BotList() : FromText(f->data);
}

bool BotList::IsBot(std::string_view user_agent) const {
  const std::string ua = Lower(user_agent);
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const std::string& p) { return ua.find(p) != std::string::npos; });
}

std::optional<InvalidReason> TrafficFilter::Check(const ClientInfo& client, std::int64_t now_us) {
  if (max_per_minute_ > 0) {
    const std::int64_t minute = now_us / 60'000'000;
    std::lock_guard<std::mutex> lock(mu_);
    if (minute != minute_) {
      counts_.clear();
      minute_ = minute;
    }
    std::int64_t& n = counts_[client.client_ip.substr(0, 64)];
    if (++n > max_per_minute_) return InvalidReason::kRateLimited;
  }
  return CheckUserAgent(client.user_agent);
}

std::optional<InvalidReason> TrafficFilter::CheckUserAgent(std::string_view user_agent) const {
  if (user_agent.empty()) return InvalidReason::kMissingUserAgent;
  if (bots_.IsBot(user_agent)) return InvalidReason::kBotUserAgent;
  return std::nullopt;
}

}  // namespace lumen::ads
