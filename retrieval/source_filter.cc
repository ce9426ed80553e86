#include "retrieval/source_filter.h"

#include <algorithm>

#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string StripWww(std::string host) {
  if (host.rfind("www.", 0) == 0) host.erase(0, 4);
  return host;
}

bool HostMatches(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  return host.size() > domain.size() && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

}  // namespace

std::string_view RecencyName(Recency recency) {
  switch (recency) {
    case Recency::kDay: return "day";
    case Recency::kWeek: return "week";
    case Recency::kMonth: return "month";
    case Recency::kYear: return "year";
    case Recency::kAny: break;
  }
  return "";
}

Result<Recency> ParseRecency(std::string_view text) {
  const std::string t = Lower(text);
  if (t.empty() || t == "any") return Recency::kAny;
  if (t == "day") return Recency::kDay;
  if (t == "week") return Recency::kWeek;
  if (t == "month") return Recency::kMonth;
  if (t == "year") return Recency::kYear;
  return InvalidArgument("recency must be one of day, week, month, year (got \"" +
                         std::string(text.substr(0, 40)) + "\")");
}

std::int64_t RecencySeconds(Recency recency) {
  switch (recency) {
    case Recency::kDay: return 86400;
    case Recency::kWeek: return 7 * 86400;
    case Recency::kMonth: return 31 * 86400;
    case Recency::kYear: return 366 * 86400;
    case Recency::kAny: break;
  }
  return 0;
}

Result<SourceFilter> SourceFilter::Parse(Recency recency, std::span<const std::string> domains) {
  if (domains.size() > 20) return InvalidArgument("domains: at most 20 entries");
  SourceFilter f;
  f.recency_ = recency;
  for (const std::string& raw : domains) {
    std::string_view d = raw;
    const bool exclude = !d.empty() && d.front() == '-';
    if (exclude) d.remove_prefix(1);
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    std::string host = StripWww(Lower(d));
    const bool valid =
        !host.empty() && host.size() <= 253 && host.front() != '.' && host.front() != '-' &&
        host.find("..") == std::string::npos && std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
        });
    if (!valid) {
      return InvalidArgument("domains: \"" + raw.substr(0, 80) +
                             "\" is not a host name (use \"example.com\" to restrict to a site, "
                             "\"-example.com\" to exclude it)");
    }
    (exclude ? f.exclude_ : f.include_).push_back(std::move(host));
  }
  std::sort(f.include_.begin(), f.include_.end());
  std::sort(f.exclude_.begin(), f.exclude_.end());
  return f;
}

bool SourceFilter::AllowsUrl(std::string_view url) const {
  if (include_.empty() && exclude_.empty()) return true;
  Result<UrlParts> parts = SplitUrl(url);
  const std::string host = parts.ok() ? Lower(parts->host) : "";
  for (const std::string& d : exclude_)
    if (!host.empty() && HostMatches(host, d)) return false;
  if (include_.empty()) return true;
  for (const std::string& d : include_)
    if (!host.empty() && HostMatches(host, d)) return true;
  return false;
}

bool SourceFilter::AllowsDate(std::int64_t published, std::int64_t now) const {
  if (recency_ == Recency::kAny || published <= 0) return true;
  return published >= now - RecencySeconds(recency_);
}

std::string SourceFilter::Key() const {
  std::string key(RecencyName(recency_));
  for (const std::string& d : include_) key += "|" + d;
  for (const std::string& d : exclude_) key += "|-" + d;
  return key;
}

}  // namespace lumen::retrieval
