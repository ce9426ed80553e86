// URL normalization: one spelling per page, so the frontier, the store and duplicate checks agree
// on identity. Built on libcurl's URL parser (RFC 3986), with these rules on top:
//   - scheme and host lower-cased; default ports (80 for http, 443 for https) dropped;
//   - fragment, user name and password dropped; an empty path becomes "/";
//   - dot segments removed; percent-escapes upper-cased, escapes of unreserved characters
//     decoded, and spaces, non-ASCII bytes and other unsafe characters escaped;
//   - tracking parameters removed from the query (utm_*, fbclid, gclid, dclid, msclkid, mc_cid,
//     mc_eid, yclid, igshid, _ga, _gl, _hsenc, _hsmi, mkt_tok), other parameters kept in order;
//     an empty query is dropped.
// Only http and https URLs are accepted. Functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lumen::retrieval {

// The normalized form of an absolute http(s) URL. InvalidArgument when it cannot be parsed, is
// relative, or has another scheme (mailto:, javascript:, ftp:, ...).
Result<std::string> NormalizeUrl(std::string_view url);

// Resolves `ref` (absolute, relative, scheme-relative or "?query") against the absolute `base`
// and normalizes the result. Errors as NormalizeUrl.
Result<std::string> ResolveUrl(std::string_view base, std::string_view ref);

// Resolves many references against one base, parsing the base once (link extraction).
// Not thread-safe; cheap to construct.
class UrlResolver {
 public:
  // An empty or invalid base makes Resolve() accept absolute URLs only.
  explicit UrlResolver(std::string_view base);
  ~UrlResolver();
  UrlResolver(const UrlResolver&) = delete;
  UrlResolver& operator=(const UrlResolver&) = delete;
  // As ResolveUrl(base, ref), except that a fragment-only reference ("#top") is refused.
  Result<std::string> Resolve(std::string_view ref) const;

 private:
  void* base_ = nullptr;  // CURLU*
  std::string origin_;    // "https://host[:port]" of the base, for the fast path
};

struct UrlParts {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case; IPv6 literals keep their brackets: "[::1]"
  int port = 0;        // explicit or default port
  std::string path;    // path and query: "/a/b?x=1"
};

// Splits an absolute http(s) URL (normalizing it first). Errors as NormalizeUrl.
Result<UrlParts> SplitUrl(std::string_view url);

// `s` with percent-escapes upper-cased, escapes of unreserved characters decoded, and spaces,
// controls, non-ASCII bytes and other unsafe characters escaped (also used for robots.txt paths).
std::string CanonicalEscapes(std::string_view s);

// True when `name` is a query parameter that only tracks clicks (removed by normalization).
bool IsTrackingParameter(std::string_view name);

}  // namespace lumen::retrieval
