#include "llm/unicode.h"

#include <array>
#include <climits>
#include <cstdint>
#include <memory>

#if LUMEN_HAVE_ICU
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#endif

namespace lumen::llm::unicode {

namespace {

// Length of the valid UTF-8 sequence at s[i..n), 0 if ill-formed. When ill-formed, `*bad` is set
// to the length of the maximal subpart to replace (at least 1) and `*truncated` tells whether the
// sequence was only cut short by the end of input.
size_t SequenceLength(const unsigned char* s, size_t i, size_t n, size_t* bad, bool* truncated) {
  const unsigned char c = s[i];
  *truncated = false;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= n) {
      *bad = k;
      *truncated = true;
      return 0;
    }
    const unsigned char b = s[i + k];
    const unsigned char l = k == 1 ? lo : 0x80;
    const unsigned char h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      *bad = k;
      return 0;
    }
  }
  return need;
}

#if LUMEN_HAVE_ICU
uint8_t ClassFromIcu(char32_t cp) {
  const uint32_t mask = U_GET_GC_MASK(static_cast<UChar32>(cp));
  uint8_t cls = 0;
  if (mask & U_GC_L_MASK) cls |= kLetter;
  if (mask & U_GC_N_MASK) cls |= kNumber;
  if (mask & U_GC_M_MASK) cls |= kMark;
  if (mask & U_GC_P_MASK) cls |= kPunct;
  if (mask & U_GC_S_MASK) cls |= kSymbol;
  if ((mask & U_GC_ZS_MASK) || cp == 0x09 || cp == 0x0A || cp == 0x0B || cp == 0x0C || cp == 0x0D ||
      cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) {
    cls |= kSpace;
  }
  if (cp == '\r' || cp == '\n') cls |= kNewline;
  return cls;
}
#endif

const uint8_t* BuildBmpTable() {
  static std::array<uint8_t, 0x10000> table{};
#if LUMEN_HAVE_ICU
  for (char32_t cp = 0; cp < 0x10000; ++cp) table[cp] = ClassFromIcu(cp);
#endif
  return table.data();
}

}  // namespace

namespace internal {
const uint8_t* const kBmpClasses = BuildBmpTable();

uint8_t SupplementaryClass(char32_t cp) {
#if LUMEN_HAVE_ICU
  return ClassFromIcu(cp);
#else
  (void)cp;
  return 0;
#endif
}
}  // namespace internal

std::string_view SanitizeUtf8(std::string_view text, std::string& scratch) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  // Fast scan: stop at the first ill-formed sequence.
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    size_t bad;
    bool truncated;
    const size_t len = SequenceLength(s, i, n, &bad, &truncated);
    if (len == 0) break;
    i += len;
  }
  if (i == n) return text;
  scratch.assign(text.data(), i);
  while (i < n) {
    size_t bad;
    bool truncated;
    const size_t len = SequenceLength(s, i, n, &bad, &truncated);
    if (len == 0) {
      AppendUtf8(kReplacement, scratch);
      i += bad;
    } else {
      scratch.append(text.data() + i, len);
      i += len;
    }
  }
  return scratch;
}

Utf8Prefix ValidUtf8Prefix(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t bad;
    bool truncated;
    const size_t len = SequenceLength(s, i, n, &bad, &truncated);
    if (len == 0) return {.valid = i, .incomplete = truncated};
    i += len;
  }
  return {.valid = n, .incomplete = false};
}

void AppendUtf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool HaveIcu() {
  return LUMEN_HAVE_ICU != 0;
}

std::string_view NormalizeNfc(std::string_view text, std::string& scratch) {
#if LUMEN_HAVE_ICU
  // ASCII is always NFC; most text is mostly ASCII.
  size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  if (i == text.size()) return text;
  // ICU takes int32_t lengths; a stretch over 2 GiB is left as it is rather than misread.
  if (text.size() > static_cast<size_t>(INT32_MAX)) return text;
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err)) return text;
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  if (nfc->isNormalizedUTF8(piece, err) && U_SUCCESS(err)) return text;
  err = U_ZERO_ERROR;
  scratch.clear();
  icu::StringByteSink<std::string> sink(&scratch, static_cast<int32_t>(text.size()));
  nfc->normalizeUTF8(0, piece, sink, nullptr, err);
  if (U_FAILURE(err)) return text;
  return scratch;
#else
  (void)scratch;
  return text;
#endif
}

}  // namespace lumen::llm::unicode
