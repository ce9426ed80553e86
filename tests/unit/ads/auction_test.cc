#include "ads/auction.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

constexpr Nanos kRich = 1'000'000'000'000;

AuctionCandidate C(std::int64_t id, Micros bid, std::int64_t rel, Nanos affordable = kRich) {
  return {id, id, bid, rel, affordable};
}

TEST(Auction, RanksByBidTimesRelevanceAndChargesTheSecondPrice) {
  // Scores: 1: 2.00 x 0.9 = 1.8; 2: 3.00 x 0.5 = 1.5; 3: 1.00 x 1.0 = 1.0
  const std::vector<AuctionCandidate> c = {C(1, 2'000'000, 900'000), C(2, 3'000'000, 500'000),
                                           C(3, 1'000'000, 1'000'000)};
  const auto w = RunAuction(c, {.slots = 2, .reserve_cpm_micros = 100'000});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].candidate, 0u);
  EXPECT_EQ(w[0].slot, 1);
  // Least CPM keeping rank 1: 1.5 / 0.9 = 1.666667 (rounded up to the micro).
  EXPECT_EQ(w[0].price_cpm_micros, 1'666'667);
  EXPECT_EQ(w[1].candidate, 1u);
  EXPECT_EQ(w[1].price_cpm_micros, 2'000'000);  // 1.0 / 0.5
}

TEST(Auction, PriceIsAtLeastTheReserveAndNeverAboveTheBid) {
  const auto alone = RunAuction(std::vector{C(1, 2'000'000, 900'000)},
                                {.slots = 1, .reserve_cpm_micros = 500'000});
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].price_cpm_micros, 500'000);
  const auto under =
      RunAuction(std::vector{C(1, 400'000, 900'000)}, {.slots = 1, .reserve_cpm_micros = 500'000});
  EXPECT_TRUE(under.empty());
  // Equal scores: the winner pays its own bid (the least price that keeps its rank), no more.
  const auto tie = RunAuction(std::vector{C(1, 1'000'000, 800'000), C(2, 1'000'000, 800'000)},
                              {.slots = 1, .reserve_cpm_micros = 0});
  ASSERT_EQ(tie.size(), 1u);
  EXPECT_EQ(tie[0].price_cpm_micros, 1'000'000);
}

TEST(Auction, QualityThresholdMeansNoAdRatherThanAnIrrelevantOne) {
  const auto w = RunAuction(std::vector{C(1, 9'000'000, 300'000)},
                            {.slots = 1, .quality_threshold_ppm = 500'000});
  EXPECT_TRUE(w.empty());
}

TEST(Auction, CampaignsThatCannotAffordThePriceAreExcluded) {
  // Candidate 1 would win at 1.666667 but can afford only 1.0 per thousand.
  const std::vector<AuctionCandidate> c = {C(1, 2'000'000, 900'000, 1'000'000),
                                           C(2, 3'000'000, 500'000), C(3, 1'000'000, 1'000'000)};
  const auto w = RunAuction(c, {.slots = 1, .reserve_cpm_micros = 100'000});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].candidate, 1u);
  EXPECT_EQ(w[0].price_cpm_micros, 2'000'000);
  // Nobody can afford the reserve: no ad.
  EXPECT_TRUE(RunAuction(std::vector{C(1, 2'000'000, 900'000, 10)},
                         {.slots = 1, .reserve_cpm_micros = 100'000})
                  .empty());
}

TEST(Auction, OneSlotPerAdvertiserAndAtMostNSlots) {
  std::vector<AuctionCandidate> c = {C(1, 2'000'000, 900'000), C(2, 1'500'000, 900'000),
                                     C(3, 1'000'000, 900'000), C(4, 900'000, 900'000)};
  c[1].advertiser_id = 1;  // same advertiser as campaign 1
  const auto w = RunAuction(c, {.slots = 2});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(c[w[0].candidate].campaign_id, 1);
  EXPECT_EQ(c[w[1].candidate].campaign_id, 3);
  EXPECT_TRUE(RunAuction(c, {.slots = 0}).empty());
}

TEST(Auction, TiesAreBrokenDeterministicallyBySeed) {
  std::vector<AuctionCandidate> c;
  for (int i = 1; i <= 20; ++i) c.push_back(C(i, 1'000'000, 800'000));
  const auto a = RunAuction(c, {.slots = 1, .seed = 7});
  const auto b = RunAuction(c, {.slots = 1, .seed = 7});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].candidate, b[0].candidate);
  bool differs = false;
  for (std::uint64_t seed = 0; seed < 50 && !differs; ++seed) {
    differs = RunAuction(c, {.slots = 1, .seed = seed})[0].candidate != a[0].candidate;
  }
  EXPECT_TRUE(differs) << "different seeds should spread ties across campaigns";
}

}  // namespace
}  // namespace lumen::ads
