#include "retrieval/sqlite.h"

namespace lumen::retrieval {
namespace {

Status StatusFor(int rc, std::string msg) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) return Corruption(std::move(msg));
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_READONLY ||
      primary == SQLITE_FULL)
    return IoError(std::move(msg));
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Unavailable(std::move(msg));
  if (primary == SQLITE_CONSTRAINT) return InvalidArgument(std::move(msg));
  return Internal(std::move(msg));
}

Status SqlError(sqlite3* db, int rc, std::string_view what) {
  return StatusFor(rc, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

std::string Abbrev(std::string_view sql) {
  std::string s(sql.substr(0, 120));
  for (char& c : s)
    if (c == '\n') c = ' ';
  return sql.size() > 120 ? s + "..." : s;
}

}  // namespace

void Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
}
void Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_.get(), index, value);
}
void Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void Statement::BindBlob(int index, const void* data, std::size_t size) {
  sqlite3_bind_blob64(stmt_.get(), index, data, size, SQLITE_TRANSIENT);
}
void Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_.get(), index);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(sqlite3_db_handle(stmt_.get()), rc, "sqlite: " + Abbrev(sql_));
}

Status Statement::Run() {
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::ColumnInt64(int col) const {
  return sqlite3_column_int64(stmt_.get(), col);
}
double Statement::ColumnDouble(int col) const {
  return sqlite3_column_double(stmt_.get(), col);
}
std::string Statement::ColumnText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_.get(), col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}
std::string_view Statement::ColumnBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_.get(), col);
  if (!p) return {};
  return {static_cast<const char*>(p),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col))};
}
bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

Result<Db> Db::Open(const std::string& path, const Options& options) {
  sqlite3* raw = nullptr;
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db;
  db.db_.reset(raw);
  db.path_ = path;
  if (rc != SQLITE_OK) return SqlError(raw, rc, "cannot open database " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // journal_mode=WAL reads the header: a file that is not a database fails here.
  if (!options.read_only) {
    LUMEN_RETURN_IF_ERROR(
        db.Exec("PRAGMA journal_mode=WAL").WithContext("cannot open database " + path));
  } else {
    LUMEN_RETURN_IF_ERROR(
        db.Exec("PRAGMA schema_version").WithContext("cannot open database " + path));
  }
  LUMEN_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return db;
}

Result<Statement> Db::Prepare(std::string_view sql) const {
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqlError(db_.get(), rc, "sqlite prepare: " + Abbrev(sql));
  }
  return Statement(raw, std::string(sql));
}

Status Db::Exec(std::string_view sql) const {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "sqlite: " + Abbrev(sql) + ": " + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return StatusFor(rc, std::move(msg));
  }
  return Status::Ok();
}

std::int64_t Db::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_.get());
}
int Db::Changes() const {
  return sqlite3_changes(db_.get());
}

Result<Transaction> Transaction::Begin(const Db& db) {
  LUMEN_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  if (!db_) return Internal("transaction already finished");
  Status st = db_->Exec("COMMIT");
  if (st.ok()) db_ = nullptr;
  return st;
}

}  // namespace lumen::retrieval
