// The page and passage store: one SQLite database, `<data_dir>/lumen.db`, in WAL mode.
//
// What it holds
//   pages      one row per fetched URL: url (unique), canonical url, title, site, language,
//              published and fetched_at (Unix seconds, 0 = unknown), content hash, extracted text.
//   passages   the chunks of a page (ordinal, heading path, character offsets into the page text,
//              text). Passage ids come from AUTOINCREMENT and are never reused, so the FAISS
//              vector index can key vectors by passage id.
//   passages_fts  FTS5 over (title, heading path, body) with `porter unicode61
//              remove_diacritics 2`; BM25 weights title and headings above the body.
//   passage_log  an append-only log of passage additions and removals (filled by triggers in the
//              same transaction as the change); the vector index remembers the last sequence
//              number it applied and catches up from there (`lumen index`).
//
// Consistency: UpsertPage and DeletePage change the page, its passages, the FTS index and the
// log in one transaction: a reader sees all of a change or none of it.
//
// Schema versions: each component owning tables in lumen.db has a name and a list of forward
// migrations (SQL scripts); the store records the version applied per component in
// `schema_versions` and applies the missing ones, in order, each in its own transaction, when
// the database is opened. A database written by a newer Lumen (a version beyond the list) is
// refused with kCorruption rather than guessed at. The store's own component is "store".
// Other components keeping tables in lumen.db (the crawl frontier) call ApplyMigrations with
// their own component name and list — append to a list, never edit a released entry — and then
// use db() for their statements.
//
// Threading: a Store is one SQLite connection; its methods are serialised by an internal mutex,
// so it may be shared between threads. For parallel reads open one Store per thread: WAL lets
// any number of readers proceed while one writer writes (a writer waits up to busy_timeout_ms
// for another writer).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "retrieval/passage.h"
#include "retrieval/sqlite.h"

namespace lumen::retrieval {

// A page as stored. `id` is assigned by the store (0 before the first upsert).
struct PageRecord {
  std::int64_t id = 0;
  std::string url;            // as fetched (normalised by the caller); unique key
  std::string canonical_url;  // <link rel=canonical> or the url; may be empty
  std::string title;
  std::string site;             // host or site name shown next to a source
  std::string language;         // BCP 47 tag ("en"), may be empty
  std::int64_t published = 0;   // Unix seconds, 0 = unknown
  std::int64_t fetched_at = 0;  // Unix seconds
  std::string content_hash;     // any stable hash of the extracted text (hex); drives re-crawl
  std::string text;             // the extracted main text
};

// A stored passage (retrieval/passage.h; its page_id is filled in) with its store id and what a
// source line needs from its page (for ranking and display).
struct PassageView {
  std::int64_t id = 0;  // the passage's id: also its id in the vector index
  Passage passage;
  std::string url;
  std::string title;
  std::string site;
  std::int64_t published = 0;
};

struct UpsertResult {
  std::int64_t page_id = 0;
  // True when the page existed with the same content hash and title: nothing was rewritten
  // (fetched_at is still updated).
  bool unchanged = false;
  std::vector<std::int64_t> added_passage_ids;    // in ordinal order
  std::vector<std::int64_t> removed_passage_ids;  // passages of the previous version
};

// One full-text hit. `score` is FTS5's bm25() negated, so larger is better.
struct LexicalHit {
  std::int64_t passage_id = 0;
  double score = 0;
};

// One entry of the passage log.
struct PassageChange {
  std::int64_t seq = 0;
  std::int64_t passage_id = 0;
  bool added = true;  // false: removed
};

struct StoreOptions {
  bool read_only = false;
  int busy_timeout_ms = 5000;
  // BM25 column weights for title, heading path and body.
  double title_weight = 1.5;
  double heading_weight = 2.0;
  double body_weight = 1.0;
};

class Store {
 public:
  // Opens `<data_dir>/lumen.db`, creating the folder and the file when needed (unless
  // read_only), and applies the store's migrations. kIoError when the folder or file cannot be
  // created or opened; kCorruption when the file is not a database or is from a newer Lumen.
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir,
                                             const StoreOptions& options = {});
  // Same, for an explicit database file path.
  static Result<std::unique_ptr<Store>> OpenFile(const std::string& db_path,
                                                 const StoreOptions& options = {});

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Inserts or replaces the page keyed by `page.url` with `passages` (their
  // page_id and word_count are ignored), in one transaction. When the stored page has the same
  // content_hash and title, only fetched_at is updated and `unchanged` is set. Otherwise every old
  // passage is removed and the new ones inserted (the FTS index and passage log follow).
  // kInvalidArgument for an empty url or a passage whose offsets are reversed.
  Result<UpsertResult> UpsertPage(const PageRecord& page, std::span<const Passage> passages);

  // Removes the page with this url and its passages. Returns the removed passage ids (empty
  // and OK when no such page exists).
  Result<std::vector<std::int64_t>> DeletePage(std::string_view url);

  // The page stored under `url` (text included), or nullopt.
  Result<std::optional<PageRecord>> FindPageByUrl(std::string_view url);
  Result<std::optional<PageRecord>> FindPageById(std::int64_t page_id);

  // The passages of one page in ordinal order.
  Result<std::vector<PassageView>> PassagesOfPage(std::int64_t page_id);

  // The passages with these ids, with their page's url/title/site, in the order of `ids`;
  // ids that do not exist (any more) are skipped.
  Result<std::vector<PassageView>> GetPassages(std::span<const std::int64_t> ids);

  // Calls `fn` for every passage with id > after_id, in id order, reading `batch` rows at a
  // time. Stops early and returns fn's Status when it is not OK. `fn` must not call back into
  // this Store (the internal mutex is held).
  Status ForEachPassage(std::int64_t after_id, std::size_t batch,
                        const std::function<Status(const PassageView&)>& fn);

  // Full-text search: the best `k` passages for `query` by BM25. The query is free text, never
  // FTS5 syntax: it is split into words (invalid UTF-8 replaced, at most 64 words of at most
  // 64 bytes), common English stop-words are dropped unless nothing else is left, and the words
  // are OR-ed as quoted terms. An empty or word-less query returns no hits.
  Result<std::vector<LexicalHit>> SearchBm25(std::string_view query, int k);

  // Passage log entries with seq > after_seq, in order (at most `limit`).
  Result<std::vector<PassageChange>> ChangesSince(std::int64_t after_seq, std::size_t limit);
  // The largest seq in the passage log (0 when empty).
  Result<std::int64_t> LastChangeSeq();

  Result<std::int64_t> CountPages();
  Result<std::int64_t> CountPassages();

  // Applies the migrations of `component` beyond its recorded version (see the file comment).
  // migrations[i] brings the component from version i to i+1.
  Status ApplyMigrations(std::string_view component, std::span<const std::string_view> migrations);
  // The version recorded for `component` (0 when never migrated).
  Result<int> SchemaVersion(std::string_view component);

  // The underlying connection, for components with their own tables (the crawl frontier).
  // Callers must hold mutex() while using it when the Store is shared between threads.
  const Db& db() const { return db_; }
  std::mutex& mutex() const { return mu_; }
  const std::string& path() const { return db_.path(); }

 private:
  Store(Db db, const StoreOptions& options) : db_(std::move(db)), options_(options) {}
  Status ApplyMigrationsLocked(std::string_view component,
                               std::span<const std::string_view> migrations);
  Result<std::optional<PageRecord>> FindPageLocked(const char* where, const std::string& key,
                                                   std::int64_t id);

  Db db_;
  StoreOptions options_;
  mutable std::mutex mu_;
};

// Turns free text into a safe FTS5 MATCH expression of OR-ed quoted words (see SearchBm25).
// Returns "" when the text has no words. Exposed for tests.
std::string BuildFtsQuery(std::string_view text);

// Lower-cased words of `text` (letters, digits and any non-ASCII UTF-8 sequence form words;
// invalid UTF-8 bytes separate words). Shared by the FTS query builder and the embedders.
std::vector<std::string> SplitWords(std::string_view text);

// True for common English stop-words ("the", "of", "what", ...); `word` must be lower case.
bool IsStopWord(std::string_view word);

}  // namespace lumen::retrieval
