#include "ads/crypto.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

TEST(Crypto, Sha256MatchesTheStandardTestVector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string a = "ab", b = "c";
  EXPECT_EQ(Sha256Concat(AsBytes(a), AsBytes(b)), Sha256("abc"));
}

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
  const std::string key = "Jefe", data = "what do ya want for nothing?";
  EXPECT_EQ(ToHex(HmacSha256(AsBytes(key), AsBytes(data))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64UrlRoundTripsEveryLengthAndRejectsJunk) {
  std::vector<std::uint8_t> bytes;
  for (int n = 0; n < 40; ++n) {
    Result<std::vector<std::uint8_t>> back = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
    bytes.push_back(static_cast<std::uint8_t>(n * 37 + 255));
  }
  EXPECT_FALSE(Base64UrlDecode("ab=c").ok());
  EXPECT_FALSE(Base64UrlDecode("a").ok());
  EXPECT_FALSE(Base64UrlDecode("ab+/").ok());
  EXPECT_FALSE(Base64UrlDecode("ab c").ok());
  EXPECT_FALSE(Base64UrlDecode("AB").ok());  // non-zero leftover bits: not canonical
}

TEST(Crypto, HexRoundTripAndRejection) {
  bool ok = false;
  EXPECT_EQ(ToHex(FromHex("00ff10Ab", &ok)), "00ff10ab");
  EXPECT_TRUE(ok);
  FromHex("abc", &ok);
  EXPECT_FALSE(ok);
  FromHex("zz", &ok);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace lumen::ads
