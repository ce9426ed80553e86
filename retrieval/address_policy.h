// The server-side request forgery guard: which network addresses Lumen may connect to when it
// fetches a URL someone else chose (a crawl seed, a link on a page, a search result, a redirect).
//
// By default only public unicast addresses are allowed. Refused: loopback (127.0.0.0/8, ::1),
// private (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), link-local (169.254/16,
// fe80::/10), carrier-grade NAT (100.64/10), multicast (224/4, ff00::/8), unspecified (0/8, ::)
// and reserved ranges (192.0.0/24, documentation and benchmark nets, 240/4, broadcast,
// 2001:db8::/32, 100::/64). IPv6 forms that embed an IPv4 address (v4-mapped ::ffff:a.b.c.d,
// v4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that address.
// Entries of the allow-list (addresses or CIDR ranges: "127.0.0.1", "10.0.0.0/8", "::1") are
// allowed whatever their kind.
//
// The fetcher asks CheckAddress for the address of every socket it is about to connect
// (libcurl's open-socket callback), so the address actually connected to is checked — each
// DNS answer tried, and every hop of a redirect — not a first lookup an attacker's DNS could
// change. An AddressPolicy is immutable and thread-safe.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::retrieval {

enum class AddressKind {
  kPublic,
  kLoopback,
  kPrivate,
  kLinkLocal,
  kCarrierGradeNat,
  kMulticast,
  kUnspecified,
  kReserved,
};

std::string_view AddressKindName(AddressKind kind);  // "public", "loopback", ...

// An IPv4 or IPv6 address in network byte order; IPv4 is stored as v4-mapped IPv6.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool is_v4() const;
  std::string ToString() const;
};

// Parses "1.2.3.4", "::1", "[::1]". InvalidArgument for anything else.
Result<IpAddress> ParseIpAddress(std::string_view text);
// From a socket address (AF_INET or AF_INET6); InvalidArgument for other families.
Result<IpAddress> IpAddressFromSockaddr(const sockaddr* sa);

AddressKind ClassifyAddress(const IpAddress& address);

class AddressPolicy {
 public:
  // Allows public addresses only.
  AddressPolicy() = default;
  // `allow` entries: addresses or CIDR ranges. InvalidArgument names a bad entry.
  static Result<AddressPolicy> Create(const std::vector<std::string>& allow);

  // OK, or PermissionDenied("address 10.0.0.1 is private").
  Status CheckAddress(const IpAddress& address) const;
  Status CheckSockaddr(const sockaddr* sa) const;
  // Scheme must be http or https; a host that is an IP literal is checked now (names are
  // checked at connect time). InvalidArgument for a bad URL, PermissionDenied otherwise.
  Status CheckUrl(std::string_view url) const;

 private:
  struct Range {
    IpAddress base;
    int prefix_bits = 128;
  };
  std::vector<Range> allow_;
};

}  // namespace lumen::retrieval
