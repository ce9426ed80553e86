// Money in the ad system. Conventions, stated once:
//
//   * Bids, prices, budgets and everything an advertiser types are integer *micros*
//     (1e-6 of the advertiser's currency unit): a CPM of 2.50 is 2'500'000 micros.
//   * The ledger counts what impressions cost in *nanos* (1e-9 of the unit, i.e. 1/1000 micro).
//     One impression at a CPM of P micros costs exactly P nanos, so the cost of every impression
//     is an integer and sums are exact: 1'000'000 impressions at CPM 2.50 cost
//     1e6 * 2'500'000 nanos = 2'500'000'000 micros = 2,500.00, with no rounding anywhere.
//   * No floating point touches money. Formatting prints the exact decimal value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lumen::ads {

using Micros = std::int64_t;
using Nanos = std::int64_t;

inline constexpr std::int64_t kNanosPerMicro = 1000;
inline constexpr Micros kMicrosPerUnit = 1'000'000;

// Largest CPM bid accepted (10,000.00 per thousand impressions) and largest budget
// (1,000,000,000.00): keeps every product and sum far inside int64.
inline constexpr Micros kMaxCpmMicros = 10'000 * kMicrosPerUnit;
inline constexpr Micros kMaxBudgetMicros = 1'000'000'000 * kMicrosPerUnit;

// What one impression costs at a CPM of `cpm` micros.
inline constexpr Nanos ImpressionCostNanos(Micros cpm) {
  return cpm;
}
inline constexpr Nanos MicrosToNanos(Micros m) {
  return m * kNanosPerMicro;
}

// Parses a decimal amount in currency units ("2.50", "0.000001", "1000", "-3.2") into micros.
// At most 6 decimals; no exponent, no thousands separators. Errors: empty, malformed, more than
// 6 decimals, or beyond +/- kMaxBudgetMicros.
Result<Micros> ParseMoney(std::string_view text);

// Exact decimal text with at least two decimals and trailing zeros trimmed after that:
// 2'500'000 micros -> "2.50", 2'500 -> "0.0025", -1 -> "-0.000001".
std::string FormatMicros(Micros micros);
// Same for nanos (up to nine decimals): 2'500'000'000'000 -> "2500.00", 2'500 -> "0.0000025".
std::string FormatNanos(Nanos nanos);

}  // namespace lumen::ads
