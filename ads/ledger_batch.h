// LedgerBatch: appends ledger entries inside one write transaction of an AdStore and keeps the
// derived state in step — hourly roll-ups, account balances and campaign spend — so that a
// committed transaction always leaves entries and everything derived from them consistent.
// Derived deltas are summed in memory and written once by Flush() (so a batch of ten thousand
// billable impressions costs a handful of roll-up updates, not ten thousand).
//
// Usage (single thread, store already in BeginWrite()):
//   LedgerBatch batch(store);
//   LUMEN_RETURN_IF_ERROR(batch.Start());
//   batch.Append(entry, day) ...;
//   LUMEN_RETURN_IF_ERROR(batch.Flush());
//   store.Commit();
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "ads/ledger.h"
#include "ads/store.h"

namespace lumen::ads {

// What an entry adds to its roll-up bucket (hour of its time, campaign, creative).
RollupRow RollupEffect(const LedgerEntry& e);

class LedgerBatch {
 public:
  explicit LedgerBatch(AdStore& store) : store_(store) {}

  // Reads the chain head. Call once, right after BeginWrite().
  Status Start();

  // Assigns the next sequence number, the postings and the chain hash, stores the entry and
  // accumulates its effects. A billable entry adds its amount to the campaign's spend for
  // `budget_day` (the UTC day of the serve) and releases the same amount of reservation.
  Status Append(LedgerEntry& e, std::int64_t budget_day = 0);

  // Reservation changes that are not entries (a serve reserves; an expiry releases).
  void AddReserved(std::int64_t campaign_id, std::int64_t day, Nanos delta);

  // Spend deltas of this batch not yet flushed, to add to what the store says.
  CampaignSpend PendingSpend(std::int64_t campaign_id, std::int64_t day) const;

  // Writes accumulated roll-ups, balances and spend. Call before Commit().
  Status Flush();

  std::int64_t head_seq() const { return seq_; }
  const Digest& head_hash() const { return hash_; }

 private:
  AdStore& store_;
  std::int64_t seq_ = 0;
  Digest hash_{};
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, RollupRow> rollups_;
  std::map<std::string, Nanos> balances_;
  std::map<std::pair<std::int64_t, std::int64_t>, CampaignSpend> spend_;  // (campaign, day)
};

}  // namespace lumen::ads
