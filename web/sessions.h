// Dashboard sessions: a signed-in browser holds a random 256-bit token in an HttpOnly,
// SameSite=Strict cookie; the server keeps only the token's SHA-256 (ads.db, table sessions), so
// a copy of the database does not let anyone sign in. Each session has its own CSRF token that
// every form of the session carries.
//
// SessionBook is not thread-safe (it uses one AdStore); the dashboard serialises access to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "ads/account.h"
#include "ads/store.h"

namespace lumen::web {

struct Session {
  ads::Account account;
  std::string csrf_token;
  std::int64_t expires_us = 0;
};

class SessionBook {
 public:
  SessionBook(ads::AdStore& store, std::int64_t ttl_s) : store_(store), ttl_s_(ttl_s) {}

  struct Created {
    std::string token;  // goes into the cookie; never stored
    std::string csrf_token;
  };
  // Starts a session for `account_id` (and drops sessions that have expired).
  Result<Created> Create(std::int64_t account_id, std::int64_t now_us);
  // The live session whose token this is; nullopt for an unknown, malformed or expired token.
  Result<std::optional<Session>> Find(std::string_view token, std::int64_t now_us);
  // Ends the session (nothing happens for an unknown token).
  Status Destroy(std::string_view token);

  std::int64_t ttl_s() const { return ttl_s_; }

 private:
  ads::AdStore& store_;
  std::int64_t ttl_s_;
};

// 32 bytes from the CSPRNG, base64url (43 characters).
std::string NewRandomToken();
// Hex SHA-256 of a token: the form the server stores.
std::string TokenHash(std::string_view token);
// Constant-time comparison of two tokens (false when either is empty).
bool TokensEqual(std::string_view a, std::string_view b);

// The value of cookie `name` in the request's Cookie header; "" when absent.
std::string CookieValue(const httplib::Request& req, std::string_view name);

}  // namespace lumen::web
