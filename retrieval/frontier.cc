#include "retrieval/frontier.h"

#include <array>
#include <ctime>
#include <mutex>

namespace lumen::retrieval {
namespace {

// Forward migrations of the "frontier" component. Append only.
constexpr std::string_view kFrontierMigration1 = R"sql(
CREATE TABLE IF NOT EXISTS crawl_frontier(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL UNIQUE,
  depth INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'queued',
  reason TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  discovered_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS crawl_frontier_queue ON crawl_frontier(state, depth, id);
)sql";
constexpr std::array<std::string_view, 1> kFrontierMigrations = {kFrontierMigration1};

std::int64_t Now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

Result<Frontier> Frontier::Open(Store& store) {
  LUMEN_RETURN_IF_ERROR(store.ApplyMigrations("frontier", kFrontierMigrations));
  return Frontier(&store);
}

Result<bool> Frontier::Add(const std::string& url, int depth) {
  std::lock_guard lock(store_->mutex());
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      store_->db().Prepare("INSERT OR IGNORE INTO crawl_frontier(url, depth, discovered_at, "
                           "updated_at) VALUES(?1, ?2, ?3, ?3)"));
  st.Bind(1, url);
  st.Bind(2, depth);
  st.Bind(3, Now());
  LUMEN_RETURN_IF_ERROR(st.Run());
  return store_->db().Changes() > 0;
}

Result<std::vector<FrontierEntry>> Frontier::Take(std::size_t limit, std::int64_t now) {
  std::lock_guard lock(store_->mutex());
  std::vector<FrontierEntry> out;
  {
    LUMEN_ASSIGN_OR_RETURN(
        Statement st,
        store_->db().Prepare("SELECT id, url, depth, attempts FROM crawl_frontier WHERE "
                             "state = 'queued' AND not_before <= ?1 ORDER BY depth, id LIMIT ?2"));
    st.Bind(1, now);
    st.Bind(2, static_cast<std::int64_t>(limit));
    for (;;) {
      LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back({st.ColumnInt64(0), st.ColumnText(1), static_cast<int>(st.ColumnInt64(2)),
                     static_cast<int>(st.ColumnInt64(3))});
    }
  }
  LUMEN_ASSIGN_OR_RETURN(Statement mark,
                         store_->db().Prepare("UPDATE crawl_frontier SET state = 'fetching', "
                                              "updated_at = ?2 WHERE id = ?1"));
  for (const FrontierEntry& e : out) {
    mark.Reset();
    mark.Bind(1, e.id);
    mark.Bind(2, now);
    LUMEN_RETURN_IF_ERROR(mark.Run());
  }
  return out;
}

Status Frontier::Requeue(std::int64_t id) {
  std::lock_guard lock(store_->mutex());
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      store_->db().Prepare("UPDATE crawl_frontier SET state = 'queued' WHERE id = ?1"));
  st.Bind(1, id);
  return st.Run();
}

Status Frontier::Retry(std::int64_t id, std::int64_t not_before, const std::string& reason) {
  std::lock_guard lock(store_->mutex());
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      store_->db().Prepare("UPDATE crawl_frontier SET state = 'queued', attempts = attempts + 1, "
                           "not_before = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1"));
  st.Bind(1, id);
  st.Bind(2, not_before);
  st.Bind(3, reason);
  st.Bind(4, Now());
  return st.Run();
}

Status Frontier::Finish(std::int64_t id, const std::string& state, const std::string& reason) {
  std::lock_guard lock(store_->mutex());
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      store_->db().Prepare("UPDATE crawl_frontier SET state = ?2, reason = ?3, attempts = "
                           "attempts + 1, updated_at = ?4 WHERE id = ?1"));
  st.Bind(1, id);
  st.Bind(2, state);
  st.Bind(3, reason);
  st.Bind(4, Now());
  return st.Run();
}

Result<int> Frontier::RecoverInterrupted() {
  std::lock_guard lock(store_->mutex());
  LUMEN_RETURN_IF_ERROR(
      store_->db().Exec("UPDATE crawl_frontier SET state = 'queued' WHERE state = 'fetching'"));
  return store_->db().Changes();
}

Result<int> Frontier::RequeueFinished() {
  std::lock_guard lock(store_->mutex());
  LUMEN_RETURN_IF_ERROR(
      store_->db().Exec("UPDATE crawl_frontier SET state = 'queued', attempts = 0, not_before = 0 "
                        "WHERE state IN ('done', 'skipped', 'failed')"));
  return store_->db().Changes();
}

Result<std::int64_t> Frontier::NextNotBefore() {
  std::lock_guard lock(store_->mutex());
  LUMEN_ASSIGN_OR_RETURN(Statement st,
                         store_->db().Prepare("SELECT MIN(not_before) FROM crawl_frontier "
                                              "WHERE state = 'queued'"));
  LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.ColumnIsNull(0)) return std::int64_t{0};
  return st.ColumnInt64(0);
}

Result<std::map<std::string, std::int64_t>> Frontier::CountByState() {
  std::lock_guard lock(store_->mutex());
  std::map<std::string, std::int64_t> out;
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      store_->db().Prepare("SELECT state, COUNT(*) FROM crawl_frontier GROUP BY state"));
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[st.ColumnText(0)] = st.ColumnInt64(1);
  }
  return out;
}

Result<std::map<std::string, std::int64_t>> Frontier::CountReasons(const std::string& state) {
  std::lock_guard lock(store_->mutex());
  std::map<std::string, std::int64_t> out;
  LUMEN_ASSIGN_OR_RETURN(
      Statement st,
      store_->db().Prepare(
          "SELECT reason, COUNT(*) FROM crawl_frontier WHERE state = ?1 GROUP BY reason"));
  st.Bind(1, state);
  for (;;) {
    LUMEN_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[st.ColumnText(0)] = st.ColumnInt64(1);
  }
  return out;
}

}  // namespace lumen::retrieval
