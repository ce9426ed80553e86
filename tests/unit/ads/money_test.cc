#include "ads/money.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

TEST(Money, ParsesDecimalAmountsIntoMicros) {
  EXPECT_EQ(*ParseMoney("2.50"), 2'500'000);
  EXPECT_EQ(*ParseMoney("0.000001"), 1);
  EXPECT_EQ(*ParseMoney("1000"), 1'000'000'000);
  EXPECT_EQ(*ParseMoney("-3.2"), -3'200'000);
  EXPECT_EQ(*ParseMoney(".5"), 500'000);
}

TEST(Money, RejectsMalformedOrOverPreciseAmounts) {
  for (const char* bad :
       {"", "-", "abc", "1.", "1.2.3", "1e6", "1,000", "0.0000001", " 1", "99999999999999"}) {
    EXPECT_FALSE(ParseMoney(bad).ok()) << bad;
  }
}

TEST(Money, FormatsExactlyWithAtLeastTwoDecimals) {
  EXPECT_EQ(FormatMicros(2'500'000), "2.50");
  EXPECT_EQ(FormatMicros(2'500), "0.0025");
  EXPECT_EQ(FormatMicros(-1), "-0.000001");
  EXPECT_EQ(FormatMicros(0), "0.00");
  EXPECT_EQ(FormatNanos(2'500), "0.0000025");
}

TEST(Money, AMillionImpressionsAtTwoFiftyCostExactlyTwentyFiveHundred) {
  Nanos total = 0;
  for (int i = 0; i < 1'000'000; ++i) total += ImpressionCostNanos(*ParseMoney("2.50"));
  EXPECT_EQ(total, MicrosToNanos(*ParseMoney("2500")));
  EXPECT_EQ(FormatNanos(total), "2500.00");
}

TEST(Money, CostsThatAreNotWholeMicrosStillSumExactly) {
  // CPM 0.001001 = 1001 micros: one impression costs 1.001 micros.
  Nanos total = 0;
  for (int i = 0; i < 3000; ++i) total += ImpressionCostNanos(1001);
  EXPECT_EQ(FormatNanos(total), "0.003003");
}

}  // namespace
}  // namespace lumen::ads
