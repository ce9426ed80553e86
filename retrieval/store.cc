#include "retrieval/store.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>
#include <system_error>

namespace lumen::retrieval {
namespace {

// The store's forward migrations. Append only: migration i takes version i to i+1.
// Passages keep a copy of their page's title so that the FTS5 index can be an external-content
// index over the passages table alone (no join on the hot path).
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE pages(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL UNIQUE,
  canonical_url TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  site TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT '',
  published INTEGER NOT NULL DEFAULT 0,
  fetched_at INTEGER NOT NULL DEFAULT 0,
  content_hash TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT ''
);
CREATE TABLE passages(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  heading_path TEXT NOT NULL DEFAULT '',
  char_start INTEGER NOT NULL,
  char_end INTEGER NOT NULL,
  text TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  word_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX passages_by_page ON passages(page_id, ordinal);
CREATE TABLE passage_log(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  passage_id INTEGER NOT NULL,
  added INTEGER NOT NULL
);
CREATE VIRTUAL TABLE passages_fts USING fts5(
  title, heading_path, text,
  content='passages', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER passages_after_insert AFTER INSERT ON passages BEGIN
  INSERT INTO passages_fts(rowid, title, heading_path, text)
    VALUES (new.id, new.title, new.heading_path, new.text);
  INSERT INTO passage_log(passage_id, added) VALUES (new.id, 1);
END;
CREATE TRIGGER passages_after_delete AFTER DELETE ON passages BEGIN
  INSERT INTO passages_fts(passages_fts, rowid, title, heading_path, text)
    VALUES ('delete', old.id, old.title, old.heading_path, old.text);
  INSERT INTO passage_log(passage_id, added) VALUES (old.id, 0);
END;
CREATE TRIGGER passages_no_update BEFORE UPDATE ON passages BEGIN
  SELECT RAISE(ABORT, 'passages are immutable: delete and insert instead');
END;
)sql";

constexpr std::array<std::string_view, 1> kStoreMigrations = {kMigration1};

constexpr std::string_view kPageColumns =
    "id, url, canonical_url, title, site, language, published, fetched_at, content_hash, text";

PageRecord ReadPage(const Statement& st) {
  PageRecord p;
  p.id = st.ColumnInt64(0);
  p.url = st.ColumnText(1);
  p.canonical_url = st.ColumnText(2);
  p.title = st.ColumnText(3);
  p.site = st.ColumnText(4);
  p.language = st.ColumnText(5);
  p.published = st.ColumnInt64(6);
  p.fetched_at = st.ColumnInt64(7);
  p.content_hash = st.ColumnText(8);
  p.text = st.ColumnText(9);
  return p;
}

constexpr std::string_view kPassageViewSelect =
    "SELECT p.id, p.page_id, p.ordinal, p.heading_path, p.char_start, p.char_end, p.text, "
    "g.url, g.title, g.site, g.published, p.word_count FROM passages p JOIN pages g ON g.id = "
    "p.page_id ";

PassageView ReadPassageView(const Statement& st) {
  PassageView v;
  v.id = st.ColumnInt64(0);
  v.passage.page_id = st.ColumnInt64(1);
  v.passage.ordinal = static_cast<int>(st.ColumnInt64(2));
  v.passage.heading_path = st.ColumnText(3);
  v.passage.begin = static_cast<std::size_t>(st.ColumnInt64(4));
  v.passage.end = static_cast<std::size_t>(st.ColumnInt64(5));
  v.passage.text = st.ColumnText(6);
  v.url = st.ColumnText(7);
  v.title = st.ColumnText(8);
  v.site = st.ColumnText(9);
  v.published = st.ColumnInt64(10);
  v.passage.word_count = static_cast<int>(st.ColumnInt64(11));
  return v;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;  // overlong, out of range or a surrogate
  return n;
}

bool IsAsciiWordChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr std::size_t kMaxWordBytes = 64;
constexpr std::size_t kMaxQueryWords = 64;

}  // namespace

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && cur.size() <= kMaxWordBytes) words.push_back(cur);
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (IsAsciiWordChar(c)) {
        cur.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      } else {
        flush();
      }
      ++i;
      continue;
    }
    const std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {  // invalid byte: a separator
      flush();
      ++i;
      continue;
    }
    // Common Unicode punctuation and spaces separate words; other characters belong to them.
    const std::string_view seq = text.substr(i, n);
    static constexpr std::array<std::string_view, 12> kSeparators = {
        "\u00a0", "\u2013", "\u2014", "\u2018", "\u2019", "\u201c",
        "\u201d", "\u2026", "\u00ab", "\u00bb", "\u00b7", "\u2022"};
    if (std::find(kSeparators.begin(), kSeparators.end(), seq) != kSeparators.end()) {
      flush();
    } else {
      cur.append(seq);
    }
    i += n;
  }
  flush();
  return words;
}

bool IsStopWord(std::string_view word) {
  static const std::set<std::string_view, std::less<>> kStopWords = {
      "a",       "about",  "above",   "after",  "again",   "against", "all",     "am",    "an",
      "and",     "any",    "are",     "as",     "at",      "be",      "because", "been",  "before",
      "being",   "below",  "between", "both",   "but",     "by",      "can",     "could", "did",
      "do",      "does",   "doing",   "down",   "during",  "each",    "few",     "for",   "from",
      "further", "had",    "has",     "have",   "having",  "he",      "her",     "here",  "hers",
      "herself", "him",    "himself", "his",    "how",     "i",       "if",      "in",    "into",
      "is",      "it",     "its",     "itself", "just",    "me",      "more",    "most",  "my",
      "myself",  "no",     "nor",     "not",    "now",     "of",      "off",     "on",    "once",
      "only",    "or",     "other",   "our",    "ours",    "out",     "over",    "own",   "same",
      "she",     "should", "so",      "some",   "such",    "than",    "that",    "the",   "their",
      "theirs",  "them",   "then",    "there",  "these",   "they",    "this",    "those", "through",
      "to",      "too",    "under",   "until",  "up",      "very",    "was",     "we",    "were",
      "what",    "when",   "where",   "which",  "while",   "who",     "whom",    "why",   "will",
      "with",    "would",  "you",     "your",   "yours",   "s",       "t",       "also",  "may",
      "must",    "shall",  "might",   "upon",   "whether", "within",  "without", "yet"};
  return kStopWords.count(word) > 0;
}

std::string BuildFtsQuery(std::string_view text) {
  std::vector<std::string> words = SplitWords(text);
  std::vector<std::string> kept;
  std::set<std::string> seen;
  for (const std::string& w : words) {
    if (IsStopWord(w) || !seen.insert(w).second) continue;
    kept.push_back(w);
    if (kept.size() == kMaxQueryWords) break;
  }
  if (kept.empty()) {  // only stop-words: search for them rather than for nothing
    for (const std::string& w : words) {
      if (!seen.insert(w).second) continue;
      kept.push_back(w);
      if (kept.size() == kMaxQueryWords) break;
    }
  }
  std::string q;
  for (const std::string& w : kept) {
    if (!q.empty()) q += " OR ";
    // Words hold no '"' (SplitWords keeps only letters, digits and non-ASCII characters), so
    // quoting makes each one a plain term whatever it spells (NEAR, AND, column:...).
    q += '"';
    q += w;
    q += '"';
  }
  return q;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir,
                                           const StoreOptions& options) {
  if (data_dir.empty()) return InvalidArgument("data_dir is empty");
  if (!options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return IoError("cannot create data folder " + data_dir + ": " + ec.message());
  }
  return OpenFile((std::filesystem::path(data_dir) / "lumen.db").string(), options);
}

Result<std::unique_ptr<Store>> Store::OpenFile(const std::string& db_path,
                                               const StoreOptions& options) {
  LUMEN_ASSIGN_OR_RETURN(Db db, Db::Open(db_path, {.read_only = options.read_only,
                                                   .busy_timeout_ms = options.busy_timeout_ms}));
  std::unique_ptr<Store> store(new Store(std::move(db), options));
  if (!options.read_only) {
    LUMEN_RETURN_IF_ERROR(
        store->db_.Exec("CREATE TABLE IF NOT EXISTS schema_versions("
                        "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
    LUMEN_RETURN_IF_ERROR(store->ApplyMigrationsLocked("store", kStoreMigrations));
  }
  // Reads map the file instead of copying pages through read(2) (passage lookups on the query
  // path); the cache keeps the hot pages of the passage table and FTS index.
  LUMEN_RETURN_IF_ERROR(store->db_.Exec("PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536"));
  if (options.read_only) {
    LUMEN_ASSIGN_OR_RETURN(int v, store->SchemaVersion("store"));
    if (v != static_cast<int>(kStoreMigrations.size()))
      return Unavailable(db_path + " has store schema version " + std::to_string(v) +
                         ", this Lumen expects " + std::to_string(kStoreMigrations.size()) +
                         " (open it read-write once to migrate)");
  }
  return store;
}

Result<int> Store::SchemaVersion(std::string_view component) {
  LUMEN_ASSIGN_OR_RETURN(
      Statement exists,
      db_.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_versions'"));
  LUMEN_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return 0;
  LUMEN_ASSIGN_OR_RETURN(Statement st,
                         db_.Prepare("SELECT version FROM schema_versions WHERE component = ?1"));
  st.Bind(1, component);
  LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.ColumnInt64(0)) : 0;
}

Status Store::ApplyMigrations(std::string_view component,
                              std::span<const std::string_view> migrations) {
  std::lock_guard lock(mu_);
  return ApplyMigrationsLocked(component, migrations);
}

Status Store::ApplyMigrationsLocked(std::string_view component,
                                    std::span<const std::string_view> migrations) {
  if (options_.read_only) return InvalidArgument("cannot migrate a read-only store");
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_));
    LUMEN_ASSIGN_OR_RETURN(int version, SchemaVersion(component));
    if (version > static_cast<int>(migrations.size()))
      return Corruption(db_.path() + ": schema of \"" + std::string(component) +
                        "\" is at version " + std::to_string(version) +
                        ", newer than this Lumen knows (" + std::to_string(migrations.size()) +
                        "); upgrade Lumen");
    if (version == static_cast<int>(migrations.size())) return tx.Commit();
    LUMEN_RETURN_IF_ERROR(db_.Exec(migrations[version])
                              .WithContext("migrating \"" + std::string(component) +
                                           "\" to version " + std::to_string(version + 1)));
    LUMEN_ASSIGN_OR_RETURN(
        Statement st,
        db_.Prepare("INSERT INTO schema_versions(component, version) VALUES (?1, ?2) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version"));
    st.Bind(1, component);
    st.Bind(2, version + 1);
    LUMEN_RETURN_IF_ERROR(st.Run());
    LUMEN_RETURN_IF_ERROR(tx.Commit());
  }
}

Result<UpsertResult> Store::UpsertPage(const PageRecord& page, std::span<const Passage> passages) {
  if (page.url.empty()) return InvalidArgument("page url is empty");
  for (const Passage& p : passages) {
    if (p.end < p.begin)
      return InvalidArgument("passage " + std::to_string(p.ordinal) + " of " + page.url +
                             " has invalid offsets [" + std::to_string(p.begin) + ", " +
                             std::to_string(p.end) + ")");
  }
  std::lock_guard lock(mu_);
  LUMEN_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_));
  UpsertResult result;
  LUMEN_ASSIGN_OR_RETURN(std::optional<PageRecord> old, FindPageLocked("url", page.url, 0));
  if (old && old->content_hash == page.content_hash && old->title == page.title &&
      !page.content_hash.empty()) {
    LUMEN_ASSIGN_OR_RETURN(Statement st,
                           db_.Prepare("UPDATE pages SET fetched_at = ?1 WHERE id = ?2"));
    st.Bind(1, page.fetched_at);
    st.Bind(2, old->id);
    LUMEN_RETURN_IF_ERROR(st.Run());
    LUMEN_RETURN_IF_ERROR(tx.Commit());
    result.page_id = old->id;
    result.unchanged = true;
    return result;
  }
  if (old) {
    LUMEN_ASSIGN_OR_RETURN(Statement ids,
                           db_.Prepare("SELECT id FROM passages WHERE page_id = ?1 ORDER BY id"));
    ids.Bind(1, old->id);
    for (;;) {
      LUMEN_ASSIGN_OR_RETURN(bool row, ids.Step());
      if (!row) break;
      result.removed_passage_ids.push_back(ids.ColumnInt64(0));
    }
    LUMEN_ASSIGN_OR_RETURN(Statement del, db_.Prepare("DELETE FROM passages WHERE page_id = ?1"));
    del.Bind(1, old->id);
    LUMEN_RETURN_IF_ERROR(del.Run());
    LUMEN_ASSIGN_OR_RETURN(
        Statement up,
        db_.Prepare("UPDATE pages SET canonical_url=?1, title=?2, site=?3, language=?4, "
                    "published=?5, fetched_at=?6, content_hash=?7, text=?8 WHERE id=?9"));
    up.Bind(1, page.canonical_url);
    up.Bind(2, page.title);
    up.Bind(3, page.site);
    up.Bind(4, page.language);
    up.Bind(5, page.published);
    up.Bind(6, page.fetched_at);
    up.Bind(7, page.content_hash);
    up.Bind(8, page.text);
    up.Bind(9, old->id);
    LUMEN_RETURN_IF_ERROR(up.Run());
    result.page_id = old->id;
  } else {
    LUMEN_ASSIGN_OR_RETURN(
        Statement ins,
        db_.Prepare("INSERT INTO pages(url, canonical_url, title, site, language, published, "
                    "fetched_at, content_hash, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    ins.Bind(1, page.url);
    ins.Bind(2, page.canonical_url);
    ins.Bind(3, page.title);
    ins.Bind(4, page.site);
    ins.Bind(5, page.language);
    ins.Bind(6, page.published);
    ins.Bind(7, page.fetched_at);
    ins.Bind(8, page.content_hash);
    ins.Bind(9, page.text);
    LUMEN_RETURN_IF_ERROR(ins.Run());
    result.page_id = db_.LastInsertRowId();
  }
  LUMEN_ASSIGN_OR_RETURN(
      Statement add,
      db_.Prepare("INSERT INTO passages(page_id, ordinal, heading_path, char_start, char_end, "
                  "text, title, word_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  for (const Passage& p : passages) {
    add.Reset();
    add.Bind(1, result.page_id);
    add.Bind(2, p.ordinal);
    add.Bind(3, p.heading_path);
    add.Bind(4, static_cast<std::int64_t>(p.begin));
    add.Bind(5, static_cast<std::int64_t>(p.end));
    add.Bind(6, p.text);
    add.Bind(7, page.title);
    add.Bind(8, p.word_count);
    LUMEN_RETURN_IF_ERROR(add.Run());
    result.added_passage_ids.push_back(db_.LastInsertRowId());
  }
  LUMEN_RETURN_IF_ERROR(tx.Commit());
  return result;
}

Result<std::vector<std::int64_t>> Store::DeletePage(std::string_view url) {
  std::lock_guard lock(mu_);
  LUMEN_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_));
  std::vector<std::int64_t> removed;
  LUMEN_ASSIGN_OR_RETURN(Statement ids,
                         db_.Prepare("SELECT p.id FROM passages p JOIN pages g ON g.id = p.page_id "
                                     "WHERE g.url = ?1 ORDER BY p.id"));
  ids.Bind(1, url);
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, ids.Step());
    if (!row) break;
    removed.push_back(ids.ColumnInt64(0));
  }
  LUMEN_ASSIGN_OR_RETURN(
      Statement del_passages,
      db_.Prepare("DELETE FROM passages WHERE page_id IN (SELECT id FROM pages WHERE url = ?1)"));
  del_passages.Bind(1, url);
  LUMEN_RETURN_IF_ERROR(del_passages.Run());
  LUMEN_ASSIGN_OR_RETURN(Statement del, db_.Prepare("DELETE FROM pages WHERE url = ?1"));
  del.Bind(1, url);
  LUMEN_RETURN_IF_ERROR(del.Run());
  LUMEN_RETURN_IF_ERROR(tx.Commit());
  return removed;
}

Result<std::optional<PageRecord>> Store::FindPageLocked(const char* where, const std::string& key,
                                                        std::int64_t id) {
  LUMEN_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT " + std::string(kPageColumns) +
                                                   " FROM pages WHERE " + where + " = ?1"));
  if (std::string_view(where) == "id") {
    st.Bind(1, id);
  } else {
    st.Bind(1, key);
  }
  LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<PageRecord>();
  return std::optional<PageRecord>(ReadPage(st));
}

Result<std::optional<PageRecord>> Store::FindPageByUrl(std::string_view url) {
  std::lock_guard lock(mu_);
  return FindPageLocked("url", std::string(url), 0);
}

Result<std::optional<PageRecord>> Store::FindPageById(std::int64_t page_id) {
  std::lock_guard lock(mu_);
  return FindPageLocked("id", "", page_id);
}

Result<std::vector<PassageView>> Store::PassagesOfPage(std::int64_t page_id) {
  std::lock_guard lock(mu_);
  LUMEN_ASSIGN_OR_RETURN(Statement st,
                         db_.Prepare(std::string(kPassageViewSelect) +
                                     "WHERE p.page_id = ?1 ORDER BY p.ordinal, p.id"));
  st.Bind(1, page_id);
  std::vector<PassageView> out;
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadPassageView(st));
  }
  return out;
}

Result<std::vector<PassageView>> Store::GetPassages(std::span<const std::int64_t> ids) {
  std::lock_guard lock(mu_);
  // One read transaction for all the lookups: one snapshot and one lock, not one per id.
  LUMEN_RETURN_IF_ERROR(db_.Exec("BEGIN"));
  struct EndRead {
    const Db& db;
    ~EndRead() { (void)db.Exec("COMMIT"); }
  } end_read{db_};
  LUMEN_ASSIGN_OR_RETURN(Statement st,
                         db_.Prepare(std::string(kPassageViewSelect) + "WHERE p.id = ?1"));
  std::vector<PassageView> out;
  out.reserve(ids.size());
  for (std::int64_t id : ids) {
    st.Reset();
    st.Bind(1, id);
    LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) out.push_back(ReadPassageView(st));
  }
  return out;
}

Status Store::ForEachPassage(std::int64_t after_id, std::size_t batch,
                             const std::function<Status(const PassageView&)>& fn) {
  std::lock_guard lock(mu_);
  LUMEN_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kPassageViewSelect) +
                                                   "WHERE p.id > ?1 ORDER BY p.id LIMIT ?2"));
  const auto limit = static_cast<std::int64_t>(std::max<std::size_t>(batch, 1));
  for (;;) {
    st.Reset();
    st.Bind(1, after_id);
    st.Bind(2, limit);
    std::vector<PassageView> rows;
    for (;;) {
      LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      rows.push_back(ReadPassageView(st));
    }
    st.Reset();  // release the read snapshot before calling out
    for (const PassageView& v : rows) LUMEN_RETURN_IF_ERROR(fn(v));
    if (static_cast<std::int64_t>(rows.size()) < limit) return Status::Ok();
    after_id = rows.back().id;
  }
}

Result<std::vector<LexicalHit>> Store::SearchBm25(std::string_view query, int k) {
  std::vector<LexicalHit> hits;
  const std::string match = BuildFtsQuery(query);
  if (match.empty() || k <= 0) return hits;
  std::lock_guard lock(mu_);
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      db_.Prepare("SELECT rowid, bm25(passages_fts, ?2, ?3, ?4) AS s "
                  "FROM passages_fts WHERE passages_fts MATCH ?1 ORDER BY s LIMIT ?5"));
  st.Bind(1, match);
  st.Bind(2, options_.title_weight);
  st.Bind(3, options_.heading_weight);
  st.Bind(4, options_.body_weight);
  st.Bind(5, static_cast<std::int64_t>(k));
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    hits.push_back({.passage_id = st.ColumnInt64(0), .score = -st.ColumnDouble(1)});
  }
  return hits;
}

Result<std::vector<PassageChange>> Store::ChangesSince(std::int64_t after_seq, std::size_t limit) {
  std::lock_guard lock(mu_);
  LUMEN_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT seq, passage_id, added FROM passage_log "
                                                   "WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
  st.Bind(1, after_seq);
  st.Bind(2, static_cast<std::int64_t>(limit));
  std::vector<PassageChange> out;
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({.seq = st.ColumnInt64(0),
                   .passage_id = st.ColumnInt64(1),
                   .added = st.ColumnInt64(2) != 0});
  }
  return out;
}

namespace {
Result<std::int64_t> ScalarInt(const Db& db, std::string_view sql) {
  LUMEN_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt64(0) : 0;
}
}  // namespace

Result<std::int64_t> Store::LastChangeSeq() {
  std::lock_guard lock(mu_);
  return ScalarInt(db_, "SELECT COALESCE(MAX(seq), 0) FROM passage_log");
}

Result<std::int64_t> Store::CountPages() {
  std::lock_guard lock(mu_);
  return ScalarInt(db_, "SELECT COUNT(*) FROM pages");
}

Result<std::int64_t> Store::CountPassages() {
  std::lock_guard lock(mu_);
  return ScalarInt(db_, "SELECT COUNT(*) FROM passages");
}

}  // namespace lumen::retrieval
