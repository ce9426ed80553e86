#include "web/query_params.h"

#include <gtest/gtest.h>

namespace lumen::web {
namespace {

httplib::Request RequestFor(const std::string& target) {
  httplib::Request r;
  r.target = target;
  return r;
}

TEST(QueryParamsTest, DecodesPlusAsSpaceAndPercentEscapes) {
  const auto r = RequestFor("/search?q=how+do+I+read%20a+CSV%2Bfile%3F&x=1");
  EXPECT_EQ(QueryParam(r, "q"), "how do I read a CSV+file?");
  EXPECT_EQ(QueryParam(r, "x"), "1");
  EXPECT_EQ(QueryParam(r, "missing"), "");
  EXPECT_EQ(QueryParam(RequestFor("/search"), "q"), "");
  EXPECT_EQ(QueryParam(RequestFor("/s?q"), "q"), "");
  EXPECT_EQ(QueryParam(RequestFor("/s?a=1&q=first&q=second"), "q"), "first");
}

TEST(QueryParamsTest, BrokenEscapesStayLiteral) {
  EXPECT_EQ(FormDecode("100%"), "100%");
  EXPECT_EQ(FormDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(FormDecode("%41%62"), "Ab");
}

TEST(QueryParamsTest, InvalidUtf8IsReplaced) {
  EXPECT_EQ(ValidUtf8("ok é 漢 😀"), "ok é 漢 😀");
  EXPECT_EQ(ValidUtf8("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ValidUtf8("a\xC3"), "a\xEF\xBF\xBD");                                // truncated
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

}  // namespace
}  // namespace lumen::web
