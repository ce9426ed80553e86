#include "ads/ledger_verify.h"

#include <map>
#include <tuple>
#include <unordered_map>

#include "ads/ledger_batch.h"

namespace lumen::ads {
namespace {

struct ImpressionSeen {
  std::int64_t served_seq = 0;
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  Micros price = 0;
  std::int64_t budget_day = 0;
  std::int64_t billed_seq = 0;
  std::int64_t click_seq = 0;
};

using BucketKey = std::tuple<std::int64_t, std::int64_t, std::int64_t>;

class Walker {
 public:
  Status Visit(const LedgerEntry& e) {
    ++report.entries;
    const std::string where = "entry " + std::to_string(e.seq) + " (" + std::string(Name(e.kind)) +
                              (e.impression_id.empty() ? "" : ", impression " + e.impression_id) +
                              ")";
    auto bad = [&](const std::string& what) {
      report.first_bad_seq = e.seq;
      report.problem = where + ": " + what;
      return Status(StatusCode::kCorruption, report.problem);  // stops the scan
    };
    if (e.seq != expected_seq_) {
      return bad("sequence number out of order (expected " + std::to_string(expected_seq_) + ")");
    }
    if (e.prev_hash != prev_) return bad("prev_hash does not match the previous entry's hash");
    if (ChainHash(e.prev_hash, e) != e.hash) {
      return bad("hash does not match the entry's contents (the entry was altered)");
    }
    Nanos sum = 0;
    for (const Posting& p : e.postings) sum += p.amount;
    if (sum != 0) return bad("postings do not balance (sum " + std::to_string(sum) + ")");
    if (e.postings != ExpectedPostings(e)) {
      return bad("postings differ from what the entry's kind and amount require");
    }
    switch (e.kind) {
      case EntryKind::kServed: {
        if (e.amount_nanos != 0 || e.price_cpm_micros <= 0 || e.impression_id.size() != 32) {
          return bad("a served entry needs an impression id, a positive price and no amount");
        }
        auto [it, inserted] = impressions_.try_emplace(e.impression_id);
        if (!inserted) return bad("impression served twice");
        it->second = {e.seq, e.campaign_id, e.creative_id, e.price_cpm_micros, DayOf(e.time_us)};
        break;
      }
      case EntryKind::kBillable: {
        auto it = impressions_.find(e.impression_id);
        if (it == impressions_.end()) return bad("billable impression that was never served");
        ImpressionSeen& s = it->second;
        if (s.billed_seq != 0) {
          return bad("impression billed twice (first at entry " + std::to_string(s.billed_seq) +
                     ")");
        }
        if (e.campaign_id != s.campaign_id || e.creative_id != s.creative_id ||
            e.price_cpm_micros != s.price || e.amount_nanos != ImpressionCostNanos(s.price)) {
          return bad("billed at a price or for a creative other than the one served");
        }
        s.billed_seq = e.seq;
        ++report.billable;
        report.billed_nanos += e.amount_nanos;
        spent_[e.campaign_id] += e.amount_nanos;
        day_spent_[{e.campaign_id, s.budget_day}] += e.amount_nanos;
        first_spend_seq_.try_emplace(e.campaign_id, e.seq);
        break;
      }
      case EntryKind::kClick: {
        auto it = impressions_.find(e.impression_id);
        if (it == impressions_.end() || it->second.billed_seq == 0) {
          return bad("click counted on an impression that was not billable");
        }
        if (it->second.click_seq != 0) return bad("click counted twice for one impression");
        it->second.click_seq = e.seq;
        break;
      }
      case EntryKind::kInvalid:
        if (e.amount_nanos != 0) return bad("an invalid entry must not carry an amount");
        if (e.detail.empty()) return bad("an invalid entry must say why");
        break;
      case EntryKind::kAdjustment:
        if (e.campaign_id <= 0 || e.amount_nanos == 0 || e.detail.empty()) {
          return bad("an adjustment needs a campaign, an amount and a memo");
        }
        report.adjustments_nanos += e.amount_nanos;
        break;
    }
    const RollupRow d = RollupEffect(e);
    const BucketKey key{d.hour, d.campaign_id, d.creative_id};
    RollupRow& r =
        rollups_.try_emplace(key, RollupRow{d.hour, d.advertiser_id, d.campaign_id, d.creative_id})
            .first->second;
    first_seq_in_bucket_.try_emplace(key, e.seq);
    r.served += d.served;
    r.billable += d.billable;
    r.clicks += d.clicks;
    r.invalid += d.invalid;
    r.spend += d.spend;
    for (const Posting& p : e.postings) {
      balances_[p.account] += p.amount;
      last_posting_seq_[p.account] = e.seq;
    }
    prev_ = e.hash;
    ++expected_seq_;
    return Status::Ok();
  }

  VerifyReport report;
  std::int64_t expected_seq_ = 1;
  Digest prev_{};
  std::unordered_map<std::string, ImpressionSeen> impressions_;
  std::map<BucketKey, RollupRow> rollups_;
  std::map<BucketKey, std::int64_t> first_seq_in_bucket_;
  std::map<std::string, Nanos> balances_;
  std::map<std::string, std::int64_t> last_posting_seq_;
  std::map<std::int64_t, Nanos> spent_;
  std::map<std::pair<std::int64_t, std::int64_t>, Nanos> day_spent_;
  std::map<std::int64_t, std::int64_t> first_spend_seq_;
};

Status Compare(AdStore& store, Walker& w) {
  VerifyReport& r = w.report;
  auto fail = [&](std::int64_t seq, const std::string& what) {
    r.first_bad_seq = seq;
    r.problem = what;
    return Status::Ok();
  };
  // Roll-ups, both ways.
  LUMEN_ASSIGN_OR_RETURN(std::vector<RollupRow> stored, store.ListRollups());
  std::map<BucketKey, RollupRow> stored_map;
  for (const RollupRow& row : stored) {
    stored_map[{row.hour, row.campaign_id, row.creative_id}] = row;
  }
  for (const auto& [key, derived] : w.rollups_) {
    auto it = stored_map.find(key);
    if (it == stored_map.end() || !(it->second == derived)) {
      return fail(w.first_seq_in_bucket_[key],
                  "roll-up for hour " + FormatHour(std::get<0>(key)) + ", campaign " +
                      std::to_string(std::get<1>(key)) + ", creative " +
                      std::to_string(std::get<2>(key)) +
                      " differs from the entries (first entry in that hour shown)");
    }
  }
  for (const auto& [key, row] : stored_map) {
    if (!w.rollups_.count(key)) {
      return fail(0, "roll-up for hour " + FormatHour(std::get<0>(key)) + ", campaign " +
                         std::to_string(std::get<1>(key)) + " has no entries behind it");
    }
  }
  // Balances.
  LUMEN_ASSIGN_OR_RETURN(auto balances, store.ListBalances());
  for (const auto& [account, derived] : w.balances_) {
    auto it = balances.find(account);
    if (it == balances.end() || it->second != derived) {
      return fail(w.last_posting_seq_[account], "balance of " + account +
                                                    " differs from its postings (derived " +
                                                    FormatNanos(derived) + ")");
    }
  }
  Nanos total = 0;
  for (const auto& [account, balance] : balances) {
    total += balance;
    if (!w.balances_.count(account) && balance != 0) {
      return fail(0, "balance of " + account + " has no postings behind it");
    }
  }
  if (total != 0) return fail(0, "account balances do not sum to zero");
  // Campaign spend and budgets.
  LUMEN_ASSIGN_OR_RETURN(auto spend, store.ListSpend());
  LUMEN_ASSIGN_OR_RETURN(auto open, store.OpenReservations());
  LUMEN_ASSIGN_OR_RETURN(std::vector<Campaign> campaigns, store.ListCampaigns());
  std::map<std::int64_t, const Campaign*> by_id;
  for (const Campaign& c : campaigns) by_id[c.id] = &c;
  for (const auto& [campaign, derived] : w.spent_) {
    const Nanos stored_spent = spend.count(campaign) ? spend[campaign].spent : 0;
    if (stored_spent != derived) {
      return fail(w.first_spend_seq_[campaign], "spend of campaign " + std::to_string(campaign) +
                                                    " (" + FormatNanos(stored_spent) +
                                                    ") differs from its billable entries (" +
                                                    FormatNanos(derived) + ")");
    }
    auto c = by_id.find(campaign);
    if (c != by_id.end() && derived > MicrosToNanos(c->second->total_budget_micros)) {
      return fail(0, "campaign " + std::to_string(campaign) + " spent " + FormatNanos(derived) +
                         ", more than its total budget");
    }
  }
  for (const auto& [key, derived] : w.day_spent_) {
    auto c = by_id.find(key.first);
    if (c != by_id.end() && c->second->daily_budget_micros > 0 &&
        derived > MicrosToNanos(c->second->daily_budget_micros)) {
      return fail(0, "campaign " + std::to_string(key.first) + " spent " + FormatNanos(derived) +
                         " on " + FormatDay(key.second) + ", more than its daily budget");
    }
  }
  for (const auto& [campaign, s] : spend) {
    if (s.spent != 0 && !w.spent_.count(campaign)) {
      return fail(0,
                  "campaign " + std::to_string(campaign) + " has spend without billable entries");
    }
    const Nanos reserved = open.count(campaign) ? open[campaign] : 0;
    if (s.reserved != reserved) {
      return fail(0, "reservations of campaign " + std::to_string(campaign) + " (" +
                         FormatNanos(s.reserved) + ") differ from its open impressions (" +
                         FormatNanos(reserved) + ")");
    }
  }
  r.ok = true;
  return Status::Ok();
}

}  // namespace

Result<VerifyReport> VerifyLedger(AdStore& store) {
  LUMEN_RETURN_IF_ERROR(store.BeginRead());
  Walker w;
  Status scan = store.ScanEntries([&](const LedgerEntry& e) { return w.Visit(e); });
  Status st = Status::Ok();
  if (!scan.ok() && w.report.problem.empty()) {
    st = scan;  // a read error, not a finding
  } else if (scan.ok()) {
    st = Compare(store, w);
  }
  store.Rollback();
  LUMEN_RETURN_IF_ERROR(st);
  w.report.head_hash = w.report.entries > 0 ? ToHex(w.prev_) : "";
  if (!w.report.problem.empty()) w.report.ok = false;
  return w.report;
}

}  // namespace lumen::ads
