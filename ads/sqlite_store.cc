#include "ads/sqlite_store.h"

#include <sqlite3.h>

#include <unordered_map>

namespace lumen::ads {
namespace {

// Version 1: catalog, budgets, impressions, ledger, roll-ups. Version 2 adds the dashboard's
// accounts and sessions (kSchemaV2); opening a version-1 file migrates it forward in place.
constexpr int kSchemaVersion = 2;
constexpr std::int64_t kTotalsDay = -1;  // the spend row holding a campaign's totals

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta VALUES('catalog_version', 0);
CREATE TABLE IF NOT EXISTS advertisers(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, contact TEXT NOT NULL, currency TEXT NOT NULL,
  status TEXT NOT NULL, api_key_hash TEXT NOT NULL, created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns(
  id INTEGER PRIMARY KEY, advertiser_id INTEGER NOT NULL REFERENCES advertisers(id),
  name TEXT NOT NULL, status TEXT NOT NULL, cpm_bid_micros INTEGER NOT NULL,
  daily_budget_micros INTEGER NOT NULL, total_budget_micros INTEGER NOT NULL,
  start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, pacing TEXT NOT NULL,
  targeting TEXT NOT NULL, created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS creatives(
  id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  title TEXT NOT NULL, body TEXT NOT NULL, display_url TEXT NOT NULL, landing_url TEXT NOT NULL,
  status TEXT NOT NULL, review TEXT NOT NULL, created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spend(
  campaign_id INTEGER NOT NULL, day INTEGER NOT NULL, spent INTEGER NOT NULL,
  reserved INTEGER NOT NULL, PRIMARY KEY(campaign_id, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS frequency(
  key TEXT NOT NULL, campaign_id INTEGER NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(key, campaign_id, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS impressions(
  id BLOB PRIMARY KEY, advertiser_id INTEGER NOT NULL, campaign_id INTEGER NOT NULL,
  creative_id INTEGER NOT NULL, slot INTEGER NOT NULL, price_cpm_micros INTEGER NOT NULL,
  served_us INTEGER NOT NULL, expires_us INTEGER NOT NULL, budget_day INTEGER NOT NULL,
  state INTEGER NOT NULL, served_seq INTEGER NOT NULL, decided_seq INTEGER NOT NULL,
  click_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS impressions_open ON impressions(expires_us) WHERE state = 0;
CREATE TABLE IF NOT EXISTS ledger(
  seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, kind TEXT NOT NULL,
  advertiser_id INTEGER NOT NULL, campaign_id INTEGER NOT NULL, creative_id INTEGER NOT NULL,
  impression_id TEXT NOT NULL, slot INTEGER NOT NULL, price_cpm_micros INTEGER NOT NULL,
  amount_nanos INTEGER NOT NULL, currency TEXT NOT NULL, detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS postings(
  seq INTEGER NOT NULL, idx INTEGER NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL,
  PRIMARY KEY(seq, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups(
  hour INTEGER NOT NULL, campaign_id INTEGER NOT NULL, creative_id INTEGER NOT NULL,
  advertiser_id INTEGER NOT NULL, served INTEGER NOT NULL, billable INTEGER NOT NULL,
  clicks INTEGER NOT NULL, invalid INTEGER NOT NULL, spend INTEGER NOT NULL,
  PRIMARY KEY(hour, campaign_id, creative_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS balances(account TEXT PRIMARY KEY, balance INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS ledger_append_only_u BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ad ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_append_only_d BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ad ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS postings_append_only_u BEFORE UPDATE ON postings
  BEGIN SELECT RAISE(ABORT, 'the ad ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS postings_append_only_d BEFORE DELETE ON postings
  BEGIN SELECT RAISE(ABORT, 'the ad ledger is append-only'); END;
)sql";

constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS accounts(
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
  advertiser_id INTEGER NOT NULL, password_hash TEXT NOT NULL, created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
  token_hash TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
  csrf_token TEXT NOT NULL, created_us INTEGER NOT NULL, expires_us INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_us);
)sql";

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db);
      s_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  const std::string& error() const { return error_; }
  Stmt& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const void* p, std::size_t n) {
    sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::string Blob(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    return p ? std::string(static_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  std::string error_;
};

// Resets a statement when the scope ends.
class Using {
 public:
  explicit Using(Stmt& s) : s_(s) {}
  ~Using() { s_.Reset(); }
  Stmt* operator->() { return &s_; }
  Stmt& operator*() { return s_; }

 private:
  Stmt& s_;
};

Digest ToDigest(const std::string& blob) {
  Digest d{};
  if (blob.size() == d.size()) std::copy(blob.begin(), blob.end(), d.begin());
  return d;
}

}  // namespace

struct SqliteStore::Impl {
  sqlite3* db = nullptr;
  std::string path;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> stmts;

  ~Impl() {
    stmts.clear();
    if (db != nullptr) sqlite3_close_v2(db);
  }

  Status Error(std::string_view what) const {
    const int code = sqlite3_extended_errcode(db);
    const std::string msg = path + ": " + std::string(what) + ": " + sqlite3_errmsg(db);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) return Unavailable(msg);
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) return Corruption(msg);
    if ((code & 0xff) == SQLITE_CONSTRAINT) return AlreadyExists(msg);
    return IoError(msg);
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      const Status s = Error(sql);
      return Status(s.code(), path + ": " + m);
    }
    return Status::Ok();
  }

  // The cached statement for `sql` (a string literal: cached by address).
  Result<Stmt*> Get(const char* sql) {
    auto it = stmts.find(sql);
    if (it != stmts.end()) return it->second.get();
    auto s = std::make_unique<Stmt>(db, sql);
    if (!s->ok()) return Internal(path + ": cannot prepare statement: " + s->error());
    Stmt* raw = s.get();
    stmts.emplace(sql, std::move(s));
    return raw;
  }

  // Runs a statement that returns no rows.
  Status Done(Stmt& s, std::string_view what) {
    Using u(s);
    if (s.Step() != SQLITE_DONE) return Error(what);
    return Status::Ok();
  }

  Status BumpCatalog() {
    LUMEN_ASSIGN_OR_RETURN(Stmt * s,
                           Get("UPDATE meta SET value = value + 1 WHERE key = 'catalog_version'"));
    return Done(*s, "bump catalog version");
  }

  Status ChangedOne(std::string_view what, std::int64_t id) {
    if (sqlite3_changes(db) == 0)
      return NotFound(std::string(what) + " " + std::to_string(id) + " does not exist");
    return Status::Ok();
  }
};

Result<Durability> ParseDurability(std::string_view s) {
  if (s == "full") return Durability::kFull;
  if (s == "normal") return Durability::kNormal;
  return InvalidArgument("durability must be \"full\" or \"normal\", got \"" +
                         std::string(s.substr(0, 20)) + "\"");
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const SqliteStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (sqlite3_open_v2(path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string m = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    return IoError(path + ": cannot open the ad database: " + m);
  }
  sqlite3_busy_timeout(impl->db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(impl->db, 1);
  {
    Stmt s(impl->db, "PRAGMA journal_mode=WAL");
    if (!s.ok() || s.Step() != SQLITE_ROW || s.Text(0) != "wal") {
      return IoError(path + ": cannot switch the ad database to WAL mode (" +
                     std::string(sqlite3_errmsg(impl->db)) + ")");
    }
  }
  LUMEN_RETURN_IF_ERROR(impl->Exec(options.durability == Durability::kFull
                                       ? "PRAGMA synchronous=FULL"
                                       : "PRAGMA synchronous=NORMAL"));
  LUMEN_RETURN_IF_ERROR(impl->Exec("PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY"));
  {
    Stmt v(impl->db, "PRAGMA user_version");
    if (!v.ok() || v.Step() != SQLITE_ROW) {
      return Corruption(path + ": not an ad database (" + std::string(sqlite3_errmsg(impl->db)) +
                        ")");
    }
    const std::int64_t version = v.Int(0);
    if (version < 0 || version > kSchemaVersion) {
      return Corruption(path + ": ad database schema version " + std::to_string(version) +
                        " is newer than this build understands (" + std::to_string(kSchemaVersion) +
                        ")");
    }
  }
  LUMEN_RETURN_IF_ERROR(impl->Exec("BEGIN IMMEDIATE"));
  Status st = impl->Exec(kSchema);
  if (st.ok()) st = impl->Exec(kSchemaV2);
  if (st.ok()) st = impl->Exec("PRAGMA user_version=2");
  if (st.ok()) st = impl->Exec("COMMIT");
  if (!st.ok()) {
    (void)impl->Exec("ROLLBACK");
    return st;
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Status SqliteStore::BeginWrite() {
  return impl_->Exec("BEGIN IMMEDIATE");
}
Status SqliteStore::BeginRead() {
  LUMEN_RETURN_IF_ERROR(impl_->Exec("BEGIN DEFERRED"));
  // A deferred transaction takes its snapshot at the first read.
  return impl_->Exec("SELECT 1 FROM meta LIMIT 1");
}
Status SqliteStore::Commit() {
  return impl_->Exec("COMMIT");
}
void SqliteStore::Rollback() {
  if (!sqlite3_get_autocommit(impl_->db)) (void)impl_->Exec("ROLLBACK");
}

// ---- catalog -------------------------------------------------------------------------------

Result<std::int64_t> SqliteStore::InsertAdvertiser(const Advertiser& a) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO advertisers(name, contact, currency, "
                                              "status, api_key_hash, created_us) "
                                              "VALUES(?,?,?,?,?,?)"));
  s->Bind(1, a.name).Bind(2, a.contact).Bind(3, a.currency).Bind(4, Name(a.status));
  s->Bind(5, a.api_key_hash).Bind(6, a.created_us);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "insert advertiser"));
  LUMEN_RETURN_IF_ERROR(impl_->BumpCatalog());
  return sqlite3_last_insert_rowid(impl_->db);
}

Result<std::int64_t> SqliteStore::InsertCampaign(const Campaign& c) {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s, impl_->Get("INSERT INTO campaigns(advertiser_id, name, status, cpm_bid_micros, "
                           "daily_budget_micros, total_budget_micros, start_us, end_us, pacing, "
                           "targeting, created_us) VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
  s->Bind(1, c.advertiser_id).Bind(2, c.name).Bind(3, Name(c.status)).Bind(4, c.cpm_bid_micros);
  s->Bind(5, c.daily_budget_micros).Bind(6, c.total_budget_micros).Bind(7, c.start_us);
  s->Bind(8, c.end_us).Bind(9, Name(c.pacing)).Bind(10, TargetingToJson(c.targeting));
  s->Bind(11, c.created_us);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "insert campaign"));
  LUMEN_RETURN_IF_ERROR(impl_->BumpCatalog());
  return sqlite3_last_insert_rowid(impl_->db);
}

Result<std::int64_t> SqliteStore::InsertCreative(const Creative& c) {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s, impl_->Get("INSERT INTO creatives(campaign_id, title, body, display_url, "
                           "landing_url, status, review, created_us) VALUES(?,?,?,?,?,?,?,?)"));
  s->Bind(1, c.campaign_id).Bind(2, c.title).Bind(3, c.body).Bind(4, c.display_url);
  s->Bind(5, c.landing_url).Bind(6, Name(c.status)).Bind(7, Name(c.review));
  s->Bind(8, c.created_us);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "insert creative"));
  LUMEN_RETURN_IF_ERROR(impl_->BumpCatalog());
  return sqlite3_last_insert_rowid(impl_->db);
}

Status SqliteStore::SetAdvertiserStatus(std::int64_t id, AdvertiserStatus st) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("UPDATE advertisers SET status = ? WHERE id = ?"));
  s->Bind(1, Name(st)).Bind(2, id);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "update advertiser"));
  LUMEN_RETURN_IF_ERROR(impl_->ChangedOne("advertiser", id));
  return impl_->BumpCatalog();
}

Status SqliteStore::SetCampaignStatus(std::int64_t id, CampaignStatus st) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("UPDATE campaigns SET status = ? WHERE id = ?"));
  s->Bind(1, Name(st)).Bind(2, id);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "update campaign"));
  LUMEN_RETURN_IF_ERROR(impl_->ChangedOne("campaign", id));
  return impl_->BumpCatalog();
}

Status SqliteStore::SetCreativeStatus(std::int64_t id, CreativeStatus st, ReviewState r) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s,
                         impl_->Get("UPDATE creatives SET status = ?, review = ? WHERE id = ?"));
  s->Bind(1, Name(st)).Bind(2, Name(r)).Bind(3, id);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "update creative"));
  LUMEN_RETURN_IF_ERROR(impl_->ChangedOne("creative", id));
  return impl_->BumpCatalog();
}

Result<std::vector<Advertiser>> SqliteStore::ListAdvertisers() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT id, name, contact, currency, status, "
                                              "api_key_hash, created_us FROM advertisers "
                                              "ORDER BY id"));
  Using u(*s);
  std::vector<Advertiser> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    Advertiser a;
    a.id = s->Int(0);
    a.name = s->Text(1);
    a.contact = s->Text(2);
    a.currency = s->Text(3);
    LUMEN_ASSIGN_OR_RETURN(a.status, ParseAdvertiserStatus(s->Text(4)));
    a.api_key_hash = s->Text(5);
    a.created_us = s->Int(6);
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return impl_->Error("list advertisers");
  return out;
}

Result<std::vector<Campaign>> SqliteStore::ListCampaigns() {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s, impl_->Get("SELECT id, advertiser_id, name, status, cpm_bid_micros, "
                           "daily_budget_micros, total_budget_micros, start_us, end_us, pacing, "
                           "targeting, created_us FROM campaigns ORDER BY id"));
  Using u(*s);
  std::vector<Campaign> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    Campaign c;
    c.id = s->Int(0);
    c.advertiser_id = s->Int(1);
    c.name = s->Text(2);
    LUMEN_ASSIGN_OR_RETURN(c.status, ParseCampaignStatus(s->Text(3)));
    c.cpm_bid_micros = s->Int(4);
    c.daily_budget_micros = s->Int(5);
    c.total_budget_micros = s->Int(6);
    c.start_us = s->Int(7);
    c.end_us = s->Int(8);
    LUMEN_ASSIGN_OR_RETURN(c.pacing, ParsePacing(s->Text(9)));
    LUMEN_ASSIGN_OR_RETURN(c.targeting, TargetingFromJson(s->Text(10)));
    c.created_us = s->Int(11);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return impl_->Error("list campaigns");
  return out;
}

Result<std::vector<Creative>> SqliteStore::ListCreatives() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT id, campaign_id, title, body, display_url, "
                                              "landing_url, status, review, created_us "
                                              "FROM creatives ORDER BY id"));
  Using u(*s);
  std::vector<Creative> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    Creative c;
    c.id = s->Int(0);
    c.campaign_id = s->Int(1);
    c.title = s->Text(2);
    c.body = s->Text(3);
    c.display_url = s->Text(4);
    c.landing_url = s->Text(5);
    LUMEN_ASSIGN_OR_RETURN(c.status, ParseCreativeStatus(s->Text(6)));
    LUMEN_ASSIGN_OR_RETURN(c.review, ParseReviewState(s->Text(7)));
    c.created_us = s->Int(8);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return impl_->Error("list creatives");
  return out;
}

Result<std::int64_t> SqliteStore::CatalogVersion() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s,
                         impl_->Get("SELECT value FROM meta WHERE key = 'catalog_version'"));
  Using u(*s);
  if (s->Step() != SQLITE_ROW) return impl_->Error("read catalog version");
  return s->Int(0);
}

// ---- budget counters -----------------------------------------------------------------------

Result<CampaignSpend> SqliteStore::GetSpend(std::int64_t campaign_id, std::int64_t day) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT day, spent, reserved FROM spend "
                                              "WHERE campaign_id = ? AND day IN (-1, ?)"));
  Using u(*s);
  s->Bind(1, campaign_id).Bind(2, day);
  CampaignSpend out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    if (s->Int(0) == kTotalsDay) {
      out.spent = s->Int(1);
      out.reserved = s->Int(2);
    } else {
      out.day_spent = s->Int(1);
      out.day_reserved = s->Int(2);
    }
  }
  if (rc != SQLITE_DONE) return impl_->Error("read spend");
  return out;
}

Status SqliteStore::AddSpend(std::int64_t campaign_id, std::int64_t day, Nanos spent,
                             Nanos reserved) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO spend VALUES(?,?,?,?) "
                                              "ON CONFLICT(campaign_id, day) DO UPDATE SET "
                                              "spent = spent + excluded.spent, "
                                              "reserved = reserved + excluded.reserved"));
  for (const std::int64_t d : {kTotalsDay, day}) {
    s->Bind(1, campaign_id).Bind(2, d).Bind(3, spent).Bind(4, reserved);
    LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "update spend"));
  }
  return Status::Ok();
}

Result<std::map<std::int64_t, CampaignSpend>> SqliteStore::ListSpend() {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s, impl_->Get("SELECT campaign_id, spent, reserved FROM spend WHERE day = -1"));
  Using u(*s);
  std::map<std::int64_t, CampaignSpend> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    CampaignSpend& c = out[s->Int(0)];
    c.spent = s->Int(1);
    c.reserved = s->Int(2);
  }
  if (rc != SQLITE_DONE) return impl_->Error("list spend");
  return out;
}

// ---- frequency -----------------------------------------------------------------------------

Result<std::int64_t> SqliteStore::GetFrequency(const std::string& key, std::int64_t campaign_id,
                                               std::int64_t day) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT n FROM frequency WHERE key = ? AND "
                                              "campaign_id = ? AND day = ?"));
  Using u(*s);
  s->Bind(1, key).Bind(2, campaign_id).Bind(3, day);
  const int rc = s->Step();
  if (rc == SQLITE_ROW) return s->Int(0);
  if (rc != SQLITE_DONE) return impl_->Error("read frequency");
  return std::int64_t{0};
}

Status SqliteStore::AddFrequency(const std::string& key, std::int64_t campaign_id, std::int64_t day,
                                 std::int64_t n) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO frequency VALUES(?,?,?,?) "
                                              "ON CONFLICT(key, campaign_id, day) DO UPDATE SET "
                                              "n = n + excluded.n"));
  s->Bind(1, key).Bind(2, campaign_id).Bind(3, day).Bind(4, n);
  return impl_->Done(*s, "update frequency");
}

// ---- impressions ---------------------------------------------------------------------------

namespace {
constexpr const char* kImpressionColumns =
    "id, advertiser_id, campaign_id, creative_id, slot, price_cpm_micros, served_us, expires_us, "
    "budget_day, state, served_seq, decided_seq, click_seq";

ImpressionRecord ReadImpression(const Stmt& s) {
  ImpressionRecord r;
  const std::string id = s.Blob(0);
  if (id.size() == r.id.size()) std::copy(id.begin(), id.end(), r.id.begin());
  r.advertiser_id = s.Int(1);
  r.campaign_id = s.Int(2);
  r.creative_id = s.Int(3);
  r.slot = static_cast<int>(s.Int(4));
  r.price_cpm_micros = s.Int(5);
  r.served_us = s.Int(6);
  r.expires_us = s.Int(7);
  r.budget_day = s.Int(8);
  r.state = static_cast<ImpressionState>(s.Int(9));
  r.served_seq = s.Int(10);
  r.decided_seq = s.Int(11);
  r.click_seq = s.Int(12);
  return r;
}
}  // namespace

Status SqliteStore::InsertImpression(const ImpressionRecord& r) {
  (void)kImpressionColumns;
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO impressions VALUES"
                                              "(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s->BindBlob(1, r.id.data(), r.id.size()).Bind(2, r.advertiser_id).Bind(3, r.campaign_id);
  s->Bind(4, r.creative_id).Bind(5, r.slot).Bind(6, r.price_cpm_micros).Bind(7, r.served_us);
  s->Bind(8, r.expires_us).Bind(9, r.budget_day).Bind(10, static_cast<std::int64_t>(r.state));
  s->Bind(11, r.served_seq).Bind(12, r.decided_seq).Bind(13, r.click_seq);
  return impl_->Done(*s, "insert impression");
}

Result<std::optional<ImpressionRecord>> SqliteStore::GetImpression(const ImpressionId& id) {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s, impl_->Get("SELECT id, advertiser_id, campaign_id, creative_id, slot, "
                           "price_cpm_micros, served_us, expires_us, budget_day, state, "
                           "served_seq, decided_seq, click_seq FROM impressions WHERE id = ?"));
  Using u(*s);
  s->BindBlob(1, id.data(), id.size());
  const int rc = s->Step();
  if (rc == SQLITE_ROW) return std::optional<ImpressionRecord>(ReadImpression(*s));
  if (rc != SQLITE_DONE) return impl_->Error("read impression");
  return std::optional<ImpressionRecord>();
}

Status SqliteStore::UpdateImpression(const ImpressionRecord& r) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("UPDATE impressions SET state = ?, decided_seq = ?, "
                                              "click_seq = ? WHERE id = ?"));
  s->Bind(1, static_cast<std::int64_t>(r.state)).Bind(2, r.decided_seq).Bind(3, r.click_seq);
  s->BindBlob(4, r.id.data(), r.id.size());
  return impl_->Done(*s, "update impression");
}

Result<std::vector<ImpressionRecord>> SqliteStore::ExpiredReservations(std::int64_t now_us,
                                                                       std::size_t limit) {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s, impl_->Get("SELECT id, advertiser_id, campaign_id, creative_id, slot, "
                           "price_cpm_micros, served_us, expires_us, budget_day, state, "
                           "served_seq, decided_seq, click_seq FROM impressions "
                           "WHERE state = 0 AND expires_us < ? ORDER BY expires_us LIMIT ?"));
  Using u(*s);
  s->Bind(1, now_us).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<ImpressionRecord> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) out.push_back(ReadImpression(*s));
  if (rc != SQLITE_DONE) return impl_->Error("list expired reservations");
  return out;
}

Result<std::map<std::int64_t, Nanos>> SqliteStore::OpenReservations() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT campaign_id, SUM(price_cpm_micros) FROM "
                                              "impressions WHERE state = 0 GROUP BY campaign_id"));
  Using u(*s);
  std::map<std::int64_t, Nanos> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) out[s->Int(0)] = ImpressionCostNanos(s->Int(1));
  if (rc != SQLITE_DONE) return impl_->Error("sum reservations");
  return out;
}

// ---- ledger --------------------------------------------------------------------------------

namespace {
Result<LedgerEntry> ReadEntry(const Stmt& s) {
  LedgerEntry e;
  e.seq = s.Int(0);
  e.time_us = s.Int(1);
  LUMEN_ASSIGN_OR_RETURN(e.kind, ParseEntryKind(s.Text(2)));
  e.advertiser_id = s.Int(3);
  e.campaign_id = s.Int(4);
  e.creative_id = s.Int(5);
  e.impression_id = s.Text(6);
  e.slot = static_cast<int>(s.Int(7));
  e.price_cpm_micros = s.Int(8);
  e.amount_nanos = s.Int(9);
  e.currency = s.Text(10);
  e.detail = s.Text(11);
  e.prev_hash = ToDigest(s.Blob(12));
  e.hash = ToDigest(s.Blob(13));
  return e;
}
}  // namespace

Result<std::optional<LedgerEntry>> SqliteStore::LastEntry() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT * FROM ledger ORDER BY seq DESC LIMIT 1"));
  Using u(*s);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<LedgerEntry>();
  if (rc != SQLITE_ROW) return impl_->Error("read ledger head");
  LUMEN_ASSIGN_OR_RETURN(LedgerEntry e, ReadEntry(*s));
  return std::optional<LedgerEntry>(std::move(e));
}

Status SqliteStore::AppendEntry(const LedgerEntry& e) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s,
                         impl_->Get("INSERT INTO ledger VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s->Bind(1, e.seq).Bind(2, e.time_us).Bind(3, Name(e.kind)).Bind(4, e.advertiser_id);
  s->Bind(5, e.campaign_id).Bind(6, e.creative_id).Bind(7, e.impression_id).Bind(8, e.slot);
  s->Bind(9, e.price_cpm_micros).Bind(10, e.amount_nanos).Bind(11, e.currency);
  s->Bind(12, e.detail).BindBlob(13, e.prev_hash.data(), e.prev_hash.size());
  s->BindBlob(14, e.hash.data(), e.hash.size());
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "append ledger entry"));
  if (e.postings.empty()) return Status::Ok();
  LUMEN_ASSIGN_OR_RETURN(Stmt * p, impl_->Get("INSERT INTO postings VALUES(?,?,?,?)"));
  for (std::size_t i = 0; i < e.postings.size(); ++i) {
    p->Bind(1, e.seq).Bind(2, static_cast<std::int64_t>(i)).Bind(3, e.postings[i].account);
    p->Bind(4, e.postings[i].amount);
    LUMEN_RETURN_IF_ERROR(impl_->Done(*p, "append posting"));
  }
  return Status::Ok();
}

Status SqliteStore::ScanEntries(const std::function<Status(const LedgerEntry&)>& fn) {
  // Two cursors merged by sequence number: entries, and postings in (seq, idx) order.
  Stmt entries(impl_->db, "SELECT * FROM ledger ORDER BY seq");
  Stmt postings(impl_->db, "SELECT seq, account, amount FROM postings ORDER BY seq, idx");
  if (!entries.ok() || !postings.ok()) return impl_->Error("scan ledger");
  int prc = postings.Step();
  int rc;
  while ((rc = entries.Step()) == SQLITE_ROW) {
    LUMEN_ASSIGN_OR_RETURN(LedgerEntry e, ReadEntry(entries));
    // Postings of a sequence number with no entry are skipped here and caught by the balance
    // check in verification.
    while (prc == SQLITE_ROW && postings.Int(0) < e.seq) prc = postings.Step();
    while (prc == SQLITE_ROW && postings.Int(0) == e.seq) {
      e.postings.push_back({postings.Text(1), postings.Int(2)});
      prc = postings.Step();
    }
    if (prc != SQLITE_ROW && prc != SQLITE_DONE) return impl_->Error("scan postings");
    LUMEN_RETURN_IF_ERROR(fn(e));
  }
  if (rc != SQLITE_DONE) return impl_->Error("scan ledger");
  return Status::Ok();
}

// ---- roll-ups and balances -----------------------------------------------------------------

Status SqliteStore::AddRollup(const RollupRow& d) {
  LUMEN_ASSIGN_OR_RETURN(
      Stmt * s,
      impl_->Get("INSERT INTO rollups VALUES(?,?,?,?,?,?,?,?,?) "
                 "ON CONFLICT(hour, campaign_id, creative_id) DO UPDATE SET "
                 "served = served + excluded.served, "
                 "billable = billable + excluded.billable, "
                 "clicks = clicks + excluded.clicks, invalid = invalid + excluded.invalid, "
                 "spend = spend + excluded.spend"));
  s->Bind(1, d.hour).Bind(2, d.campaign_id).Bind(3, d.creative_id).Bind(4, d.advertiser_id);
  s->Bind(5, d.served).Bind(6, d.billable).Bind(7, d.clicks).Bind(8, d.invalid).Bind(9, d.spend);
  return impl_->Done(*s, "update roll-up");
}

Result<std::vector<RollupRow>> SqliteStore::ListRollups() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT hour, advertiser_id, campaign_id, "
                                              "creative_id, served, billable, clicks, invalid, "
                                              "spend FROM rollups ORDER BY hour, campaign_id, "
                                              "creative_id"));
  Using u(*s);
  std::vector<RollupRow> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    out.push_back({s->Int(0), s->Int(1), s->Int(2), s->Int(3), s->Int(4), s->Int(5), s->Int(6),
                   s->Int(7), s->Int(8)});
  }
  if (rc != SQLITE_DONE) return impl_->Error("list roll-ups");
  return out;
}

Status SqliteStore::AddBalance(const std::string& account, Nanos delta) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO balances VALUES(?, ?) "
                                              "ON CONFLICT(account) DO UPDATE SET "
                                              "balance = balance + excluded.balance"));
  s->Bind(1, account).Bind(2, delta);
  return impl_->Done(*s, "update balance");
}

Result<std::map<std::string, Nanos>> SqliteStore::ListBalances() {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT account, balance FROM balances"));
  Using u(*s);
  std::map<std::string, Nanos> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) out[s->Text(0)] = s->Int(1);
  if (rc != SQLITE_DONE) return impl_->Error("list balances");
  return out;
}

// ---- catalog edits ---------------------------------------------------------------------------

Status SqliteStore::UpdateCampaign(const Campaign& c) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("UPDATE campaigns SET name = ?, end_us = ?, "
                                              "pacing = ?, targeting = ? WHERE id = ?"));
  s->Bind(1, c.name).Bind(2, c.end_us).Bind(3, Name(c.pacing));
  s->Bind(4, TargetingToJson(c.targeting)).Bind(5, c.id);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "update campaign"));
  LUMEN_RETURN_IF_ERROR(impl_->ChangedOne("campaign", c.id));
  return impl_->BumpCatalog();
}

Status SqliteStore::UpdateCreative(const Creative& c) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s,
                         impl_->Get("UPDATE creatives SET title = ?, body = ?, display_url = ?, "
                                    "landing_url = ?, status = ?, review = ? WHERE id = ?"));
  s->Bind(1, c.title).Bind(2, c.body).Bind(3, c.display_url).Bind(4, c.landing_url);
  s->Bind(5, Name(c.status)).Bind(6, Name(c.review)).Bind(7, c.id);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "update creative"));
  LUMEN_RETURN_IF_ERROR(impl_->ChangedOne("creative", c.id));
  return impl_->BumpCatalog();
}

// ---- dashboard accounts and sessions ---------------------------------------------------------

namespace {

constexpr const char* kAccountColumns =
    "SELECT id, email, role, advertiser_id, password_hash, created_us FROM accounts ";

Result<Account> ReadAccount(const Stmt& s) {
  Account a;
  a.id = s.Int(0);
  a.email = s.Text(1);
  LUMEN_ASSIGN_OR_RETURN(a.role, ParseAccountRole(s.Text(2)));
  a.advertiser_id = s.Int(3);
  a.password_hash = s.Text(4);
  a.created_us = s.Int(5);
  return a;
}

}  // namespace

Result<std::int64_t> SqliteStore::InsertAccount(const Account& a) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO accounts(email, role, advertiser_id, "
                                              "password_hash, created_us) VALUES(?,?,?,?,?)"));
  s->Bind(1, a.email).Bind(2, Name(a.role)).Bind(3, a.advertiser_id);
  s->Bind(4, a.password_hash).Bind(5, a.created_us);
  if (Status st = impl_->Done(*s, "insert account"); !st.ok()) {
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("an account with the e-mail " + a.email + " already exists");
    }
    return st;
  }
  return sqlite3_last_insert_rowid(impl_->db);
}

Result<std::optional<Account>> SqliteStore::FindAccount(std::string_view email) {
  static const std::string sql = std::string(kAccountColumns) + "WHERE email = ?";
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get(sql.c_str()));
  Using u(*s);
  s->Bind(1, email);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<Account>();
  if (rc != SQLITE_ROW) return impl_->Error("find account");
  LUMEN_ASSIGN_OR_RETURN(Account a, ReadAccount(*s));
  return std::optional<Account>(std::move(a));
}

Result<std::optional<Account>> SqliteStore::GetAccount(std::int64_t id) {
  static const std::string sql = std::string(kAccountColumns) + "WHERE id = ?";
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get(sql.c_str()));
  Using u(*s);
  s->Bind(1, id);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<Account>();
  if (rc != SQLITE_ROW) return impl_->Error("get account");
  LUMEN_ASSIGN_OR_RETURN(Account a, ReadAccount(*s));
  return std::optional<Account>(std::move(a));
}

Result<std::vector<Account>> SqliteStore::ListAccounts() {
  static const std::string sql = std::string(kAccountColumns) + "ORDER BY id";
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get(sql.c_str()));
  Using u(*s);
  std::vector<Account> out;
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) {
    LUMEN_ASSIGN_OR_RETURN(Account a, ReadAccount(*s));
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return impl_->Error("list accounts");
  return out;
}

Status SqliteStore::SetAccountPassword(std::int64_t id, const std::string& password_hash) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s,
                         impl_->Get("UPDATE accounts SET password_hash = ? WHERE id = ?"));
  s->Bind(1, password_hash).Bind(2, id);
  LUMEN_RETURN_IF_ERROR(impl_->Done(*s, "set password"));
  return impl_->ChangedOne("account", id);
}

Status SqliteStore::InsertSession(const SessionRecord& r) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("INSERT INTO sessions(token_hash, account_id, "
                                              "csrf_token, created_us, expires_us) "
                                              "VALUES(?,?,?,?,?)"));
  s->Bind(1, r.token_hash).Bind(2, r.account_id).Bind(3, r.csrf_token);
  s->Bind(4, r.created_us).Bind(5, r.expires_us);
  return impl_->Done(*s, "insert session");
}

Result<std::optional<SessionRecord>> SqliteStore::GetSession(const std::string& token_hash) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("SELECT token_hash, account_id, csrf_token, "
                                              "created_us, expires_us FROM sessions "
                                              "WHERE token_hash = ?"));
  Using u(*s);
  s->Bind(1, token_hash);
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return std::optional<SessionRecord>();
  if (rc != SQLITE_ROW) return impl_->Error("get session");
  SessionRecord r;
  r.token_hash = s->Text(0);
  r.account_id = s->Int(1);
  r.csrf_token = s->Text(2);
  r.created_us = s->Int(3);
  r.expires_us = s->Int(4);
  return std::optional<SessionRecord>(std::move(r));
}

Status SqliteStore::DeleteSession(const std::string& token_hash) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("DELETE FROM sessions WHERE token_hash = ?"));
  s->Bind(1, token_hash);
  return impl_->Done(*s, "delete session");
}

Status SqliteStore::DeleteExpiredSessions(std::int64_t now_us) {
  LUMEN_ASSIGN_OR_RETURN(Stmt * s, impl_->Get("DELETE FROM sessions WHERE expires_us < ?"));
  s->Bind(1, now_us);
  return impl_->Done(*s, "delete expired sessions");
}

}  // namespace lumen::ads
