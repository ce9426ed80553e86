#include "ads/secret_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ads/crypto.h"

namespace lumen::ads {

Result<std::vector<std::uint8_t>> ParseSecretKey(const std::string& hex,
                                                 const std::string& origin) {
  std::string t = hex;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  bool ok = false;
  std::vector<std::uint8_t> key = FromHex(t, &ok);
  if (!ok || key.size() < 32) {
    return Corruption(origin + ": the ad signing key must be at least 64 hex characters");
  }
  return key;
}

Result<std::vector<std::uint8_t>> LoadOrCreateSecretKey(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) {
    // Written under a temporary name, then linked into place: link() fails if another process
    // won the race, and nobody ever reads a half-written key.
    std::uint8_t key[32];
    RandomBytes(key);
    std::uint8_t suffix[8];
    RandomBytes(suffix);
    const std::string tmp = path + ".tmp-" + ToHex(suffix);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return IoError(path + ": cannot create the ad signing key: " + std::strerror(errno));
    }
    const std::string text = ToHex(key) + "\n";
    const bool written =
        ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    const int linked = written ? ::link(tmp.c_str(), path.c_str()) : -1;
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!written) {
      return IoError(path + ": cannot write the ad signing key: " + std::strerror(link_errno));
    }
    if (linked == 0) return std::vector<std::uint8_t>(key, key + 32);
    if (link_errno != EEXIST) {
      return IoError(path + ": cannot create the ad signing key: " + std::strerror(link_errno));
    }
  }
  const int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) return IoError(path + ": cannot read the ad signing key: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(rfd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(rfd);
    return IoError(path + ": the ad signing key is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(rfd);
    return PermissionDenied(path +
                            ": the ad signing key may be read by group or others; "
                            "run chmod 600 on it");
  }
  char buf[256];
  const ssize_t n = ::read(rfd, buf, sizeof buf);
  ::close(rfd);
  if (n < 0) return IoError(path + ": cannot read the ad signing key: " + std::strerror(errno));
  return ParseSecretKey(std::string(buf, static_cast<std::size_t>(n)), path);
}

}  // namespace lumen::ads
