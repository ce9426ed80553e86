// The cryptographic pieces of the ad system, over OpenSSL's libcrypto: SHA-256 (ledger hash
// chain), HMAC-SHA256 (impression and click tokens), a CSPRNG, hex and base64url. All functions
// are thread-safe and allocate only their results.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::ads {

using Digest = std::array<std::uint8_t, 32>;

Digest Sha256(std::span<const std::uint8_t> data);
Digest Sha256(std::string_view data);
// SHA-256 of a ‖ b without concatenating them.
Digest Sha256Concat(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

// Compares in time independent of where the inputs differ (for MACs). Different sizes: false.
bool ConstantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// Fills `out` from the operating system's CSPRNG (via OpenSSL). Throws std::runtime_error if the
// generator fails, which OpenSSL documents only for an unseeded system.
void RandomBytes(std::span<std::uint8_t> out);

std::string ToHex(std::span<const std::uint8_t> bytes);
// Lower- or upper-case hex; empty result on odd length or a non-hex character.
std::vector<std::uint8_t> FromHex(std::string_view hex, bool* ok);

// RFC 4648 base64url without padding (URL-safe: A-Z a-z 0-9 - _).
std::string Base64UrlEncode(std::span<const std::uint8_t> bytes);
// Strict: rejects padding, whitespace, any other character and impossible lengths.
Result<std::vector<std::uint8_t>> Base64UrlDecode(std::string_view text);

inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace lumen::ads
