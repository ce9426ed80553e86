// Verifying the ad ledger — what `lumen ads verify` runs. In one consistent snapshot it
//
//   1. re-walks the chain: sequence numbers 1, 2, 3, ... without gaps, each prev_hash equal to
//      the previous entry's hash, each hash equal to SHA-256(prev_hash ‖ canonical entry);
//   2. checks every entry's postings: exactly the postings its kind and amount call for, summing
//      to zero; and the rules of counting: an impression is served once, billed at most once,
//      at the price it was served at, clicked at most once and only after it was billable;
//   3. re-derives the hourly roll-ups, the account balances and each campaign's spend from the
//      entries and compares them with the stored ones;
//   4. checks that no campaign spent more than its total budget, or its daily budget on any day
//      (budget days are the UTC days of the serves), and that the reservations recorded per
//      campaign equal those of the still-open impressions.
//
// It stops at the first inconsistency and names it: the sequence number of the first bad entry,
// or for derived state the first entry that contributed to the mismatching figure.
#pragma once

#include <cstdint>
#include <string>

#include "ads/store.h"

namespace lumen::ads {

struct VerifyReport {
  bool ok = false;
  std::int64_t entries = 0;
  std::string head_hash;           // hex hash of the last entry ("" for an empty ledger)
  std::int64_t first_bad_seq = 0;  // 0 when ok or when no single entry is to blame
  std::string problem;             // one line; empty when ok
  std::int64_t billable = 0;
  Nanos billed_nanos = 0;       // billable impressions
  Nanos adjustments_nanos = 0;  // sum of adjustments
};

// Errors only when the store cannot be read; an inconsistent ledger is a report with ok=false.
Result<VerifyReport> VerifyLedger(AdStore& store);

}  // namespace lumen::ads
