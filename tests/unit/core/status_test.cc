#include "core/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace lumen {
namespace {

TEST(StatusTest, DefaultIsOkAndPrintsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = NotFound("no such page");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: no such page");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = IoError("disk full").WithContext("writing lumen.db");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "writing lumen.db: disk full");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("not positive");
  return v;
}

Result<int> Doubled(int v) {
  LUMEN_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status Check(int v) {
  LUMEN_RETURN_IF_ERROR(ParsePositive(v).status());
  return Status::Ok();
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = ParsePositive(3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = ParsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.value_or(7), 7);
}

Result<int> SumOfTwo(int a, int b) {
  // Invocations spanning lines (as clang-format may wrap them) and several on one line.
  // clang-format off
  LUMEN_ASSIGN_OR_RETURN(int x,
                         ParsePositive(a));
  LUMEN_ASSIGN_OR_RETURN(int y, ParsePositive(b)); LUMEN_ASSIGN_OR_RETURN(int z, ParsePositive(1));
  // clang-format on
  return x + y + z - 1;
}

TEST(ResultTest, AssignOrReturnWorksAcrossLinesAndTwicePerLine) {
  EXPECT_EQ(*SumOfTwo(2, 3), 5);
  EXPECT_FALSE(SumOfTwo(2, -3).ok());
}

TEST(ResultTest, MacrosPropagateErrors) {
  EXPECT_EQ(*Doubled(4), 8);
  EXPECT_EQ(Doubled(0).status().message(), "not positive");
  EXPECT_TRUE(Check(1).ok());
  EXPECT_FALSE(Check(0).ok());
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(StatusCodeTest, EveryCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    EXPECT_NE(StatusCodeName(static_cast<StatusCode>(c)), "unknown") << c;
  }
}

}  // namespace
}  // namespace lumen
