#include "ads/ledger_batch.h"

#include <cstdint>
#include <limits>

namespace lumen::ads {

RollupRow RollupEffect(const LedgerEntry& e) {
  RollupRow r;
  r.hour = HourOf(e.time_us);
  r.advertiser_id = e.advertiser_id;
  r.campaign_id = e.campaign_id;
  r.creative_id = e.creative_id;
  switch (e.kind) {
    case EntryKind::kServed: r.served = 1; break;
    case EntryKind::kBillable:
      r.billable = 1;
      r.spend = e.amount_nanos;
      break;
    case EntryKind::kClick: r.clicks = 1; break;
    case EntryKind::kInvalid: r.invalid = 1; break;
    case EntryKind::kAdjustment: r.spend = e.amount_nanos; break;
  }
  return r;
}

Status LedgerBatch::Start() {
  LUMEN_ASSIGN_OR_RETURN(std::optional<LedgerEntry> head, store_.LastEntry());
  seq_ = head ? head->seq : 0;
  hash_ = head ? head->hash : Digest{};
  rollups_.clear();
  balances_.clear();
  spend_.clear();
  return Status::Ok();
}

Status LedgerBatch::Append(LedgerEntry& e, std::int64_t budget_day) {
  e.seq = seq_ + 1;
  e.prev_hash = hash_;
  e.postings = ExpectedPostings(e);
  e.hash = ChainHash(e.prev_hash, e);
  LUMEN_RETURN_IF_ERROR(store_.AppendEntry(e));
  seq_ = e.seq;
  hash_ = e.hash;

  const RollupRow d = RollupEffect(e);
  RollupRow& r = rollups_[{d.hour, d.campaign_id, d.creative_id}];
  r.hour = d.hour;
  r.advertiser_id = d.advertiser_id;
  r.campaign_id = d.campaign_id;
  r.creative_id = d.creative_id;
  r.served += d.served;
  r.billable += d.billable;
  r.clicks += d.clicks;
  r.invalid += d.invalid;
  r.spend += d.spend;
  for (const Posting& p : e.postings) balances_[p.account] += p.amount;
  if (e.kind == EntryKind::kBillable) {
    CampaignSpend& s = spend_[{e.campaign_id, budget_day}];
    s.spent += e.amount_nanos;
    s.reserved -= e.amount_nanos;
  }
  return Status::Ok();
}

void LedgerBatch::AddReserved(std::int64_t campaign_id, std::int64_t day, Nanos delta) {
  spend_[{campaign_id, day}].reserved += delta;
}

CampaignSpend LedgerBatch::PendingSpend(std::int64_t campaign_id, std::int64_t day) const {
  CampaignSpend out;
  for (auto it = spend_.lower_bound({campaign_id, std::numeric_limits<std::int64_t>::min()});
       it != spend_.end() && it->first.first == campaign_id; ++it) {
    out.spent += it->second.spent;
    out.reserved += it->second.reserved;
    if (it->first.second == day) {
      out.day_spent += it->second.spent;
      out.day_reserved += it->second.reserved;
    }
  }
  return out;
}

Status LedgerBatch::Flush() {
  for (const auto& [key, r] : rollups_) LUMEN_RETURN_IF_ERROR(store_.AddRollup(r));
  for (const auto& [account, delta] : balances_) {
    LUMEN_RETURN_IF_ERROR(store_.AddBalance(account, delta));
  }
  for (const auto& [key, s] : spend_) {
    LUMEN_RETURN_IF_ERROR(store_.AddSpend(key.first, key.second, s.spent, s.reserved));
  }
  rollups_.clear();
  balances_.clear();
  spend_.clear();
  return Status::Ok();
}

}  // namespace lumen::ads
