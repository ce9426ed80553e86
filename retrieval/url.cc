#include "retrieval/url.h"

#include <curl/curl.h>

#include <memory>
#include <optional>

namespace lumen::retrieval {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

// A string libcurl allocated.
std::string TakeCurlString(char* s) {
  if (s == nullptr) return {};
  std::string out(s);
  curl_free(s);
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kHex[] = "0123456789ABCDEF";

// Escapes what may not appear raw in a path or query (space, controls, non-ASCII bytes, and
// "<>\"`{}|\\^"), upper-cases existing escapes and decodes escapes of unreserved characters. A
// '%' not followed by two hex digits is escaped as "%25".
}  // namespace

std::string CanonicalEscapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        const auto v = static_cast<unsigned char>(hi * 16 + lo);
        if (IsUnreserved(v)) {
          out.push_back(static_cast<char>(v));
        } else {
          out.push_back('%');
          out.push_back(kHex[hi]);
          out.push_back(kHex[lo]);
        }
        i += 2;
      } else {
        out += "%25";
      }
      continue;
    }
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' ||
        c == '}' || c == '|' || c == '\\' || c == '^') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

namespace {

// Prepares raw text from a page for libcurl: trims surrounding whitespace, drops tabs and
// newlines (as browsers do), and escapes unsafe bytes after the authority so that libcurl
// accepts paths with spaces or UTF-8.
std::string PrepareReference(std::string_view ref) {
  while (!ref.empty() && static_cast<unsigned char>(ref.front()) <= 0x20) ref.remove_prefix(1);
  while (!ref.empty() && static_cast<unsigned char>(ref.back()) <= 0x20) ref.remove_suffix(1);
  std::string cleaned;
  cleaned.reserve(ref.size());
  for (char c : ref) {
    if (c != '\t' && c != '\n' && c != '\r') cleaned.push_back(c);
  }
  // Find where the authority (if any) ends.
  std::size_t rest = 0;
  const std::size_t scheme_end = cleaned.find("://");
  const std::size_t first_delim = cleaned.find_first_of("/?#");
  if (scheme_end != std::string::npos &&
      (first_delim == std::string::npos || scheme_end < first_delim)) {
    rest = cleaned.find_first_of("/?#", scheme_end + 3);
  } else if (cleaned.rfind("//", 0) == 0) {
    rest = cleaned.find_first_of("/?#", 2);
  }
  if (rest == std::string::npos) return cleaned;
  std::string out = cleaned.substr(0, rest);
  std::string tail = cleaned.substr(rest);
  // Drop the fragment before escaping: it is removed anyway.
  if (const std::size_t hash = tail.find('#'); hash != std::string::npos) tail.resize(hash);
  out += CanonicalEscapes(tail);
  return out;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string FilterQuery(std::string_view query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(start, amp - start);
    const std::string_view name = param.substr(0, param.find('='));
    if (!param.empty() && !IsTrackingParameter(name)) {
      if (!out.empty()) out.push_back('&');
      out.append(param);
    }
    start = amp + 1;
  }
  return out;
}

Result<std::string> Finish(CURLU* u, std::string_view original) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("bad URL \"" + std::string(original.substr(0, 200)) +
                           "\": " + std::string(why));
  };
  char* raw = nullptr;
  if (curl_url_get(u, CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) return bad("no scheme");
  const std::string scheme = AsciiLower(TakeCurlString(raw));
  if (scheme != "http" && scheme != "https") return bad("scheme is not http or https");
  raw = nullptr;
  if (curl_url_get(u, CURLUPART_HOST, &raw, 0) != CURLUE_OK) return bad("no host");
  const std::string host = AsciiLower(TakeCurlString(raw));
  if (host.empty()) return bad("empty host");
  raw = nullptr;
  std::string port;
  if (curl_url_get(u, CURLUPART_PORT, &raw, CURLU_NO_DEFAULT_PORT) == CURLUE_OK) {
    port = TakeCurlString(raw);
  }
  raw = nullptr;
  std::string path = "/";
  if (curl_url_get(u, CURLUPART_PATH, &raw, 0) == CURLUE_OK) path = TakeCurlString(raw);
  if (path.empty()) path = "/";
  raw = nullptr;
  std::string query;
  if (curl_url_get(u, CURLUPART_QUERY, &raw, 0) == CURLUE_OK) query = TakeCurlString(raw);

  std::string out = scheme + "://" + host;
  if (!port.empty()) out += ":" + port;
  out += CanonicalEscapes(path);
  const std::string kept = FilterQuery(CanonicalEscapes(query));
  if (!kept.empty()) out += "?" + kept;
  return out;
}

constexpr unsigned kSetFlags = CURLU_NON_SUPPORT_SCHEME;

}  // namespace

bool IsTrackingParameter(std::string_view name) {
  std::string n = AsciiLower(std::string(name));
  if (n.rfind("utm_", 0) == 0) return true;
  static constexpr std::string_view kNames[] = {"fbclid", "gclid", "dclid",  "msclkid", "mc_cid",
                                                "mc_eid", "yclid", "igshid", "_ga",     "_gl",
                                                "_hsenc", "_hsmi", "mkt_tok"};
  for (std::string_view k : kNames) {
    if (n == k) return true;
  }
  return false;
}

Result<std::string> NormalizeUrl(std::string_view url) {
  CurlUrl u(curl_url());
  if (!u) return Internal("curl_url() failed");
  const std::string prepared = PrepareReference(url);
  if (curl_url_set(u.get(), CURLUPART_URL, prepared.c_str(), kSetFlags) != CURLUE_OK) {
    return InvalidArgument("bad URL \"" + std::string(url.substr(0, 200)) + "\"");
  }
  return Finish(u.get(), url);
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view ref) {
  CurlUrl u(curl_url());
  if (!u) return Internal("curl_url() failed");
  const std::string prepared_base = PrepareReference(base);
  if (curl_url_set(u.get(), CURLUPART_URL, prepared_base.c_str(), kSetFlags) != CURLUE_OK) {
    return InvalidArgument("bad base URL \"" + std::string(base.substr(0, 200)) + "\"");
  }
  const std::string prepared = PrepareReference(ref);
  if (prepared.empty()) return Finish(u.get(), base);
  if (curl_url_set(u.get(), CURLUPART_URL, prepared.c_str(), kSetFlags) != CURLUE_OK) {
    return InvalidArgument("bad URL \"" + std::string(ref.substr(0, 200)) + "\"");
  }
  return Finish(u.get(), ref);
}

namespace {

// Printable ASCII without space; what the fast path below accepts.
bool PlainAscii(std::string_view s) {
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7F || c == '\\') return false;
  }
  return true;
}

// Path (and query) of a reference that needs no dot-segment removal.
bool SimplePath(std::string_view path) {
  const std::size_t q = path.find_first_of("?#");
  const std::string_view p = path.substr(0, q);
  return p.find("/.") == std::string_view::npos && p.find("%2e") == std::string_view::npos &&
         p.find("%2E") == std::string_view::npos;
}

// origin + path?query, normalized as Finish() would.
std::string Assemble(std::string_view origin, std::string_view rest) {
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const std::size_t q = rest.find('?');
  std::string out(origin);
  const std::string_view path = rest.substr(0, q);
  out += path.empty() ? "/" : CanonicalEscapes(path);
  if (q != std::string_view::npos) {
    const std::string kept = FilterQuery(CanonicalEscapes(rest.substr(q + 1)));
    if (!kept.empty()) out += "?" + kept;
  }
  return out;
}

// The common shapes of links, normalized without libcurl: "/path?q" against an http(s) base,
// and "http(s)://host[:port]/path" with a plain ASCII host. Anything else returns nullopt and
// goes through libcurl; both give the same string (tests/unit/retrieval/url_test.cc).
std::optional<std::string> FastResolve(std::string_view base_origin, std::string_view ref) {
  if (!PlainAscii(ref)) return std::nullopt;
  if (ref.size() >= 1 && ref[0] == '/' && (ref.size() < 2 || ref[1] != '/')) {
    if (base_origin.empty() || !SimplePath(ref)) return std::nullopt;
    return Assemble(base_origin, ref);
  }
  std::string_view scheme;
  if (ref.substr(0, 7) == "http://")
    scheme = "http";
  else if (ref.substr(0, 8) == "https://")
    scheme = "https";
  else
    return std::nullopt;
  const std::size_t host_start = scheme.size() + 3;
  std::size_t end = ref.find_first_of("/?#", host_start);
  if (end == std::string_view::npos) end = ref.size();
  const std::string_view authority = ref.substr(host_start, end - host_start);
  std::string host;
  std::string_view port;
  const std::size_t colon = authority.find(':');
  const std::string_view host_part = authority.substr(0, colon);
  if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  if (host_part.empty() || host_part.size() > 253) return std::nullopt;
  for (char c : host_part) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return std::nullopt;
    host.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  // Names only: all-numeric hosts (IPv4 forms curl rewrites) go to libcurl.
  if (host.find_first_not_of("0123456789.") == std::string::npos) return std::nullopt;
  if (host.front() == '.' || host.find("..") != std::string::npos) return std::nullopt;
  if (colon != std::string_view::npos) {
    if (port.empty() || port.size() > 5 || port[0] == '0') return std::nullopt;
    for (char c : port) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    if (std::atoi(std::string(port).c_str()) > 65535) return std::nullopt;
    if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port = {};
  }
  const std::string_view rest = ref.substr(end);
  if (!SimplePath(rest)) return std::nullopt;
  std::string origin = std::string(scheme) + "://" + host;
  if (!port.empty()) origin += ":" + std::string(port);
  return Assemble(origin, rest);
}

}  // namespace

UrlResolver::UrlResolver(std::string_view base) {
  if (base.empty()) return;
  if (Result<UrlParts> p = SplitUrl(base); p.ok()) {
    const bool default_port =
        (p->scheme == "http" && p->port == 80) || (p->scheme == "https" && p->port == 443);
    origin_ = p->scheme + "://" + p->host + (default_port ? "" : ":" + std::to_string(p->port));
  }
  CURLU* u = curl_url();
  const std::string prepared = PrepareReference(base);
  if (u != nullptr && curl_url_set(u, CURLUPART_URL, prepared.c_str(), kSetFlags) == CURLUE_OK) {
    base_ = u;
  } else if (u != nullptr) {
    curl_url_cleanup(u);
  }
}

UrlResolver::~UrlResolver() {
  if (base_ != nullptr) curl_url_cleanup(static_cast<CURLU*>(base_));
}

Result<std::string> UrlResolver::Resolve(std::string_view ref) const {
  if (base_ == nullptr) return NormalizeUrl(ref);
  // Cheap refusals before any parsing: fragments and other schemes.
  std::string_view head = ref.substr(0, 12);
  while (!head.empty() && static_cast<unsigned char>(head.front()) <= 0x20) head.remove_prefix(1);
  if (!head.empty() && head.front() == '#') return InvalidArgument("fragment-only reference");
  for (std::string_view scheme : {"javascript:", "mailto:", "tel:", "data:"}) {
    if (head.size() >= scheme.size() &&
        AsciiLower(std::string(head.substr(0, scheme.size()))) == scheme) {
      return InvalidArgument("scheme is not http or https");
    }
  }
  if (std::optional<std::string> fast = FastResolve(origin_, ref)) return *std::move(fast);
  CurlUrl u(curl_url_dup(static_cast<CURLU*>(base_)));
  if (!u) return Internal("curl_url_dup() failed");
  const std::string prepared = PrepareReference(ref);
  if (prepared.empty()) return Finish(u.get(), ref);
  if (curl_url_set(u.get(), CURLUPART_URL, prepared.c_str(), kSetFlags) != CURLUE_OK) {
    return InvalidArgument("bad URL \"" + std::string(ref.substr(0, 200)) + "\"");
  }
  return Finish(u.get(), ref);
}

Result<UrlParts> SplitUrl(std::string_view url) {
  LUMEN_ASSIGN_OR_RETURN(const std::string normalized, NormalizeUrl(url));
  UrlParts parts;
  const std::size_t colon = normalized.find("://");
  parts.scheme = normalized.substr(0, colon);
  const std::size_t host_start = colon + 3;
  std::size_t path_start = normalized.find_first_of("/?", host_start);
  if (path_start == std::string::npos) path_start = normalized.size();
  std::string authority = normalized.substr(host_start, path_start - host_start);
  parts.path = path_start < normalized.size() ? normalized.substr(path_start) : "/";
  parts.port = parts.scheme == "https" ? 443 : 80;
  const std::size_t bracket = authority.rfind(']');
  const std::size_t port_colon = authority.rfind(':');
  if (port_colon != std::string::npos && (bracket == std::string::npos || port_colon > bracket)) {
    parts.port = std::atoi(authority.c_str() + port_colon + 1);
    authority.resize(port_colon);
  }
  parts.host = authority;
  return parts;
}

}  // namespace lumen::retrieval
