// Structured logging: one line per event on stderr (or any FILE*), logfmt style:
//
//   ts=2026-11-30T04:30:00.123Z level=info msg="server listening" addr=127.0.0.1:8080
//
// A Logger is passed to the components that log (no process-wide logger). Thread-safe: lines
// from concurrent threads never interleave.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/status.h"

namespace lumen {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Parses "debug", "info", "warn"/"warning", "error", "off".
Result<LogLevel> ParseLogLevel(std::string_view name);
std::string_view LogLevelName(LogLevel level);

// A key=value pair. Numbers are formatted with std::to_string; strings are copied (logging is
// not a hot path).
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  LogField(std::string_view k, N n) : key(k), value(std::to_string(n)) {}

  std::string_view key;
  std::string value;
};

class Logger {
 public:
  // Logs to `sink` (not owned; stderr by default) events at `level` and above.
  explicit Logger(LogLevel level = LogLevel::kInfo, std::FILE* sink = stderr)
      : level_(level), sink_(sink) {}

  LogLevel level() const { return level_; }
  bool enabled(LogLevel level) const { return level >= level_ && level_ != LogLevel::kOff; }

  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  void Debug(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kDebug, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kInfo, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kWarn, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kError, msg, f);
  }

  // The line Log() would write, without the timestamp and trailing newline (for tests).
  static std::string Format(LogLevel level, std::string_view msg,
                            std::initializer_list<LogField> fields);

 private:
  LogLevel level_;
  std::FILE* sink_;
  std::mutex mu_;
};

// Appends `value` to `out`, quoted and escaped when it contains spaces, quotes, '=' or control
// characters (logfmt rules).
void AppendLogValue(std::string& out, std::string_view value);

}  // namespace lumen
