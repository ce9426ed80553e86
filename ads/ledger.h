// The ad ledger: an append-only sequence of events, each hash-chained to the one before.
//
//   entry.hash = SHA-256(previous entry's hash ‖ CanonicalBytes(entry))   (genesis: 32 zero bytes)
//
// Kinds: served (a slot went out with a reservation), billable (the client reported it rendered
// — the only event that costs money), click, invalid (with the reason; never billed) and
// adjustment (a correction: a signed charge with a memo — entries are never edited).
//
// Money moves by double-entry postings that are part of the hashed entry and sum to zero:
// a billable impression or adjustment of A nanos posts -A to the campaign's budget account
// ("advertiser:<id>/campaign:<id>") and +A to the platform's revenue account in the
// advertiser's currency ("platform:revenue:<CUR>"). A refund is an adjustment with A < 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ads/crypto.h"
#include "ads/money.h"
#include "core/status.h"

namespace lumen::ads {

enum class EntryKind { kServed, kBillable, kClick, kInvalid, kAdjustment };
std::string_view Name(EntryKind k);
Result<EntryKind> ParseEntryKind(std::string_view s);

struct Posting {
  std::string account;
  Nanos amount = 0;  // signed
  friend bool operator==(const Posting&, const Posting&) = default;
};

struct LedgerEntry {
  std::int64_t seq = 0;  // 1, 2, 3, ... assigned when appended
  std::int64_t time_us = 0;
  EntryKind kind = EntryKind::kServed;
  std::int64_t advertiser_id = 0;  // 0 when unknown (e.g. a forged token)
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  std::string impression_id;  // 32 hex characters, "" when none
  int slot = 0;
  Micros price_cpm_micros = 0;  // served/billable/click: the clearing CPM of the impression
  Nanos amount_nanos = 0;       // billable: the cost; adjustment: the signed charge; else 0
  std::string currency;         // the advertiser's; "" when no advertiser
  std::string detail;           // invalid: the reason; adjustment: the memo
  std::vector<Posting> postings;
  Digest prev_hash{};
  Digest hash{};
};

std::string CampaignAccount(std::int64_t advertiser_id, std::int64_t campaign_id);
std::string RevenueAccount(std::string_view currency);

// The postings an entry must carry (empty for entries that move no money).
std::vector<Posting> ExpectedPostings(const LedgerEntry& e);

// The bytes that are hashed: every field but the hashes, each length-delimited so that no two
// different entries have the same encoding.
std::string CanonicalBytes(const LedgerEntry& e);
Digest ChainHash(const Digest& prev, const LedgerEntry& e);

// Hour and UTC day numbers of a Unix-microsecond time (floor division; days since 1970-01-01).
std::int64_t HourOf(std::int64_t time_us);
std::int64_t DayOf(std::int64_t time_us);
// "2026-11-30" / "2026-11-30T04:00Z".
std::string FormatDay(std::int64_t day);
std::string FormatHour(std::int64_t hour);
// Parses "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM[:SS][Z]" into Unix microseconds.
Result<std::int64_t> ParseTime(std::string_view text);

}  // namespace lumen::ads
