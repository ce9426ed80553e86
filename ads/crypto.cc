#include "ads/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace lumen::ads {

Digest Sha256(std::span<const std::uint8_t> data) {
  return Sha256Concat(data, {});
}

Digest Sha256(std::string_view data) {
  return Sha256(AsBytes(data));
}

namespace {

// OpenSSL 3 looks algorithms up by name on every implicit use; fetching them once (and reusing
// one digest context per thread) keeps hashing at the cost of the compression function.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

EVP_MAC* HmacMac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Digest Sha256Concat(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  thread_local MdCtx holder;
  EVP_MD_CTX* ctx = holder.ctx;
  Digest d;
  unsigned int len = 0;
  const bool ok = ctx != nullptr && Sha256Md() != nullptr &&
                  EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
                  EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, d.data(), &len) == 1;
  if (!ok || len != d.size()) throw std::runtime_error("SHA-256 failed");
  return d;
}

Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Digest d;
  EVP_MAC* mac = HmacMac();
  EVP_MAC_CTX* ctx = mac == nullptr ? nullptr : EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  std::size_t len = 0;
  const bool ok = ctx != nullptr && EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
                  EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
                  EVP_MAC_final(ctx, d.data(), &len, d.size()) == 1;
  EVP_MAC_CTX_free(ctx);
  if (!ok || len != d.size()) throw std::runtime_error("HMAC-SHA256 failed");
  return d;
}

bool ConstantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void RandomBytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("the system random number generator failed");
  }
}

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::vector<std::uint8_t> FromHex(std::string_view hex, bool* ok) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  *ok = hex.size() % 2 == 0;
  if (!*ok) return out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      *ok = false;
      return {};
    }
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = bytes[i] << 16 | bytes[i + 1] << 8 | bytes[i + 2];
    out.push_back(kB64[v >> 18 & 63]);
    out.push_back(kB64[v >> 12 & 63]);
    out.push_back(kB64[v >> 6 & 63]);
    out.push_back(kB64[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = bytes[i] << 16;
    out.push_back(kB64[v >> 18 & 63]);
    out.push_back(kB64[v >> 12 & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = bytes[i] << 16 | bytes[i + 1] << 8;
    out.push_back(kB64[v >> 18 & 63]);
    out.push_back(kB64[v >> 12 & 63]);
    out.push_back(kB64[v >> 6 & 63]);
  }
  return out;
}

Result<std::vector<std::uint8_t>> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return InvalidArgument("base64url text has an impossible length");
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = B64Value(c);
    if (v < 0) return InvalidArgument("base64url text has a character outside A-Z a-z 0-9 - _");
    acc = acc << 6 | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits & 0xff));
    }
  }
  // Leftover bits must be zero, so every byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return InvalidArgument("base64url text is not canonical");
  }
  return out;
}

}  // namespace lumen::ads
