// Dashboard accounts: who may sign in to the advertiser dashboard (/ads/) and what they see.
// An advertiser account sees only its advertiser's campaigns, creatives and reports; an operator
// account sees every advertiser, the revenue and the ledger's verification status.
//
// Passwords are hashed with libsodium's crypto_pwhash_str: Argon2id at libsodium's "interactive"
// limits (2 passes over 64 MiB, about 0.1 s of one core per sign-in). Only the encoded hash
// (algorithm, parameters, salt, digest) is stored.
// Sessions are kept server-side by the SHA-256 of their random token, never the token itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lumen::ads {

class AdStore;

enum class AccountRole { kAdvertiser, kOperator };
std::string_view Name(AccountRole r);
Result<AccountRole> ParseAccountRole(std::string_view s);

struct Account {
  std::int64_t id = 0;
  std::string email;  // lower-cased; unique
  AccountRole role = AccountRole::kAdvertiser;
  std::int64_t advertiser_id = 0;  // the advertiser it acts for; 0 for operators
  std::string password_hash;       // crypto_pwhash_str output
  std::int64_t created_us = 0;
};

// A signed-in browser. `token_hash` is the hex SHA-256 of the cookie's token.
struct SessionRecord {
  std::string token_hash;
  std::int64_t account_id = 0;
  std::string csrf_token;  // random; every form of the session carries it
  std::int64_t created_us = 0;
  std::int64_t expires_us = 0;
};

inline constexpr std::size_t kMinPasswordBytes = 10;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
inline constexpr std::size_t kMaxEmailBytes = 254;

// Argon2id hash of `password` (crypto_pwhash_str). InvalidArgument for a password shorter than
// kMinPasswordBytes or longer than kMaxPasswordBytes; Internal when libsodium cannot allocate its
// memory.
Result<std::string> HashPassword(std::string_view password);
// True when `password` matches `hash`; false for a wrong password or a malformed hash.
bool VerifyPassword(const std::string& hash, std::string_view password);

// "Name@Example.COM " -> "name@example.com"; InvalidArgument unless it looks like an address
// (one "@", something on both sides, a dot in the domain, no spaces or control characters).
Result<std::string> NormalizeEmail(std::string_view email);

// Creating accounts and checking passwords over an AdStore (one transaction per call).
// Not thread-safe, like the store it uses.
class AccountBook {
 public:
  explicit AccountBook(AdStore& store) : store_(store) {}

  // Validates, hashes the password and stores the account. InvalidArgument for a bad e-mail or
  // password, or an advertiser account without an existing advertiser (NotFound);
  // AlreadyExists when the e-mail is taken.
  Result<std::int64_t> Create(std::string_view email, AccountRole role, std::int64_t advertiser_id,
                              std::string_view password, std::int64_t now_us);
  // Replaces the password of the account with this e-mail (NotFound if none).
  Status SetPassword(std::string_view email, std::string_view password);
  // The account when e-mail and password match, else nullopt. Costs one Argon2id evaluation
  // whether or not the e-mail exists, so timing does not reveal which addresses have accounts.
  Result<std::optional<Account>> SignIn(std::string_view email, std::string_view password);

 private:
  AdStore& store_;
};

}  // namespace lumen::ads
