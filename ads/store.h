// AdStore: where the ad system keeps its state. One interface, so that the SQLite file of a
// single-machine install (ads/sqlite_store.h) can later be swapped for PostgreSQL without
// touching the auction, the ledger or the server.
//
// Contract for every implementation:
//   * Writes happen only between BeginWrite() and Commit()/Rollback(); a committed transaction
//     is all-or-nothing and, at the configured durability, survives a crash of the process.
//   * Only one write transaction runs at a time across all processes sharing the store
//     (BeginWrite waits, then fails with Unavailable).
//   * Reads inside a transaction see its own writes; BeginRead() pins a consistent snapshot.
//   * The ledger is append-only: no method edits or deletes an entry.
// An AdStore object is not thread-safe: one thread uses it at a time. Open one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ads/account.h"
#include "ads/impression_token.h"
#include "ads/ledger.h"
#include "ads/model.h"
#include "core/status.h"

namespace lumen::ads {

// Life of a served slot. Reserved until the client reports it rendered (billable), it is judged
// invalid, or its token expires (the reservation is then released). Only kReserved changes.
enum class ImpressionState { kReserved = 0, kBillable = 1, kInvalid = 2, kExpired = 3 };

struct ImpressionRecord {
  ImpressionId id{};
  std::int64_t advertiser_id = 0;
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  int slot = 0;
  Micros price_cpm_micros = 0;
  std::int64_t served_us = 0;
  std::int64_t expires_us = 0;
  std::int64_t budget_day = 0;  // UTC day of the serve: the day whose daily budget it uses
  ImpressionState state = ImpressionState::kReserved;
  std::int64_t served_seq = 0;
  std::int64_t decided_seq = 0;  // the billable/invalid entry that settled it, else 0
  std::int64_t click_seq = 0;    // the click entry counted for it, else 0
};

// A campaign's budget use, in nanos: billed spend and outstanding reservations, in total and for
// one budget day.
struct CampaignSpend {
  Nanos spent = 0;
  Nanos reserved = 0;
  Nanos day_spent = 0;
  Nanos day_reserved = 0;
};

// One hourly roll-up bucket, or a delta to add to one.
struct RollupRow {
  std::int64_t hour = 0;
  std::int64_t advertiser_id = 0;
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  std::int64_t served = 0;
  std::int64_t billable = 0;
  std::int64_t clicks = 0;
  std::int64_t invalid = 0;
  Nanos spend = 0;  // billable cost plus adjustments
  friend bool operator==(const RollupRow&, const RollupRow&) = default;
};

class AdStore {
 public:
  virtual ~AdStore() = default;

  // ---- transactions
  virtual Status BeginWrite() = 0;
  virtual Status BeginRead() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // ---- catalog (each write also bumps the catalog version)
  virtual Result<std::int64_t> InsertAdvertiser(const Advertiser& a) = 0;
  virtual Result<std::int64_t> InsertCampaign(const Campaign& c) = 0;
  virtual Result<std::int64_t> InsertCreative(const Creative& c) = 0;
  // NotFound when the id does not exist.
  virtual Status SetAdvertiserStatus(std::int64_t id, AdvertiserStatus s) = 0;
  virtual Status SetCampaignStatus(std::int64_t id, CampaignStatus s) = 0;
  virtual Status SetCreativeStatus(std::int64_t id, CreativeStatus s, ReviewState r) = 0;
  // Edits what may change after creation: a campaign's name, end, pacing and targeting (its
  // bid and budgets are fixed, see ads/catalog.h); a creative's texts and URLs (its status and
  // review are set by the caller). NotFound when the id does not exist.
  virtual Status UpdateCampaign(const Campaign& c) = 0;
  virtual Status UpdateCreative(const Creative& c) = 0;
  virtual Result<std::vector<Advertiser>> ListAdvertisers() = 0;
  virtual Result<std::vector<Campaign>> ListCampaigns() = 0;
  virtual Result<std::vector<Creative>> ListCreatives() = 0;
  // Changes whenever any process changes the catalog; cheap to poll.
  virtual Result<std::int64_t> CatalogVersion() = 0;

  // ---- budget counters
  virtual Result<CampaignSpend> GetSpend(std::int64_t campaign_id, std::int64_t day) = 0;
  // Adds to the campaign's totals and to its row for `day`.
  virtual Status AddSpend(std::int64_t campaign_id, std::int64_t day, Nanos spent,
                          Nanos reserved) = 0;
  // campaign id -> {spent, reserved} totals, for verification.
  virtual Result<std::map<std::int64_t, CampaignSpend>> ListSpend() = 0;

  // ---- frequency caps (keys are pseudonymous: HMACs of user or session ids)
  virtual Result<std::int64_t> GetFrequency(const std::string& key, std::int64_t campaign_id,
                                            std::int64_t day) = 0;
  virtual Status AddFrequency(const std::string& key, std::int64_t campaign_id, std::int64_t day,
                              std::int64_t n) = 0;

  // ---- impressions
  virtual Status InsertImpression(const ImpressionRecord& r) = 0;  // AlreadyExists on a repeat id
  virtual Result<std::optional<ImpressionRecord>> GetImpression(const ImpressionId& id) = 0;
  virtual Status UpdateImpression(const ImpressionRecord& r) = 0;  // state and sequence numbers
  // Reserved impressions whose token expired before `now_us`, oldest first, at most `limit`.
  virtual Result<std::vector<ImpressionRecord>> ExpiredReservations(std::int64_t now_us,
                                                                    std::size_t limit) = 0;
  // campaign id -> sum of prices (nanos) of impressions still reserved, for verification.
  virtual Result<std::map<std::int64_t, Nanos>> OpenReservations() = 0;

  // ---- ledger
  virtual Result<std::optional<LedgerEntry>> LastEntry() = 0;
  virtual Status AppendEntry(const LedgerEntry& e) = 0;  // with its postings
  // Calls `fn` on every entry (with postings) in sequence order; stops at the first error.
  virtual Status ScanEntries(const std::function<Status(const LedgerEntry&)>& fn) = 0;

  // ---- roll-ups and balances (maintained in the same transactions as the entries)
  virtual Status AddRollup(const RollupRow& delta) = 0;
  virtual Result<std::vector<RollupRow>> ListRollups() = 0;
  virtual Status AddBalance(const std::string& account, Nanos delta) = 0;
  virtual Result<std::map<std::string, Nanos>> ListBalances() = 0;

  // ---- dashboard accounts and sessions (see ads/account.h); they do not touch the catalog
  // version. InsertAccount: AlreadyExists when the e-mail is taken.
  virtual Result<std::int64_t> InsertAccount(const Account& a) = 0;
  virtual Result<std::optional<Account>> FindAccount(std::string_view email) = 0;
  virtual Result<std::optional<Account>> GetAccount(std::int64_t id) = 0;
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  virtual Status SetAccountPassword(std::int64_t id, const std::string& password_hash) = 0;
  virtual Status InsertSession(const SessionRecord& s) = 0;
  virtual Result<std::optional<SessionRecord>> GetSession(const std::string& token_hash) = 0;
  virtual Status DeleteSession(const std::string& token_hash) = 0;
  // Removes sessions that expired before `now_us`.
  virtual Status DeleteExpiredSessions(std::int64_t now_us) = 0;
};

}  // namespace lumen::ads
