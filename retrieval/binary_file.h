// Small helpers for Lumen's own binary files (word-vector cache, SIF and LSA statistics): read a
// whole file, append raw little-endian values, and a bounds-checked cursor to read them back.
#pragma once

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lumen::retrieval {

// (An out-parameter rather than Result<std::string>: GCC 12 misreports the moved-from optional
// as maybe-uninitialised.)
inline Status ReadWholeFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read " + path);
  out = std::move(ss).str();
  return Status::Ok();
}

template <typename T>
void PutRaw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Reads values back in order; every read reports whether the bytes were there.
class BinaryReader {
 public:
  explicit BinaryReader(std::string_view s) : s_(s) {}
  template <typename T>
  bool Get(T& v) {
    if (s_.size() - i_ < sizeof(T)) return false;
    std::memcpy(&v, s_.data() + i_, sizeof(T));
    i_ += sizeof(T);
    return true;
  }
  bool Bytes(std::size_t n, std::string_view& out) {
    if (s_.size() - i_ < n) return false;
    out = s_.substr(i_, n);
    i_ += n;
    return true;
  }
  bool done() const { return i_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace lumen::retrieval
