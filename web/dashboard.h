// The advertiser dashboard at /ads/: sign-in for dashboard accounts (ads/account.h), campaigns
// list and detail, creating, editing and pausing campaigns and creatives, reports (per day and
// per hour: SVG chart, table, CSV) and, for operator accounts, every advertiser's revenue and the
// ledger's verification status.
//
// Security, stated once:
//   * Sessions: random 256-bit token in the `lumen_session` cookie (HttpOnly, SameSite=Strict,
//     Path=/ads, Secure per dashboard.secure_cookies); only its SHA-256 is stored.
//   * CSRF: every POST carries a `csrf` field; signed-in forms use the session's token, the
//     sign-in form a double-submit cookie. A POST without the right token gets 403.
//   * Sign-in attempts are rate-limited per client address and per e-mail (429 + Retry-After).
//   * An advertiser account sees only its advertiser's data: another advertiser's campaign or
//     creative id, in a URL or a form, answers 404 exactly like an id that does not exist.
//   * Every number comes from ads::BuildReport (the hourly roll-ups that `lumen ads verify`
//     proves equal to the ledger), formatted as `lumen ads report` formats it.
//
// Thread-safe: handlers share one ads.db connection behind a mutex (dashboard traffic is light;
// the lock also means at most one Argon2id evaluation, 64 MiB, runs at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ads/sqlite_store.h"
#include "core/config.h"
#include "core/log.h"
#include "web/http_server.h"

namespace lumen::web {

struct DashboardOptions {
  bool enabled = true;
  std::string db_path;  // ads.db (ads.* keys decide where)
  ads::SqliteStoreOptions store;
  std::int64_t session_ttl_s = 8 * 3600;
  // kAuto: Secure when the request came over TLS as a proxy reports it (X-Forwarded-Proto).
  enum class SecureCookies { kAuto, kAlways, kNever };
  SecureCookies secure_cookies = SecureCookies::kAuto;
  int signin_attempts_per_minute_per_ip = 20;
  int signin_attempts_per_minute_per_account = 5;

  // Reads dashboard.* (and ads.* for the database); errors name the key.
  static Result<DashboardOptions> FromConfig(const Config& config);
};

class Dashboard {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix microseconds

  // Opens the ads database (creating or migrating its schema). Errors: the database's.
  static Result<std::unique_ptr<Dashboard>> Open(const DashboardOptions& options, Logger& log,
                                                 Clock clock = {});
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Adds the /ads/ routes. The dashboard must outlive the server.
  void Register(HttpServer& server);

  struct Impl;

 private:
  explicit Dashboard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// For `lumen serve`: the dashboard named by the configuration, or null when dashboard.enabled is
// false. Errors: configuration values (InvalidArgument naming the key) and the database's.
Result<std::unique_ptr<Dashboard>> OpenDashboard(const Config& config, Logger& log);

}  // namespace lumen::web
