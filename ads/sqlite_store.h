// SqliteStore: the AdStore of a single-machine install, one SQLite file (<data_dir>/ads.db) in
// WAL mode, separate from lumen.db and never opened by the answer path.
//
// Durability: kFull (PRAGMA synchronous=FULL) fsyncs the write-ahead log at every commit, so a
// committed transaction survives power loss; kNormal syncs only at checkpoints, so it survives
// a crash of the process (SIGKILL) but the last transactions may be lost on power loss.
// The ledger tables carry triggers that refuse UPDATE and DELETE.
#pragma once

#include <memory>
#include <string>

#include "ads/store.h"

namespace lumen::ads {

enum class Durability { kFull, kNormal };
Result<Durability> ParseDurability(std::string_view s);

struct SqliteStoreOptions {
  Durability durability = Durability::kFull;
  int busy_timeout_ms = 5000;  // how long BeginWrite waits for another process's transaction
};

class SqliteStore final : public AdStore {
 public:
  // Opens (creating if needed) the database at `path` and its schema. Errors: IoError when the
  // file cannot be opened, Corruption when it is not an ads database of a known version.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const SqliteStoreOptions& options = {});
  ~SqliteStore() override;

  Status BeginWrite() override;
  Status BeginRead() override;
  Status Commit() override;
  void Rollback() override;

  Result<std::int64_t> InsertAdvertiser(const Advertiser& a) override;
  Result<std::int64_t> InsertCampaign(const Campaign& c) override;
  Result<std::int64_t> InsertCreative(const Creative& c) override;
  Status SetAdvertiserStatus(std::int64_t id, AdvertiserStatus s) override;
  Status SetCampaignStatus(std::int64_t id, CampaignStatus s) override;
  Status SetCreativeStatus(std::int64_t id, CreativeStatus s, ReviewState r) override;
  Status UpdateCampaign(const Campaign& c) override;
  Status UpdateCreative(const Creative& c) override;
  Result<std::vector<Advertiser>> ListAdvertisers() override;
  Result<std::vector<Campaign>> ListCampaigns() override;
  Result<std::vector<Creative>> ListCreatives() override;
  Result<std::int64_t> CatalogVersion() override;

  Result<CampaignSpend> GetSpend(std::int64_t campaign_id, std::int64_t day) override;
  Status AddSpend(std::int64_t campaign_id, std::int64_t day, Nanos spent, Nanos reserved) override;
  Result<std::map<std::int64_t, CampaignSpend>> ListSpend() override;

  Result<std::int64_t> GetFrequency(const std::string& key, std::int64_t campaign_id,
                                    std::int64_t day) override;
  Status AddFrequency(const std::string& key, std::int64_t campaign_id, std::int64_t day,
                      std::int64_t n) override;

  Status InsertImpression(const ImpressionRecord& r) override;
  Result<std::optional<ImpressionRecord>> GetImpression(const ImpressionId& id) override;
  Status UpdateImpression(const ImpressionRecord& r) override;
  Result<std::vector<ImpressionRecord>> ExpiredReservations(std::int64_t now_us,
                                                            std::size_t limit) override;
  Result<std::map<std::int64_t, Nanos>> OpenReservations() override;

  Result<std::optional<LedgerEntry>> LastEntry() override;
  Status AppendEntry(const LedgerEntry& e) override;
  Status ScanEntries(const std::function<Status(const LedgerEntry&)>& fn) override;

  Status AddRollup(const RollupRow& delta) override;
  Result<std::vector<RollupRow>> ListRollups() override;
  Status AddBalance(const std::string& account, Nanos delta) override;
  Result<std::map<std::string, Nanos>> ListBalances() override;

  Result<std::int64_t> InsertAccount(const Account& a) override;
  Result<std::optional<Account>> FindAccount(std::string_view email) override;
  Result<std::optional<Account>> GetAccount(std::int64_t id) override;
  Result<std::vector<Account>> ListAccounts() override;
  Status SetAccountPassword(std::int64_t id, const std::string& password_hash) override;
  Status InsertSession(const SessionRecord& s) override;
  Result<std::optional<SessionRecord>> GetSession(const std::string& token_hash) override;
  Status DeleteSession(const std::string& token_hash) override;
  Status DeleteExpiredSessions(std::int64_t now_us) override;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lumen::ads
