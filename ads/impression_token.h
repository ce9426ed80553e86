// Impression and click tokens: opaque, URL-safe strings handed to the client with each served
// slot. A token is base64url(payload ‖ HMAC-SHA256(key, payload)); the payload (version 1,
// big-endian integers) is
//
//   u8 version | u8 kind | 16-byte impression id | u8 slot | u64 campaign | u64 creative |
//   i64 price CPM micros | i64 expiry (Unix seconds) | u8 n | n bytes request id (n <= 64)
//
// The client cannot change any field without the key, so the server trusts the fields of a token
// whose MAC verifies: the price billed, and for a click token the creative whose landing URL is
// the redirect target (a click token can never redirect anywhere else). Impression and click
// tokens of the same slot differ in `kind`, so one cannot stand in for the other.
// Thread-safe: a TokenSigner is immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ads/money.h"
#include "core/status.h"

namespace lumen::ads {

using ImpressionId = std::array<std::uint8_t, 16>;

enum class TokenKind : std::uint8_t { kImpression = 1, kClick = 2 };

struct ImpressionToken {
  TokenKind kind = TokenKind::kImpression;
  ImpressionId impression_id{};
  int slot = 0;
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  Micros price_cpm_micros = 0;
  std::int64_t expires_s = 0;
  std::string request_id;  // at most 64 bytes
};

// Why a token was refused, for the invalid-traffic record.
enum class TokenError { kMalformed, kBadSignature, kWrongKind };

class TokenSigner {
 public:
  // `key` must be at least 32 bytes (ads/secret_key.h makes one).
  explicit TokenSigner(std::vector<std::uint8_t> key);

  std::string Sign(const ImpressionToken& token) const;

  // Decodes and authenticates `text` as a token of `kind`. On failure returns the reason; the
  // MAC is checked before any field is trusted and compared in constant time. Never reads past
  // the input; rejects tokens over 512 characters outright. Expiry is the caller's business.
  struct Verified {
    bool ok = false;
    TokenError error = TokenError::kMalformed;
    ImpressionToken token;
  };
  Verified Verify(std::string_view text, TokenKind kind) const;

 private:
  std::vector<std::uint8_t> key_;
};

}  // namespace lumen::ads
