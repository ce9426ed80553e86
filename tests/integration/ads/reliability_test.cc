// Issue item 8: 8 threads send 100,000 impression beacons — 20 % duplicates of other beacons,
// 5 % invalid (forged, garbled, never served, bot and missing user agents) — racing each other.
// The ledger must end with exactly one billable entry per genuine impression, spend equal to the
// sum of their prices, a verifying chain and balanced postings.
//
// Durability here is "normal" (WAL, fsync at checkpoints: survives a crash of the process, which
// the crash test checks); the benchmark measures "full".
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "ads/report.h"
#include "tests/integration/ads/ads_test_support.h"

namespace lumen::ads::testing {
namespace {

class ReliabilityTest : public AdsFixture {};

struct Beacon {
  std::string token;
  ClientInfo client;
};

TEST_F(ReliabilityTest, EightThreadsAHundredThousandBeaconsExactCountsAndSpend) {
  constexpr int kThreads = 8;
  constexpr int kTotal = 100'000;
  constexpr int kDuplicates = kTotal * 20 / 100;
  constexpr int kInvalid = kTotal * 5 / 100;
  constexpr int kGenuine = kTotal - kDuplicates - kInvalid;  // 75,000 billable
  constexpr int kPerKind = kInvalid / 5;

  // Five advertisers on the same keyword, five slots: every serve yields five impressions at
  // five different second prices.
  constexpr int kSlots = 5;
  for (int i = 0; i < kSlots; ++i) {
    AddCampaign(AddAdvertiser("adv" + std::to_string(i)), "running shoes", MatchType::kPhrase,
                3'000'000 - 250'000 * i, 1'000'000'000);
  }
  options_.slots = kSlots;
  options_.frequency_cap_session = 0;
  options_.frequency_cap_user_per_day = 0;
  StartServer();

  // Serve what the beacons need, from 8 threads too.
  const int needed = kGenuine + 2 * kPerKind;  // + bot and missing-UA impressions
  const int serves = (needed + kSlots - 1) / kSlots;
  std::vector<std::vector<std::string>> served(kThreads);
  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < serves; i += kThreads) {
          const ServeResult r = server_->Serve("best running shoes", Browser());
          for (const SponsoredSlot& s : r.slots) served[t].push_back(s.impression_token);
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  auto t1 = std::chrono::steady_clock::now();
  std::vector<std::string> tokens;
  for (auto& v : served) tokens.insert(tokens.end(), v.begin(), v.end());
  ASSERT_EQ(tokens.size(), static_cast<std::size_t>(serves * kSlots));
  tokens.resize(needed);

  const TokenSigner signer(TestKey());
  Nanos expected_spend = 0;
  std::vector<Beacon> beacons;
  const ClientInfo browser = BrowserClient();
  for (int i = 0; i < kGenuine; ++i) {
    beacons.push_back({tokens[i], browser});
    expected_spend += ImpressionCostNanos(
        signer.Verify(tokens[i], TokenKind::kImpression).token.price_cpm_micros);
  }
  std::mt19937_64 rng(20261130);
  for (int i = 0; i < kDuplicates; ++i) {
    beacons.push_back({tokens[rng() % kGenuine], browser});
  }
  const ImpressionToken sample = signer.Verify(tokens[0], TokenKind::kImpression).token;
  for (int i = 0; i < kPerKind; ++i) {
    beacons.push_back({tokens[kGenuine + i], {"Mozilla/5.0 (compatible; Googlebot/2.1)", "x"}});
    beacons.push_back({tokens[kGenuine + kPerKind + i], {"", "y"}});
    beacons.push_back(
        {TokenSigner(std::vector<std::uint8_t>(32, 9)).Sign(sample), browser});  // forged
    beacons.push_back({"garbled-" + std::to_string(i), browser});
    ImpressionToken unserved = sample;
    unserved.impression_id[0] ^= 0xff;
    unserved.impression_id[1] = static_cast<std::uint8_t>(i);
    unserved.impression_id[2] = static_cast<std::uint8_t>(i >> 8);
    beacons.push_back({signer.Sign(unserved), browser});
  }
  ASSERT_EQ(beacons.size(), static_cast<std::size_t>(kTotal));
  std::shuffle(beacons.begin(), beacons.end(), rng);

  t1 = std::chrono::steady_clock::now();
  // 8 threads, each keeping up to 256 beacons in flight.
  std::vector<std::array<int, 4>> counts(kThreads, std::array<int, 4>{});
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::deque<std::future<BeaconResult>> inflight;
        auto settle = [&] {
          counts[t][static_cast<int>(inflight.front().get().outcome)]++;
          inflight.pop_front();
        };
        for (int i = t; i < kTotal; i += kThreads) {
          inflight.push_back(server_->RecordImpressionAsync(beacons[i].token, beacons[i].client));
          if (inflight.size() >= 256) settle();
        }
        while (!inflight.empty()) settle();
      });
    }
    for (std::thread& t : threads) t.join();
  }
  auto t2 = std::chrono::steady_clock::now();
  std::printf("served %d slots in %.2f s; %d beacons in %.2f s\n", serves * kSlots,
              std::chrono::duration<double>(t1 - t0).count(), kTotal,
              std::chrono::duration<double>(t2 - t1).count());
  std::array<int, 4> total{};
  for (const auto& c : counts) {
    for (int k = 0; k < 4; ++k) total[k] += c[k];
  }
  EXPECT_EQ(total[static_cast<int>(BeaconOutcome::kBillable)], kGenuine);
  EXPECT_EQ(total[static_cast<int>(BeaconOutcome::kDuplicate)], kDuplicates);
  EXPECT_EQ(total[static_cast<int>(BeaconOutcome::kInvalid)], kInvalid);
  EXPECT_EQ(total[static_cast<int>(BeaconOutcome::kError)], 0);

  const VerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.billable, kGenuine);
  EXPECT_EQ(v.billed_nanos, expected_spend);
  EXPECT_EQ(v.entries, serves * kSlots + kTotal);
  std::map<std::string, Nanos> balances = *admin_->ListBalances();
  Nanos sum = 0;
  for (const auto& [account, balance] : balances) sum += balance;
  EXPECT_EQ(sum, 0);
  EXPECT_EQ(balances["platform:revenue:USD"], expected_spend);
  const std::vector<ReportRow> rows = *BuildReport(*admin_, ReportGrouping::kAdvertiser, {});
  std::int64_t billable = 0, invalid = 0;
  Nanos spend = 0;
  for (const ReportRow& r : rows) {
    billable += r.billable;
    invalid += r.invalid;
    spend += r.spend;
  }
  EXPECT_EQ(billable, kGenuine);
  EXPECT_EQ(spend, expected_spend);
  // Duplicates, bots and missing user agents refer to served impressions; forged, garbled and
  // unserved ones belong to no campaign.
  EXPECT_EQ(invalid, kDuplicates + 2 * kPerKind);
}

}  // namespace
}  // namespace lumen::ads::testing
