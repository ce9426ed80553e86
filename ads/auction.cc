#include "ads/auction.h"

#include <algorithm>
#include <map>

namespace lumen::ads {
namespace {

std::uint64_t Mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Ranked {
  std::size_t index;
  std::int64_t score;
  std::uint64_t tie;
};

bool Before(const Ranked& a, const Ranked& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.tie < b.tie;
}

}  // namespace

std::vector<AuctionWinner> RunAuction(std::span<const AuctionCandidate> candidates,
                                      const AuctionParams& params) {
  if (params.slots <= 0) return {};
  // Best candidate per advertiser among those that qualify.
  std::map<std::int64_t, Ranked> best;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const AuctionCandidate& c = candidates[i];
    if (c.relevance_ppm <= 0 || c.relevance_ppm < params.quality_threshold_ppm) continue;
    if (c.bid_cpm_micros <= 0 || c.bid_cpm_micros < params.reserve_cpm_micros) continue;
    if (c.affordable_nanos < ImpressionCostNanos(std::max<Micros>(params.reserve_cpm_micros, 1))) {
      continue;
    }
    const Ranked r{i, c.bid_cpm_micros * c.relevance_ppm,
                   Mix(params.seed ^ Mix(static_cast<std::uint64_t>(c.campaign_id)))};
    auto [it, inserted] = best.emplace(c.advertiser_id, r);
    if (!inserted && Before(r, it->second)) it->second = r;
  }
  std::vector<Ranked> ranked;
  for (const auto& [adv, r] : best) ranked.push_back(r);
  std::sort(ranked.begin(), ranked.end(), Before);

  for (;;) {
    std::vector<AuctionWinner> winners;
    std::size_t unaffordable = ranked.size();
    const std::size_t n =
        std::min<std::size_t>(ranked.size(), static_cast<std::size_t>(params.slots));
    for (std::size_t k = 0; k < n; ++k) {
      const AuctionCandidate& c = candidates[ranked[k].index];
      Micros price = params.reserve_cpm_micros;
      if (k + 1 < ranked.size()) {
        const std::int64_t next = ranked[k + 1].score;
        price = std::max(price, (next + c.relevance_ppm - 1) / c.relevance_ppm);
      }
      price = std::min(std::max<Micros>(price, 1), c.bid_cpm_micros);
      if (ImpressionCostNanos(price) > c.affordable_nanos) {
        unaffordable = k;
        break;
      }
      winners.push_back({ranked[k].index, static_cast<int>(k) + 1, price});
    }
    if (unaffordable == ranked.size()) return winners;
    ranked.erase(ranked.begin() + static_cast<long>(unaffordable));
  }
}

}  // namespace lumen::ads
