#include "ads/money.h"

#include <cstdlib>

namespace lumen::ads {
namespace {

// Formats |value| / 10^decimals exactly, keeping at least two decimals.
std::string FormatScaled(std::int64_t value, int decimals) {
  const bool negative = value < 0;
  // Work in unsigned so INT64_MIN is fine.
  std::uint64_t v =
      negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string frac = std::to_string(v % scale);
  frac.insert(0, static_cast<std::size_t>(decimals) - frac.size(), '0');
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  return (negative ? "-" : "") + std::to_string(v / scale) + "." + frac;
}

}  // namespace

Result<Micros> ParseMoney(std::string_view text) {
  const std::string shown = "\"" + std::string(text.substr(0, 40)) + "\"";
  std::string_view t = text;
  bool negative = false;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  const std::size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : t.substr(dot + 1);
  if (whole.empty() && frac.empty()) return InvalidArgument("not an amount: " + shown);
  if (dot != std::string_view::npos && frac.empty()) {
    return InvalidArgument("not an amount: " + shown);
  }
  if (frac.size() > 6) {
    return InvalidArgument("amount " + shown + " has more than 6 decimals (the unit is a micro)");
  }
  std::int64_t value = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return InvalidArgument("not an amount: " + shown);
    value = value * 10 + (c - '0');
    if (value > kMaxBudgetMicros / kMicrosPerUnit) {
      return InvalidArgument("amount " + shown + " is too large");
    }
  }
  value *= kMicrosPerUnit;
  std::int64_t scale = kMicrosPerUnit / 10;
  for (const char c : frac) {
    if (c < '0' || c > '9') return InvalidArgument("not an amount: " + shown);
    value += (c - '0') * scale;
    scale /= 10;
  }
  if (value > kMaxBudgetMicros) return InvalidArgument("amount " + shown + " is too large");
  return negative ? -value : value;
}

std::string FormatMicros(Micros micros) {
  return FormatScaled(micros, 6);
}

std::string FormatNanos(Nanos nanos) {
  return FormatScaled(nanos, 9);
}

}  // namespace lumen::ads
