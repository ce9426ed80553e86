#include "ads/impression_token.h"

#include <stdexcept>

#include "ads/crypto.h"

namespace lumen::ads {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMacBytes = 32;
constexpr std::size_t kFixedBytes = 1 + 1 + 16 + 1 + 8 + 8 + 8 + 8 + 1;
constexpr std::size_t kMaxRequestId = 64;
constexpr std::size_t kMaxTokenChars = 512;

void PutU64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t GetU64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

}  // namespace

TokenSigner::TokenSigner(std::vector<std::uint8_t> key) : key_(std::move(key)) {
  if (key_.size() < 32) throw std::invalid_argument("token key must be at least 32 bytes");
}

std::string TokenSigner::Sign(const ImpressionToken& t) const {
  std::vector<std::uint8_t> p;
  p.reserve(kFixedBytes + kMaxRequestId + kMacBytes);
  p.push_back(kVersion);
  p.push_back(static_cast<std::uint8_t>(t.kind));
  p.insert(p.end(), t.impression_id.begin(), t.impression_id.end());
  p.push_back(static_cast<std::uint8_t>(t.slot));
  PutU64(p, static_cast<std::uint64_t>(t.campaign_id));
  PutU64(p, static_cast<std::uint64_t>(t.creative_id));
  PutU64(p, static_cast<std::uint64_t>(t.price_cpm_micros));
  PutU64(p, static_cast<std::uint64_t>(t.expires_s));
  const std::string_view rid = std::string_view(t.request_id).substr(0, kMaxRequestId);
  p.push_back(static_cast<std::uint8_t>(rid.size()));
  p.insert(p.end(), rid.begin(), rid.end());
  const Digest mac = HmacSha256(key_, p);
  p.insert(p.end(), mac.begin(), mac.end());
  return Base64UrlEncode(p);
}

TokenSigner::Verified TokenSigner::Verify(std::string_view text, TokenKind kind) const {
  Verified v;
  if (text.empty() || text.size() > kMaxTokenChars) return v;
  Result<std::vector<std::uint8_t>> raw = Base64UrlDecode(text);
  if (!raw.ok() || raw->size() < kFixedBytes + kMacBytes) return v;
  const std::vector<std::uint8_t>& b = *raw;
  const std::size_t payload = b.size() - kMacBytes;
  const Digest mac = HmacSha256(key_, std::span<const std::uint8_t>(b.data(), payload));
  if (!ConstantTimeEqual(mac, std::span<const std::uint8_t>(b.data() + payload, kMacBytes))) {
    v.error = TokenError::kBadSignature;
    return v;
  }
  // Authentic: a structural problem now can only be a version we do not know.
  if (b[0] != kVersion || b[kFixedBytes - 1] > kMaxRequestId ||
      kFixedBytes + b[kFixedBytes - 1] != payload || (b[1] != 1 && b[1] != 2)) {
    return v;
  }
  ImpressionToken& t = v.token;
  t.kind = static_cast<TokenKind>(b[1]);
  std::copy(b.begin() + 2, b.begin() + 18, t.impression_id.begin());
  t.slot = b[18];
  t.campaign_id = static_cast<std::int64_t>(GetU64(&b[19]));
  t.creative_id = static_cast<std::int64_t>(GetU64(&b[27]));
  t.price_cpm_micros = static_cast<std::int64_t>(GetU64(&b[35]));
  t.expires_s = static_cast<std::int64_t>(GetU64(&b[43]));
  t.request_id.assign(reinterpret_cast<const char*>(&b[kFixedBytes]), b[kFixedBytes - 1]);
  if (t.kind != kind) {
    v.error = TokenError::kWrongKind;
    return v;
  }
  v.ok = true;
  return v;
}

}  // namespace lumen::ads
