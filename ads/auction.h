// The auction for one question: a generalized second-price auction ranked by bid x relevance.
//
//   1. Candidates under the quality threshold are dropped (no ad rather than an irrelevant ad),
//      as are those bidding under the reserve or unable to afford even the reserve. Each
//      advertiser keeps only its best candidate (one slot per advertiser per answer).
//   2. The rest are ranked by score = bid (micros) x relevance (ppm), ties broken by a hash of
//      (seed, campaign id) — deterministic for a given seed, fair across requests.
//   3. The top `slots` win. Winner k pays the least CPM that keeps its rank:
//      ceil(score[k+1] / relevance[k]), at least the reserve, never above its own bid; the last
//      ranked candidate pays the reserve.
//   4. A winner whose price exceeds what it can still afford is excluded and the auction reruns
//      without it (prices of the others can only change for the better).
//
// All integer arithmetic; a pure function, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ads/money.h"

namespace lumen::ads {

struct AuctionCandidate {
  std::int64_t campaign_id = 0;
  std::int64_t advertiser_id = 0;
  Micros bid_cpm_micros = 0;
  std::int64_t relevance_ppm = 0;  // 0..kRelevanceScale
  // The most this campaign can pay for one more impression right now (remaining total and
  // daily budget after reservations), in nanos.
  Nanos affordable_nanos = 0;
};

struct AuctionParams {
  int slots = 1;
  Micros reserve_cpm_micros = 0;
  std::int64_t quality_threshold_ppm = 0;
  std::uint64_t seed = 0;
};

struct AuctionWinner {
  std::size_t candidate = 0;  // index into the candidates passed in
  int slot = 0;               // 1-based position
  Micros price_cpm_micros = 0;
};

// Winners in slot order (at most params.slots; empty when nobody qualifies).
std::vector<AuctionWinner> RunAuction(std::span<const AuctionCandidate> candidates,
                                      const AuctionParams& params);

}  // namespace lumen::ads
