#include "retrieval/robots.h"

#include <algorithm>
#include <cstdlib>

#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The product token of a user-agent value: "LumenBot/1.0 (+url)" -> "lumenbot".
std::string ProductToken(std::string_view value) {
  std::size_t end = 0;
  while (end < value.size() && value[end] != '/' && value[end] != ' ' && value[end] != '\t') {
    ++end;
  }
  return Lower(value.substr(0, end));
}

// Pattern in canonical escapes, keeping '*' and '$' as operators.
std::string CanonicalPattern(std::string_view p) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '*' || p[i] == '$') {
      out += CanonicalEscapes(p.substr(start, i - start));
      if (i < p.size()) out.push_back(p[i]);
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

RobotsRules RobotsRules::DisallowAll() {
  RobotsRules r;
  r.rules_.push_back({"/", false});
  return r;
}

RobotsRules RobotsRules::Parse(std::string_view body, std::string_view product_token) {
  body = body.substr(0, kMaxRobotsBytes);
  const std::string token = ProductToken(product_token);
  struct Group {
    bool ours = false;
    bool star = false;
    std::vector<Rule> rules;
    std::optional<double> delay;
  };
  std::vector<Group> groups;
  RobotsRules out;
  bool in_agents = false;  // the previous meaningful line was a user-agent line
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = Lower(Trim(line.substr(0, colon)));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (key == "user-agent") {
      if (!in_agents) groups.emplace_back();
      in_agents = true;
      const std::string agent = ProductToken(value);
      if (agent == "*") groups.back().star = true;
      if (!token.empty() && agent == token) groups.back().ours = true;
      continue;
    }
    if (key == "sitemap") {
      if (out.sitemaps_.size() < 100 && !value.empty()) out.sitemaps_.emplace_back(value);
      continue;
    }
    if (key != "allow" && key != "disallow" && key != "crawl-delay") continue;
    in_agents = false;
    if (groups.empty()) continue;  // rules before any user-agent line belong to no group
    Group& g = groups.back();
    if (key == "crawl-delay") {
      char* end = nullptr;
      const std::string v(value);
      const double d = std::strtod(v.c_str(), &end);
      if (end != v.c_str() && d >= 0 && d < 86400) g.delay = d;
      continue;
    }
    if (value.empty()) continue;  // "Disallow:" with no path allows everything
    if (g.rules.size() >= 10000) continue;
    g.rules.push_back({CanonicalPattern(value), key == "allow"});
  }
  bool any_ours = false;
  for (const Group& g : groups) any_ours = any_ours || g.ours;
  for (const Group& g : groups) {
    if (any_ours ? !g.ours : !g.star) continue;
    out.rules_.insert(out.rules_.end(), g.rules.begin(), g.rules.end());
    if (g.delay && !out.crawl_delay_) out.crawl_delay_ = g.delay;
  }
  return out;
}

bool RobotsRules::Matches(std::string_view pattern, std::string_view path) {
  bool anchored = false;
  if (!pattern.empty() && pattern.back() == '$') {
    anchored = true;
    pattern.remove_suffix(1);
  }
  // Wildcard match of `pattern` against a prefix of `path` (or all of it when anchored), with
  // backtracking only to the last '*': O(len(pattern) * len(path)) at worst.
  std::size_t p = 0, s = 0;
  std::size_t star = std::string_view::npos, star_s = 0;
  while (true) {
    if (p == pattern.size()) {
      if (!anchored || s == path.size()) return true;
      if (star == std::string_view::npos) return false;
      p = star + 1;
      s = ++star_s;
      if (s > path.size()) return false;
      continue;
    }
    if (pattern[p] == '*') {
      star = p++;
      star_s = s;
      continue;
    }
    if (s < path.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
      continue;
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    s = ++star_s;
    if (s > path.size()) return false;
  }
}

bool RobotsRules::IsAllowed(std::string_view path) const {
  if (path.empty()) path = "/";
  if (path == "/robots.txt") return true;
  const std::string canonical = CanonicalEscapes(path);
  std::size_t best_len = 0;
  bool best_allow = true;
  bool matched = false;
  for (const Rule& r : rules_) {
    const std::size_t len = r.pattern.size();
    if (matched && len < best_len) continue;
    if (!Matches(r.pattern, canonical)) continue;
    if (!matched || len > best_len || (len == best_len && r.allow)) {
      best_len = len;
      best_allow = r.allow;
      matched = true;
    }
  }
  return !matched || best_allow;
}

RobotsRules RulesFromFetch(const RobotsFetchOutcome& outcome, std::string_view product_token,
                           bool* unreachable) {
  const int s = outcome.http_status;
  bool down = false;
  RobotsRules rules;
  if (s >= 200 && s < 300) {
    rules = RobotsRules::Parse(outcome.body, product_token);
  } else if (s >= 400 && s < 500 && s != 429) {
    rules = RobotsRules::AllowAll();
  } else {
    down = true;
    rules = RobotsRules::DisallowAll();
  }
  if (unreachable != nullptr) *unreachable = down;
  return rules;
}

std::optional<RobotsRules> RobotsCache::Find(const std::string& origin, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(origin);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.rules;
}

void RobotsCache::Put(const std::string& origin, RobotsRules rules, bool unreachable,
                      Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= options_.max_hosts && !entries_.count(origin)) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    if (oldest != entries_.end()) entries_.erase(oldest);
  }
  const auto ttl = unreachable ? options_.unreachable_ttl : options_.ttl;
  entries_[origin] = Entry{std::move(rules), now + ttl};
}

}  // namespace lumen::retrieval
