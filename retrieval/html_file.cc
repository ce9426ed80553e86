#include "retrieval/html_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lumen::retrieval {

Result<std::string> Gunzip(std::string_view data, std::size_t max_bytes) {
  z_stream zs{};
  // 15 + 32: accept gzip and zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Internal("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Corruption(std::string("bad gzip data: ") + (zs.msg ? zs.msg : "truncated"));
    }
    out.append(buffer, sizeof buffer - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return ResourceExhausted("decompressed page larger than " + std::to_string(max_bytes) +
                               " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Corruption("bad gzip data: truncated");
    }
  }
  inflateEnd(&zs);
  return out;
}

Result<std::string> ReadPageFile(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return errno == ENOENT ? NotFound("no such file: " + path)
                           : IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = std::move(ss).str();
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    Result<std::string> r = Gunzip(data, max_bytes);
    if (!r.ok()) return r.status().WithContext(path);
    return r;
  }
  if (data.size() > max_bytes) return ResourceExhausted(path + " is larger than the limit");
  return data;
}

}  // namespace lumen::retrieval
