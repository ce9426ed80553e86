#include "ads/ledger.h"

#include <charconv>
#include <cstdio>

namespace lumen::ads {
namespace {

constexpr std::string_view kEntryKinds[] = {"served", "billable", "click", "invalid", "adjustment"};

void PutInt(std::string& out, std::string_view name, std::int64_t v) {
  out.append(name);
  out.push_back('=');
  out.append(std::to_string(v));
  out.push_back(';');
}

void PutString(std::string& out, std::string_view name, std::string_view v) {
  out.append(name);
  out.push_back('=');
  out.append(std::to_string(v.size()));
  out.push_back(':');
  out.append(v);
  out.push_back(';');
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

}  // namespace

std::string_view Name(EntryKind k) {
  return kEntryKinds[static_cast<int>(k)];
}

Result<EntryKind> ParseEntryKind(std::string_view s) {
  for (int i = 0; i < 5; ++i) {
    if (kEntryKinds[i] == s) return static_cast<EntryKind>(i);
  }
  return Corruption("unknown ledger entry kind \"" + std::string(s.substr(0, 20)) + "\"");
}

std::string CampaignAccount(std::int64_t advertiser_id, std::int64_t campaign_id) {
  return "advertiser:" + std::to_string(advertiser_id) + "/campaign:" + std::to_string(campaign_id);
}

std::string RevenueAccount(std::string_view currency) {
  return "platform:revenue:" + std::string(currency);
}

std::vector<Posting> ExpectedPostings(const LedgerEntry& e) {
  if ((e.kind != EntryKind::kBillable && e.kind != EntryKind::kAdjustment) || e.amount_nanos == 0) {
    return {};
  }
  return {{CampaignAccount(e.advertiser_id, e.campaign_id), -e.amount_nanos},
          {RevenueAccount(e.currency), e.amount_nanos}};
}

std::string CanonicalBytes(const LedgerEntry& e) {
  std::string out = "lumen-ads-ledger/1;";
  out.reserve(256);
  PutInt(out, "seq", e.seq);
  PutInt(out, "time_us", e.time_us);
  PutString(out, "kind", Name(e.kind));
  PutInt(out, "advertiser", e.advertiser_id);
  PutInt(out, "campaign", e.campaign_id);
  PutInt(out, "creative", e.creative_id);
  PutString(out, "impression", e.impression_id);
  PutInt(out, "slot", e.slot);
  PutInt(out, "price_cpm_micros", e.price_cpm_micros);
  PutInt(out, "amount_nanos", e.amount_nanos);
  PutString(out, "currency", e.currency);
  PutString(out, "detail", e.detail);
  PutInt(out, "postings", static_cast<std::int64_t>(e.postings.size()));
  for (const Posting& p : e.postings) {
    PutString(out, "account", p.account);
    PutInt(out, "amount", p.amount);
  }
  return out;
}

Digest ChainHash(const Digest& prev, const LedgerEntry& e) {
  return Sha256Concat(prev, AsBytes(CanonicalBytes(e)));
}

std::int64_t HourOf(std::int64_t time_us) {
  return FloorDiv(time_us, 3'600'000'000LL);
}

std::int64_t DayOf(std::int64_t time_us) {
  return FloorDiv(time_us, 86'400'000'000LL);
}

std::string FormatDay(std::int64_t day) {
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string FormatHour(std::int64_t hour) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "T%02lld:00Z",
                static_cast<long long>(hour - FloorDiv(hour, 24) * 24));
  return FormatDay(FloorDiv(hour, 24)) + buf;
}

Result<std::int64_t> ParseTime(std::string_view text) {
  const std::string shown = "\"" + std::string(text.substr(0, 40)) + "\"";
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > text.size()) return false;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && end == text.data() + pos + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!num(0, 4, y) || text.size() < 10 || text[4] != '-' || !num(5, 2, mo) || text[7] != '-' ||
      !num(8, 2, d) || mo < 1 || mo > 12 || d < 1 || d > 31) {
    return InvalidArgument("not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z): " + shown);
  }
  std::string_view rest = text.substr(10);
  if (!rest.empty()) {
    if ((rest[0] != 'T' && rest[0] != ' ') || !num(11, 2, h) || text.size() < 16 ||
        text[13] != ':' || !num(14, 2, mi) || h > 23 || mi > 59) {
      return InvalidArgument("not a time (YYYY-MM-DDTHH:MM[:SS]Z): " + shown);
    }
    rest = text.substr(16);
    if (!rest.empty() && rest[0] == ':') {
      if (!num(17, 2, s) || s > 59) return InvalidArgument("not a time: " + shown);
      rest = text.substr(19);
    }
    if (rest == "Z") rest = {};
    if (!rest.empty()) return InvalidArgument("times are UTC; expected Z at the end of " + shown);
  }
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60'000'000LL + s * 1'000'000LL;
}

}  // namespace lumen::ads
