#include "ads/ledger.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

LedgerEntry Billable() {
  LedgerEntry e;
  e.seq = 5;
  e.time_us = 1'790'000'000'000'000;
  e.kind = EntryKind::kBillable;
  e.advertiser_id = 3;
  e.campaign_id = 4;
  e.creative_id = 9;
  e.impression_id = std::string(32, 'a');
  e.slot = 1;
  e.price_cpm_micros = 2'500'000;
  e.amount_nanos = 2'500'000;
  e.currency = "USD";
  e.postings = ExpectedPostings(e);
  return e;
}

TEST(Ledger, BillablePostingsMoveTheCostFromTheCampaignToRevenueAndBalance) {
  const std::vector<Posting> p = ExpectedPostings(Billable());
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (Posting{"advertiser:3/campaign:4", -2'500'000}));
  EXPECT_EQ(p[1], (Posting{"platform:revenue:USD", 2'500'000}));
  LedgerEntry served = Billable();
  served.kind = EntryKind::kServed;
  EXPECT_TRUE(ExpectedPostings(served).empty());
}

TEST(Ledger, EveryFieldChangesTheHash) {
  const Digest prev{};
  const Digest base = ChainHash(prev, Billable());
  std::vector<LedgerEntry> variants(12, Billable());
  variants[0].seq++;
  variants[1].time_us++;
  variants[2].kind = EntryKind::kClick;
  variants[3].advertiser_id++;
  variants[4].campaign_id++;
  variants[5].creative_id++;
  variants[6].impression_id[0] = 'b';
  variants[7].slot++;
  variants[8].price_cpm_micros++;
  variants[9].amount_nanos++;
  variants[10].detail = "x";
  variants[11].postings[0].amount--;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(ChainHash(prev, variants[i]), base) << i;
  }
  Digest other{};
  other[0] = 1;
  EXPECT_NE(ChainHash(other, Billable()), base);
}

TEST(Ledger, CanonicalBytesAreUnambiguous) {
  // Moving a character between adjacent strings must change the encoding.
  LedgerEntry a = Billable(), b = Billable();
  a.currency = "USDx";
  a.detail = "";
  b.currency = "USD";
  b.detail = "x";
  EXPECT_NE(CanonicalBytes(a), CanonicalBytes(b));
}

TEST(Ledger, HoursDaysAndTimesAreUtc) {
  const std::int64_t t = *ParseTime("2026-11-30T04:30:15Z");
  EXPECT_EQ(FormatDay(DayOf(t)), "2026-11-30");
  EXPECT_EQ(FormatHour(HourOf(t)), "2026-11-30T04:00Z");
  EXPECT_EQ(*ParseTime("1970-01-01"), 0);
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(FormatDay(-1), "1969-12-31");
  for (const char* bad :
       {"", "2026-13-01", "2026-11-30T25:00", "yesterday", "2026-11-30T04:00+02"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace lumen::ads
