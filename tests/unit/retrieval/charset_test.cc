// Charset detection and conversion to UTF-8.
#include "retrieval/charset.h"

#include <gtest/gtest.h>

namespace lumen::retrieval {
namespace {

TEST(CharsetTest, HeaderWinsOverMetaAndBomWinsOverHeader) {
  const std::string meta = "<meta charset=\"iso-8859-2\"><p>x";
  EXPECT_EQ(DetectCharset(meta, "text/html; charset=UTF-8").charset, "utf-8");
  EXPECT_EQ(DetectCharset(meta, "text/html").charset, "iso-8859-2");
  EXPECT_EQ(DetectCharset(meta, "text/html").source, "meta");
  EXPECT_EQ(DetectCharset("\xEF\xBB\xBF<p>x", "text/html; charset=koi8-r").source, "bom");
}

TEST(CharsetTest, ReadsHttpEquivMeta) {
  const std::string page =
      "<html><head><META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=Shift_JIS'>";
  EXPECT_EQ(DetectCharset(page, "").charset, "shift_jis");
}

TEST(CharsetTest, ConvertsLatin1AndReplacesInvalidUtf8) {
  // "café" in windows-1252.
  EXPECT_EQ(DecodeToUtf8("caf\xE9", "text/html; charset=ISO-8859-1"), "caf\xC3\xA9");
  // Declared UTF-8 but not: each bad byte becomes U+FFFD.
  EXPECT_EQ(DecodeToUtf8("caf\xE9!", "text/html; charset=utf-8"), "caf\xEF\xBF\xBD!");
}

TEST(CharsetTest, MissingCharsetGuessesUtf8ThenWindows1252) {
  EXPECT_EQ(DetectCharset("caf\xC3\xA9", "").charset, "utf-8");
  EXPECT_EQ(DetectCharset("caf\xE9", "").charset, "windows-1252");
  EXPECT_EQ(DecodeToUtf8("\x93quoted\x94", ""), "\xE2\x80\x9Cquoted\xE2\x80\x9D");
}

TEST(CharsetTest, Latin1LabelOnValidUtf8IsReadAsUtf8) {
  const CharsetGuess g = DetectCharset("caf\xC3\xA9", "text/html; charset=iso-8859-1");
  EXPECT_EQ(g.charset, "utf-8");
  EXPECT_EQ(g.source, "utf8-override");
}

TEST(CharsetTest, UnknownLabelFallsBackToUtf8AndOutputIsAlwaysValid) {
  EXPECT_EQ(ConvertToUtf8("abc\xFF", "x-no-such-charset"), "abc\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(ConvertToUtf8(std::string("\x82\xA0\xFF\x00\x81", 5), "shift_jis")));
  EXPECT_TRUE(IsValidUtf8(ConvertToUtf8("\xFF\xFEh\x00i\x00\x00", "utf-16le")));
}

TEST(CharsetTest, Utf16WithBom) {
  const std::string le("\xFF\xFEh\x00i\x00", 6);
  EXPECT_EQ(DecodeToUtf8(le, ""), "hi");
}

}  // namespace
}  // namespace lumen::retrieval
