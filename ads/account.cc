#include "ads/account.h"

#include <sodium.h>

#include <algorithm>

#include "ads/store.h"

namespace lumen::ads {
namespace {

Status SodiumReady() {
  static const int rc = sodium_init();  // thread-safe; 1 means "already initialised"
  if (rc < 0) return Internal("libsodium could not be initialised");
  return Status::Ok();
}

// A hash of a password nobody has, so that signing in with an unknown e-mail costs the same
// Argon2id evaluation as a wrong password.
const std::string& DecoyHash() {
  static const std::string hash = [] {
    Result<std::string> h = HashPassword("lumen-decoy-password-never-used");
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

}  // namespace

std::string_view Name(AccountRole r) {
  return r == AccountRole::kOperator ? "operator" : "advertiser";
}

Result<AccountRole> ParseAccountRole(std::string_view s) {
  if (s == "advertiser") return AccountRole::kAdvertiser;
  if (s == "operator") return AccountRole::kOperator;
  return InvalidArgument("role must be \"advertiser\" or \"operator\"");
}

Result<std::string> HashPassword(std::string_view password) {
  LUMEN_RETURN_IF_ERROR(SodiumReady());
  if (password.size() < kMinPasswordBytes) {
    return InvalidArgument("password must be at least " + std::to_string(kMinPasswordBytes) +
                           " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument("password must be at most " + std::to_string(kMaxPasswordBytes) +
                           " bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Internal("crypto_pwhash_str failed (out of memory?)");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  if (!SodiumReady().ok() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (password.size() > kMaxPasswordBytes) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Result<std::string> NormalizeEmail(std::string_view email) {
  while (!email.empty() && (email.front() == ' ' || email.front() == '\t')) email.remove_prefix(1);
  while (!email.empty() && (email.back() == ' ' || email.back() == '\t' || email.back() == '\n' ||
                            email.back() == '\r')) {
    email.remove_suffix(1);
  }
  const std::string bad = "not an e-mail address";
  if (email.empty() || email.size() > kMaxEmailBytes) return InvalidArgument(bad);
  std::string out;
  for (const char c : email) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"' || c == ',') {
      return InvalidArgument(bad);
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::size_t at = out.find('@');
  if (at == std::string::npos || at == 0 || out.find('@', at + 1) != std::string::npos) {
    return InvalidArgument(bad);
  }
  const std::string domain = out.substr(at + 1);
  const std::size_t dot = domain.find('.');
  if (dot == std::string::npos || dot == 0 || domain.back() == '.') return InvalidArgument(bad);
  return out;
}

Result<std::int64_t> AccountBook::Create(std::string_view email, AccountRole role,
                                         std::int64_t advertiser_id, std::string_view password,
                                         std::int64_t now_us) {
  Account a;
  LUMEN_ASSIGN_OR_RETURN(a.email, NormalizeEmail(email));
  a.role = role;
  a.advertiser_id = role == AccountRole::kOperator ? 0 : advertiser_id;
  if (role == AccountRole::kAdvertiser && advertiser_id <= 0) {
    return InvalidArgument("an advertiser account needs an advertiser id");
  }
  LUMEN_ASSIGN_OR_RETURN(a.password_hash, HashPassword(password));
  a.created_us = now_us;
  LUMEN_RETURN_IF_ERROR(store_.BeginWrite());
  auto insert = [&]() -> Result<std::int64_t> {
    if (role == AccountRole::kAdvertiser) {
      LUMEN_ASSIGN_OR_RETURN(std::vector<Advertiser> all, store_.ListAdvertisers());
      if (std::none_of(all.begin(), all.end(),
                       [&](const Advertiser& x) { return x.id == advertiser_id; })) {
        return NotFound("advertiser " + std::to_string(advertiser_id) + " does not exist");
      }
    }
    LUMEN_ASSIGN_OR_RETURN(const std::int64_t id, store_.InsertAccount(a));
    LUMEN_RETURN_IF_ERROR(store_.Commit());
    return id;
  };
  Result<std::int64_t> id = insert();
  if (!id.ok()) store_.Rollback();
  return id;
}

Status AccountBook::SetPassword(std::string_view email, std::string_view password) {
  LUMEN_ASSIGN_OR_RETURN(const std::string normalized, NormalizeEmail(email));
  LUMEN_ASSIGN_OR_RETURN(const std::string hash, HashPassword(password));
  LUMEN_RETURN_IF_ERROR(store_.BeginWrite());
  auto update = [&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(std::optional<Account> a, store_.FindAccount(normalized));
    if (!a) return NotFound("no account with the e-mail " + normalized);
    LUMEN_RETURN_IF_ERROR(store_.SetAccountPassword(a->id, hash));
    return store_.Commit();
  };
  Status st = update();
  if (!st.ok()) store_.Rollback();
  return st;
}

Result<std::optional<Account>> AccountBook::SignIn(std::string_view email,
                                                   std::string_view password) {
  Result<std::string> normalized = NormalizeEmail(email);
  std::optional<Account> account;
  if (normalized.ok()) {
    LUMEN_ASSIGN_OR_RETURN(account, store_.FindAccount(*normalized));
  }
  if (!account) {
    (void)VerifyPassword(DecoyHash(), password);
    return std::optional<Account>();
  }
  if (!VerifyPassword(account->password_hash, password)) return std::optional<Account>();
  return account;
}

}  // namespace lumen::ads
