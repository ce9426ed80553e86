// Thin RAII wrappers over the SQLite C API: a connection (Db), a prepared statement (Statement)
// and a scoped transaction (Transaction). Errors come back as Status values whose message names
// the SQL that failed and SQLite's own message.
//
//   LUMEN_ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT id FROM pages WHERE url = ?1"));
//   st.Bind(1, url);
//   LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
//   if (row) id = st.ColumnInt64(0);
//
// Values are always bound as parameters, never spliced into SQL text. A Db and its Statements
// belong to one thread at a time (SQLite's multi-thread mode): open one Db per thread when
// several threads need the database; WAL lets readers proceed while one writer writes.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lumen::retrieval {

class Statement {
 public:
  Statement() = default;
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Binding: 1-based parameter index. Text and blobs are copied by SQLite (SQLITE_TRANSIENT).
  void Bind(int index, std::int64_t value);
  void Bind(int index, int value) { Bind(index, static_cast<std::int64_t>(value)); }
  void Bind(int index, double value);
  void Bind(int index, std::string_view text);
  void BindBlob(int index, const void* data, std::size_t size);
  void BindNull(int index);

  // Advances: true when a row is available, false when done; an error otherwise.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();
  // Resets the statement and clears its bindings so it can run again.
  void Reset();

  std::int64_t ColumnInt64(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;  // "" for NULL
  std::string_view ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

  sqlite3_stmt* get() const { return stmt_.get(); }

 private:
  friend class Db;
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Statement(sqlite3_stmt* stmt, std::string sql) : stmt_(stmt), sql_(std::move(sql)) {}
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  std::string sql_;
};

class Db {
 public:
  struct Options {
    bool read_only = false;
    // How long a statement waits for another connection's write lock before SQLITE_BUSY.
    int busy_timeout_ms = 5000;
  };

  // Opens (creating unless read_only) the database file at `path`, in WAL mode with
  // synchronous=NORMAL and foreign keys on. Fails with kIoError when it cannot be opened.
  static Result<Db> Open(const std::string& path, const Options& options);
  static Result<Db> Open(const std::string& path) { return Open(path, Options{}); }

  Db() = default;
  Db(Db&&) noexcept = default;
  Db& operator=(Db&&) noexcept = default;

  // Compiles one SQL statement.
  Result<Statement> Prepare(std::string_view sql) const;
  // Runs one or more statements that take no parameters (schema, pragmas).
  Status Exec(std::string_view sql) const;
  std::int64_t LastInsertRowId() const;
  int Changes() const;

  sqlite3* get() const { return db_.get(); }
  const std::string& path() const { return path_; }

 private:
  struct Closer {
    void operator()(sqlite3* d) const { sqlite3_close_v2(d); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so a writer never fails half
// way on a lock upgrade); ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(const Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(const Db* db) : db_(db) {}
  const Db* db_;
};

}  // namespace lumen::retrieval
