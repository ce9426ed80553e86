#include "ads/impression_token.h"

#include <gtest/gtest.h>

#include "ads/crypto.h"

namespace lumen::ads {
namespace {

std::vector<std::uint8_t> Key(std::uint8_t fill) {
  return std::vector<std::uint8_t>(32, fill);
}

ImpressionToken Sample() {
  ImpressionToken t;
  t.kind = TokenKind::kImpression;
  for (int i = 0; i < 16; ++i) t.impression_id[i] = static_cast<std::uint8_t>(i * 11);
  t.slot = 2;
  t.campaign_id = 42;
  t.creative_id = 7;
  t.price_cpm_micros = 2'500'000;
  t.expires_s = 1'800'000'000;
  t.request_id = "req-123";
  return t;
}

TEST(ImpressionToken, SignedTokenVerifiesAndCarriesEveryField) {
  const TokenSigner signer(Key(1));
  const std::string text = signer.Sign(Sample());
  for (const char c : text)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  const TokenSigner::Verified v = signer.Verify(text, TokenKind::kImpression);
  ASSERT_TRUE(v.ok);
  EXPECT_EQ(v.token.impression_id, Sample().impression_id);
  EXPECT_EQ(v.token.slot, 2);
  EXPECT_EQ(v.token.campaign_id, 42);
  EXPECT_EQ(v.token.creative_id, 7);
  EXPECT_EQ(v.token.price_cpm_micros, 2'500'000);
  EXPECT_EQ(v.token.expires_s, 1'800'000'000);
  EXPECT_EQ(v.token.request_id, "req-123");
}

TEST(ImpressionToken, AnotherKeyIsABadSignature) {
  const std::string text = TokenSigner(Key(1)).Sign(Sample());
  const TokenSigner::Verified v = TokenSigner(Key(2)).Verify(text, TokenKind::kImpression);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, TokenError::kBadSignature);
}

TEST(ImpressionToken, EveryFlippedByteIsRefused) {
  const TokenSigner signer(Key(1));
  const std::string text = signer.Sign(Sample());
  std::vector<std::uint8_t> raw = *Base64UrlDecode(text);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::vector<std::uint8_t> forged = raw;
    forged[i] ^= 0x01;
    EXPECT_FALSE(signer.Verify(Base64UrlEncode(forged), TokenKind::kImpression).ok) << i;
  }
}

TEST(ImpressionToken, ClickTokenIsNotAnImpressionToken) {
  const TokenSigner signer(Key(1));
  ImpressionToken t = Sample();
  t.kind = TokenKind::kClick;
  const TokenSigner::Verified v = signer.Verify(signer.Sign(t), TokenKind::kImpression);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, TokenError::kWrongKind);
}

TEST(ImpressionToken, GarbledTruncatedAndHugeInputsAreMalformed) {
  const TokenSigner signer(Key(1));
  const std::string text = signer.Sign(Sample());
  for (const std::string& bad :
       {std::string(), std::string("not a token!"), text.substr(0, 20), text.substr(0, 60),
        std::string(100000, 'A'), text + "=", std::string("\0\0\0", 3)}) {
    const TokenSigner::Verified v = signer.Verify(bad, TokenKind::kImpression);
    EXPECT_FALSE(v.ok);
  }
  EXPECT_EQ(signer.Verify("%%%", TokenKind::kImpression).error, TokenError::kMalformed);
}

TEST(ImpressionToken, ShortKeysAreRefused) {
  EXPECT_THROW(TokenSigner(std::vector<std::uint8_t>(16, 1)), std::invalid_argument);
}

}  // namespace
}  // namespace lumen::ads
