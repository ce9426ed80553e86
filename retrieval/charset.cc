#include "retrieval/charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>

#include "retrieval/words.h"

namespace lumen::retrieval {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimSpacesAndQuotes(std::string_view s) {
  auto junk = [](char c) {
    return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '\n' || c == '\r';
  };
  while (!s.empty() && junk(s.front())) s.remove_prefix(1);
  while (!s.empty() && junk(s.back())) s.remove_suffix(1);
  return s;
}

// Finds "charset=" in `s` (case-insensitive) and returns the label after it.
std::string FindCharsetAssignment(std::string_view s) {
  const std::string lower = Lower(s);
  std::size_t pos = 0;
  while ((pos = lower.find("charset", pos)) != std::string::npos) {
    std::size_t i = pos + 7;
    while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t')) ++i;
    if (i < lower.size() && lower[i] == '=') {
      ++i;
      while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t')) ++i;
      std::size_t j = i;
      if (j < lower.size() && (lower[j] == '"' || lower[j] == '\'')) ++i, ++j;
      while (j < lower.size() && lower[j] != ';' && lower[j] != '"' && lower[j] != '\'' &&
             lower[j] != ' ' && lower[j] != '>' && lower[j] != '/' && lower[j] != ',') {
        ++j;
      }
      std::string label(TrimSpacesAndQuotes(s.substr(i, j - i)));
      if (!label.empty()) return label;
    }
    pos += 7;
  }
  return {};
}

// A simplified form of the HTML standard's prescan: looks at <meta> tags in the first 4 KiB.
std::string MetaCharset(std::string_view body) {
  const std::string head = Lower(body.substr(0, 4096));
  std::size_t pos = 0;
  while ((pos = head.find("<meta", pos)) != std::string::npos) {
    const std::size_t end = head.find('>', pos);
    const std::string_view tag = std::string_view(head).substr(
        pos, end == std::string::npos ? std::string::npos : end - pos);
    std::string label = FindCharsetAssignment(tag);
    if (!label.empty()) return label;
    pos += 5;
  }
  return {};
}

bool HasNonAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

struct IconvHandle {
  explicit IconvHandle(const char* from) : cd(iconv_open("UTF-8", from)) {}
  ~IconvHandle() {
    if (ok()) iconv_close(cd);
  }
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;
  bool ok() const { return cd != reinterpret_cast<iconv_t>(-1); }
  iconv_t cd;
};

}  // namespace

std::string CanonicalCharset(std::string_view label) {
  std::string l = Lower(TrimSpacesAndQuotes(label));
  if (l == "utf8" || l == "unicode-1-1-utf-8" || l == "x-unicode20utf8") return "utf-8";
  if (l == "latin1" || l == "iso-8859-1" || l == "iso8859-1" || l == "iso_8859-1" ||
      l == "us-ascii" || l == "ascii" || l == "cp1252" || l == "x-cp1252" || l == "l1" ||
      l == "cp819" || l == "ibm819" || l == "iso-ir-100" || l == "ansi_x3.4-1968") {
    return "windows-1252";
  }
  if (l == "sjis" || l == "x-sjis" || l == "ms_kanji" || l == "windows-31j") return "shift_jis";
  if (l == "gb2312" || l == "gbk" || l == "x-gbk" || l == "chinese") return "gbk";
  if (l == "ks_c_5601-1987" || l == "korean") return "euc-kr";
  if (l == "utf-16") return "utf-16le";
  return l;
}

std::string CharsetParameter(std::string_view content_type) {
  return FindCharsetAssignment(content_type);
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t at = i;
    const char32_t cp = DecodeUtf8(s, i);
    if (cp == kReplacementChar && i - at == 1) return false;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    const std::size_t at = i;
    const char32_t cp = DecodeUtf8(s, i);
    if (cp == kReplacementChar && i - at == 1) {
      AppendUtf8(out, kReplacementChar);
    } else {
      out.append(s.substr(at, i - at));
    }
  }
  return out;
}

CharsetGuess DetectCharset(std::string_view body, std::string_view content_type) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF") return {"utf-8", "bom"};
  if (body.substr(0, 2) == "\xFF\xFE") return {"utf-16le", "bom"};
  if (body.substr(0, 2) == "\xFE\xFF") return {"utf-16be", "bom"};
  std::string declared;
  std::string source;
  if (std::string h = CharsetParameter(content_type); !h.empty()) {
    declared = CanonicalCharset(h);
    source = "http";
  } else if (std::string m = MetaCharset(body); !m.empty()) {
    declared = CanonicalCharset(m);
    // A page cannot be UTF-16 if its meta tag was readable as ASCII.
    if (declared.rfind("utf-16", 0) == 0) declared = "utf-8";
    source = "meta";
  }
  if (!declared.empty()) {
    if (declared == "windows-1252" && HasNonAscii(body) && IsValidUtf8(body)) {
      return {"utf-8", "utf8-override"};
    }
    return {declared, source};
  }
  if (IsValidUtf8(body)) return {"utf-8", "utf8-valid"};
  return {"windows-1252", "default"};
}

std::string ConvertToUtf8(std::string_view body, std::string_view charset) {
  const std::string cs = CanonicalCharset(charset);
  if (cs == "utf-8" || cs.empty()) {
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    return SanitizeUtf8(body);
  }
  IconvHandle conv(cs.c_str());
  if (!conv.ok()) return SanitizeUtf8(body);  // unknown label: read as UTF-8
  const bool utf16 = cs.rfind("utf-16", 0) == 0;
  if (utf16 && (body.substr(0, 2) == "\xFF\xFE" || body.substr(0, 2) == "\xFE\xFF")) {
    body.remove_prefix(2);
  }
  std::string out;
  out.reserve(body.size() + body.size() / 4);
  char buffer[16384];
  char* in = const_cast<char*>(body.data());
  std::size_t in_left = body.size();
  while (in_left > 0) {
    char* o = buffer;
    std::size_t out_left = sizeof buffer;
    const std::size_t r = iconv(conv.cd, &in, &in_left, &o, &out_left);
    out.append(buffer, o - buffer);
    if (r != static_cast<std::size_t>(-1)) continue;
    if (errno == E2BIG) continue;
    // EILSEQ (invalid) or EINVAL (truncated at the end): replace one unit and go on.
    AppendUtf8(out, kReplacementChar);
    const std::size_t skip = utf16 ? std::min<std::size_t>(2, in_left) : 1;
    in += skip;
    in_left -= skip;
    iconv(conv.cd, nullptr, nullptr, nullptr, nullptr);  // reset the shift state
  }
  return SanitizeUtf8(out);
}

std::string DecodeToUtf8(std::string_view body, std::string_view content_type,
                         CharsetGuess* guess) {
  CharsetGuess g = DetectCharset(body, content_type);
  std::string out = ConvertToUtf8(body, g.charset);
  if (guess != nullptr) *guess = std::move(g);
  return out;
}

}  // namespace lumen::retrieval
