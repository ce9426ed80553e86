// AdServer: the API the web layer calls. It sees only the question text and the request
// context — never the prompt, the sources or the answer — and is called after the answer is
// complete.
//
//   Serve(question, context)          -> labelled slots, each with a signed impression token and
//                                        a signed click token (reserves the price in the budget)
//   RecordImpression(token, client)   -> the begin-to-render beacon; idempotent on the token
//   RecordClick(token, client)        -> the landing URL to redirect to (taken from the signed
//                                        creative, never from the request); counted once
//
// Counting: a slot is billable only when its impression beacon arrives with an authentic,
// unexpired token from a client that passes the invalid-traffic filter, and only the first time
// (a repeat is answered like the first and recorded as a duplicate). Every outcome, billable or
// not, is a ledger entry.
//
// Writes go through one writer thread that commits in batches (group commit): a call returns
// after the transaction holding its effect is committed at the configured durability, so an
// acknowledged beacon is never lost. Many concurrent callers (or the *Async variants) make
// batches large; a lone caller gets one transaction per call.
//
// Thread-safe: every method may be called from any number of threads. The destructor finishes
// queued work. One AdServer per ads.db per machine: it caches the catalog but re-reads it when
// another process (`lumen ads ...`) changes it, and reads the ledger head per transaction, so
// the command line may write while a server runs.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ads/invalid_traffic.h"
#include "ads/options.h"
#include "ads/store.h"

namespace lumen::ads {

struct RequestContext {
  std::string request_id;  // "" = generated; at most 64 bytes are kept
  std::string user_id;     // pseudonymous visitor id (cookie) for frequency caps; may be ""
  std::string session_id;  // may be ""
  std::string language;    // BCP 47 ("en", "de-CH"); "" = unknown
  ClientInfo client;       // requests from bots get no sponsored slots
};

struct SponsoredSlot {
  int slot = 0;       // 1-based position
  std::string label;  // always shown with the slot ("Sponsored")
  std::int64_t advertiser_id = 0;
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  std::string title;
  std::string body;
  std::string display_url;
  std::string impression_token;  // for the impression beacon URL
  std::string click_token;       // for the click redirect URL
  std::int64_t impression_expires_s = 0;
};

struct ServeResult {
  std::string request_id;
  std::vector<SponsoredSlot> slots;  // empty: no ad (the reason says why, for logs)
  std::string reason;
};

enum class BeaconOutcome {
  kBillable,   // counted now
  kDuplicate,  // already decided earlier; nothing changes
  kInvalid,    // recorded as invalid traffic, not billed
  kError,      // could not be recorded (storage failure): the client should retry
};
std::string_view Name(BeaconOutcome o);

struct BeaconResult {
  BeaconOutcome outcome = BeaconOutcome::kError;
  std::optional<InvalidReason> reason;  // for kInvalid and kDuplicate
  std::int64_t seq = 0;                 // the ledger entry recording this beacon
  Status error;                         // for kError
  // What the HTTP endpoint should answer: 200 for billable, duplicate and invalid (recorded; a
  // bot learns nothing), 400 for a token that is not a token at all, 503 for kError.
  int http_status = 503;
};

struct ClickResult {
  // Where to redirect (302): the creative's landing URL. Empty when the token is not authentic
  // (answer 400) or its creative is gone (404 per http_status); never taken from the request.
  std::string landing_url;
  bool counted = false;
  std::optional<InvalidReason> reason;
  std::int64_t seq = 0;
  Status error;
  int http_status = 503;
};

class AdServer {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix microseconds

  // Opens <options.db_path> (SQLite) and the signing key (see ads/secret_key.h), loads the
  // catalog and starts the writer. Errors: configuration, key and database problems.
  static Result<std::unique_ptr<AdServer>> Open(const AdsOptions& options, Clock clock = {});
  // The same over any AdStore pair (one for the writer thread, one for catalog reads).
  static Result<std::unique_ptr<AdServer>> Create(const AdsOptions& options,
                                                  std::vector<std::uint8_t> key,
                                                  std::unique_ptr<AdStore> writer,
                                                  std::unique_ptr<AdStore> reader,
                                                  Clock clock = {});
  ~AdServer();
  AdServer(const AdServer&) = delete;
  AdServer& operator=(const AdServer&) = delete;

  // Runs the auction for `question` and reserves the winners' prices. Never fails the answer:
  // on any error the result has no slots and `reason` says why.
  ServeResult Serve(std::string_view question, const RequestContext& context);

  BeaconResult RecordImpression(std::string_view token, const ClientInfo& client);
  std::future<BeaconResult> RecordImpressionAsync(std::string token, ClientInfo client);
  ClickResult RecordClick(std::string_view token, const ClientInfo& client);

  // Re-reads the catalog now (it is otherwise re-read within half a second of a change).
  Status RefreshCatalog();

  struct Impl;

 private:
  explicit AdServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lumen::ads
