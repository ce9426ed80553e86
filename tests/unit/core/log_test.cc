#include "core/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace lumen {
namespace {

TEST(LogTest, FormatsKeyValuePairsAndQuotesWhenNeeded) {
  EXPECT_EQ(Logger::Format(LogLevel::kInfo, "server listening",
                           {{"addr", "127.0.0.1:8080"}, {"threads", 4}}),
            "level=info msg=\"server listening\" addr=127.0.0.1:8080 threads=4");
}

TEST(LogTest, EscapesQuotesNewlinesAndControlBytes) {
  std::string out;
  AppendLogValue(out, "a \"b\"\nc\x01");
  EXPECT_EQ(out, "\"a \\\"b\\\"\\nc\\x01\"");
  out.clear();
  AppendLogValue(out, "");
  EXPECT_EQ(out, "\"\"");
}

TEST(LogTest, ParsesLevelsAndRejectsUnknown) {
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  Result<LogLevel> bad = ParseLogLevel("loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("loud"), std::string::npos);
}

TEST(LogTest, WritesOnlyAtOrAboveItsLevel) {
  std::FILE* sink = std::tmpfile();
  ASSERT_NE(sink, nullptr);
  Logger log(LogLevel::kWarn, sink);
  log.Info("hidden");
  log.Error("shown", {{"code", 7}});
  std::rewind(sink);
  char buf[256] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, sink);
  std::fclose(sink);
  const std::string text(buf, n);
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find("level=error msg=shown code=7\n"), std::string::npos);
  EXPECT_EQ(text.rfind("ts=", 0), 0u);
}

}  // namespace
}  // namespace lumen
