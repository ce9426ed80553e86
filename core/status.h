// Status and Result<T>: errors a caller can act on, returned as values (as in LevelDB).
//
//   Result<Config> cfg = LoadConfig(path);
//   if (!cfg.ok()) return cfg.status();       // propagate
//   Use(*cfg);
//
// A Status is cheap to copy when OK (no allocation). Neither type is thread-safe for concurrent
// mutation; const access from several threads is fine.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lumen {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong (bad flag, bad request, bad config)
  kNotFound,         // a named thing does not exist
  kAlreadyExists,
  kIoError,            // the OS refused (open, read, write, fsync, socket)
  kCorruption,         // stored data is malformed (truncated file, bad header, hash mismatch)
  kUnavailable,        // a dependency is down or not configured; retrying later may help
  kDeadlineExceeded,   // ran out of time
  kResourceExhausted,  // a size, rate or budget limit was hit
  kPermissionDenied,   // policy forbids it (robots.txt, SSRF guard, auth)
  kUnimplemented,      // not available in this build or yet
  kInternal,           // a bug: an invariant did not hold
};

// Lower-case name of a code, e.g. "invalid_argument" (used in logs and JSON errors).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid_argument: message" or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (the code is kept).
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status IoError(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status Corruption(std::string m) {
  return {StatusCode::kCorruption, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unimplemented(std::string m) {
  return {StatusCode::kUnimplemented, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Either a value or a non-OK Status. Constructing a Result from an OK Status is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  std::optional<T> value_;
  Status status_;  // OK iff value_ is set
};

}  // namespace lumen

// Evaluates `expr` (a Status); returns it from the enclosing function when not OK.
#define LUMEN_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::lumen::Status _lumen_st = (expr);    \
    if (!_lumen_st.ok()) return _lumen_st; \
  } while (0)

#define LUMEN_CONCAT_INNER(a, b) a##b
#define LUMEN_CONCAT(a, b) LUMEN_CONCAT_INNER(a, b)
// LUMEN_ASSIGN_OR_RETURN(auto x, MakeX()); — declares x from a Result or returns its Status.
// The temporary's name is made once (__COUNTER__), so the macro may span several lines.
#define LUMEN_ASSIGN_OR_RETURN(decl, expr) \
  LUMEN_ASSIGN_OR_RETURN_IMPL(LUMEN_CONCAT(_lumen_res_, __COUNTER__), decl, expr)
#define LUMEN_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  decl = std::move(tmp).value()
