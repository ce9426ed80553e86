// The crawl frontier: every URL a crawl has discovered, with its state, kept in lumen.db (table
// crawl_frontier, migrations under the component name "frontier", see retrieval/store.h), so a
// crawl resumes after Ctrl-C or a crash and never fetches a finished page again unless asked.
//
// States: queued (waiting; `not_before` delays retries), fetching (taken by a running crawl; a
// crawl that starts puts these back to queued: they were interrupted), done (stored), skipped
// (a policy said no: robots.txt, content type, near duplicate...), failed (an error).
// `reason` records why an entry was skipped or failed, or "ok".
//
// Threading: use a Frontier from one thread; it locks the Store's mutex around each statement,
// so the Store may be shared.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "retrieval/store.h"

namespace lumen::retrieval {

struct FrontierEntry {
  std::int64_t id = 0;
  std::string url;  // normalized
  int depth = 0;
  int attempts = 0;
};

class Frontier {
 public:
  // Creates the table when needed. Errors are the store's.
  static Result<Frontier> Open(Store& store);

  // Adds `url` as queued at `depth` unless it is already known. Returns whether it was added.
  Result<bool> Add(const std::string& url, int depth);
  // Up to `limit` queued entries whose not_before has passed (Unix seconds `now`), shallowest
  // first, marked fetching.
  Result<std::vector<FrontierEntry>> Take(std::size_t limit, std::int64_t now);
  // Puts an entry back to queued (interrupted fetch: no attempt counted).
  Status Requeue(std::int64_t id);
  // Queues an entry again after `not_before` (Unix seconds), counting an attempt.
  Status Retry(std::int64_t id, std::int64_t not_before, const std::string& reason);
  // Final states: "done", "skipped" or "failed", with a reason.
  Status Finish(std::int64_t id, const std::string& state, const std::string& reason);

  // Entries left fetching by an interrupted crawl go back to queued. Returns how many.
  Result<int> RecoverInterrupted();
  // Every finished entry (done, skipped, failed) goes back to queued (`lumen crawl --refresh`).
  Result<int> RequeueFinished();
  // Earliest not_before among queued entries, or 0 when none is queued.
  Result<std::int64_t> NextNotBefore();

  // Entry count per state.
  Result<std::map<std::string, std::int64_t>> CountByState();
  // Reason counts among entries in `state`.
  Result<std::map<std::string, std::int64_t>> CountReasons(const std::string& state);

 private:
  explicit Frontier(Store* store) : store_(store) {}
  Store* store_;
};

}  // namespace lumen::retrieval
