#include "retrieval/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

bool InPrefix(const std::uint8_t* a, const std::uint8_t* base, int bits) {
  int full = bits / 8;
  if (std::memcmp(a, base, full) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (base[full] & mask);
}

AddressKind ClassifyV4(const std::uint8_t* b) {
  const std::uint8_t a0 = b[0], a1 = b[1], a2 = b[2];
  if (a0 == 0) return AddressKind::kUnspecified;
  if (a0 == 10) return AddressKind::kPrivate;
  if (a0 == 100 && (a1 & 0xC0) == 64) return AddressKind::kCarrierGradeNat;
  if (a0 == 127) return AddressKind::kLoopback;
  if (a0 == 169 && a1 == 254) return AddressKind::kLinkLocal;
  if (a0 == 172 && (a1 & 0xF0) == 16) return AddressKind::kPrivate;
  if (a0 == 192 && a1 == 168) return AddressKind::kPrivate;
  if (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) return AddressKind::kReserved;
  if (a0 == 198 && (a1 == 18 || a1 == 19)) return AddressKind::kReserved;
  if (a0 == 198 && a1 == 51 && a2 == 100) return AddressKind::kReserved;
  if (a0 == 203 && a1 == 0 && a2 == 113) return AddressKind::kReserved;
  if (a0 >= 224 && a0 < 240) return AddressKind::kMulticast;
  if (a0 >= 240) return AddressKind::kReserved;  // 240/4 and 255.255.255.255
  return AddressKind::kPublic;
}

}  // namespace

std::string_view AddressKindName(AddressKind kind) {
  switch (kind) {
    case AddressKind::kPublic: return "public";
    case AddressKind::kLoopback: return "loopback";
    case AddressKind::kPrivate: return "private";
    case AddressKind::kLinkLocal: return "link-local";
    case AddressKind::kCarrierGradeNat: return "carrier-grade NAT";
    case AddressKind::kMulticast: return "multicast";
    case AddressKind::kUnspecified: return "unspecified";
    case AddressKind::kReserved: return "reserved";
  }
  return "reserved";
}

bool IpAddress::is_v4() const {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  return std::memcmp(bytes.data(), kMapped, 12) == 0;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

Result<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) return InvalidArgument("not an IP address");
  const std::string s(text);
  IpAddress a;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a.bytes[10] = a.bytes[11] = 0xFF;
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return InvalidArgument("not an IP address: " + s);
}

Result<IpAddress> IpAddressFromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return InvalidArgument("no address");
  IpAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    a.bytes[10] = a.bytes[11] = 0xFF;
    std::memcpy(a.bytes.data() + 12, &in->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    return a;
  }
  return InvalidArgument("address family " + std::to_string(sa->sa_family) + " is not IP");
}

AddressKind ClassifyAddress(const IpAddress& address) {
  const std::uint8_t* b = address.bytes.data();
  if (address.is_v4()) return ClassifyV4(b + 12);
  static constexpr std::uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 16) == 0) return AddressKind::kUnspecified;
  if (std::memcmp(b, kZero, 15) == 0 && b[15] == 1) return AddressKind::kLoopback;
  // v4-compatible ::a.b.c.d (deprecated) and NAT64 64:ff9b::/96 carry an IPv4 address.
  if (std::memcmp(b, kZero, 12) == 0) return ClassifyV4(b + 12);
  static constexpr std::uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, 12) == 0) return ClassifyV4(b + 12);
  if (b[0] == 0x20 && b[1] == 0x02) return ClassifyV4(b + 2);                 // 6to4
  if ((b[0] & 0xFE) == 0xFC) return AddressKind::kPrivate;                    // fc00::/7
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return AddressKind::kLinkLocal;  // fe80::/10
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return AddressKind::kPrivate;    // fec0::/10
  if (b[0] == 0xFF) return AddressKind::kMulticast;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return AddressKind::kReserved;
  static constexpr std::uint8_t kDiscard[8] = {0x01, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kDiscard, 8) == 0) return AddressKind::kReserved;
  return AddressKind::kPublic;
}

Result<AddressPolicy> AddressPolicy::Create(const std::vector<std::string>& allow) {
  AddressPolicy policy;
  for (const std::string& entry : allow) {
    std::string_view text = entry;
    int bits = -1;
    if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
      const std::string b(text.substr(slash + 1));
      char* end = nullptr;
      const long v = std::strtol(b.c_str(), &end, 10);
      if (b.empty() || *end != '\0' || v < 0 || v > 128) {
        return InvalidArgument("allow-list entry \"" + entry + "\": bad prefix length");
      }
      bits = static_cast<int>(v);
      text = text.substr(0, slash);
    }
    Result<IpAddress> a = ParseIpAddress(text);
    if (!a.ok()) {
      return InvalidArgument("allow-list entry \"" + entry + "\": not an address or CIDR range");
    }
    if (bits < 0)
      bits = 128;
    else if (a->is_v4())
      bits += 96;
    if (bits > 128) {
      return InvalidArgument("allow-list entry \"" + entry + "\": prefix too long for IPv4");
    }
    policy.allow_.push_back({*a, bits});
  }
  return policy;
}

Status AddressPolicy::CheckAddress(const IpAddress& address) const {
  for (const Range& r : allow_) {
    if (InPrefix(address.bytes.data(), r.base.bytes.data(), r.prefix_bits)) return Status::Ok();
  }
  const AddressKind kind = ClassifyAddress(address);
  if (kind == AddressKind::kPublic) return Status::Ok();
  return PermissionDenied("address " + address.ToString() + " is " +
                          std::string(AddressKindName(kind)) + " (not in fetch.allow_addresses)");
}

Status AddressPolicy::CheckSockaddr(const sockaddr* sa) const {
  Result<IpAddress> a = IpAddressFromSockaddr(sa);
  if (!a.ok()) return PermissionDenied(a.status().message());
  return CheckAddress(*a);
}

Status AddressPolicy::CheckUrl(std::string_view url) const {
  const std::string_view head = url.substr(0, url.find(':'));
  std::string scheme(head);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.size() == url.size() || (scheme != "http" && scheme != "https")) {
    return PermissionDenied("scheme of \"" + std::string(url.substr(0, 100)) +
                            "\" is not http or https");
  }
  Result<UrlParts> parts = SplitUrl(url);
  if (!parts.ok()) return parts.status();
  if (Result<IpAddress> a = ParseIpAddress(parts->host); a.ok()) return CheckAddress(*a);
  return Status::Ok();
}

}  // namespace lumen::retrieval
