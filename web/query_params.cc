#include "web/query_params.h"

#include "retrieval/words.h"

namespace lumen::web {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string QueryParam(const httplib::Request& req, std::string_view name) {
  const std::size_t q = req.target.find('?');
  if (q == std::string::npos) return "";
  std::string_view query = std::string_view(req.target).substr(q + 1);
  const std::size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (FormDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return "";
}

std::string ValidUtf8(std::string_view s) {
  // retrieval::DecodeUtf8 turns every invalid sequence (truncated, overlong, surrogate, past
  // U+10FFFF) into U+FFFD and moves on by one byte.
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) retrieval::AppendUtf8(out, retrieval::DecodeUtf8(s, i));
  return out;
}

}  // namespace lumen::web
