#include "web/sessions.h"

#include "ads/crypto.h"

namespace lumen::web {

std::string NewRandomToken() {
  std::uint8_t raw[32];
  ads::RandomBytes(raw);
  return ads::Base64UrlEncode(raw);
}

std::string TokenHash(std::string_view token) {
  return ads::ToHex(ads::Sha256(token));
}

bool TokensEqual(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  return ads::ConstantTimeEqual(ads::AsBytes(a), ads::AsBytes(b));
}

std::string CookieValue(const httplib::Request& req, std::string_view name) {
  const std::string header = req.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
    if (semi == std::string_view::npos) break;
    rest = rest.substr(semi + 1);
  }
  return "";
}

Result<SessionBook::Created> SessionBook::Create(std::int64_t account_id, std::int64_t now_us) {
  Created out{NewRandomToken(), NewRandomToken()};
  ads::SessionRecord r;
  r.token_hash = TokenHash(out.token);
  r.account_id = account_id;
  r.csrf_token = out.csrf_token;
  r.created_us = now_us;
  r.expires_us = now_us + ttl_s_ * 1'000'000;
  LUMEN_RETURN_IF_ERROR(store_.BeginWrite());
  Status st = store_.DeleteExpiredSessions(now_us);
  if (st.ok()) st = store_.InsertSession(r);
  if (st.ok()) st = store_.Commit();
  if (!st.ok()) {
    store_.Rollback();
    return st;
  }
  return out;
}

Result<std::optional<Session>> SessionBook::Find(std::string_view token, std::int64_t now_us) {
  // Our tokens are 43 base64url characters; anything else is not worth a database look-up.
  if (token.size() != 43) return std::optional<Session>();
  LUMEN_ASSIGN_OR_RETURN(std::optional<ads::SessionRecord> r, store_.GetSession(TokenHash(token)));
  if (!r || r->expires_us <= now_us) return std::optional<Session>();
  LUMEN_ASSIGN_OR_RETURN(std::optional<ads::Account> a, store_.GetAccount(r->account_id));
  if (!a) return std::optional<Session>();
  return std::optional<Session>(Session{std::move(*a), r->csrf_token, r->expires_us});
}

Status SessionBook::Destroy(std::string_view token) {
  if (token.empty()) return Status::Ok();
  return store_.DeleteSession(TokenHash(token));
}

}  // namespace lumen::web
