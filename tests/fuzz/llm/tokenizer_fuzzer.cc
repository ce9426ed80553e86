// Tokenizer under arbitrary bytes: encoding never crashes, decoding gives back the NFC of the
// (U+FFFD-repaired) input, streaming decode agrees with whole decode and emits only valid UTF-8,
// and tokenizer.json parsing of arbitrary bytes returns a Status. Uses the real Qwen3 tokenizer
// from the asset cache when it is there, else a small synthetic one.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer.h"
#include "llm/unicode.h"

namespace {

using lumen::llm::Tokenizer;

std::string ByteChar(int b) {
  int extra = 0;
  for (int x = 0; x < 256; ++x) {
    const bool printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE);
    const char32_t cp = printable ? static_cast<char32_t>(x) : static_cast<char32_t>(256 + extra++);
    if (x == b) {
      std::string s;
      lumen::llm::unicode::AppendUtf8(cp, s);
      return s;
    }
  }
  return "";
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// 256 byte tokens, a few merges, one special token, Qwen's pre-tokenizer and NFC.
std::string TinyJson() {
  std::string vocab;
  for (int b = 0; b < 256; ++b)
    vocab += (b ? "," : "") + Quote(ByteChar(b)) + ":" + std::to_string(b);
  vocab += ",\"aa\":256,\"Ġa\":257,\"Ġaa\":258";
  return R"({"added_tokens":[{"id":300,"content":"<|end|>","special":true}],)"
         R"("normalizer":{"type":"NFC"},"pre_tokenizer":{"type":"Sequence","pretokenizers":[)"
         R"({"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},)"
         R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},)"
         R"("decoder":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{)" +
         vocab + R"(},"merges":[["a","a"],["Ġ","a"],["Ġa","a"]]}})";
}

const Tokenizer* tokenizer = nullptr;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_fuzzer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static std::unique_ptr<Tokenizer> owned;
  if (auto dir = lumen::llm::CachedQwen3TokenizerDir(); dir.ok()) {
    if (auto tok = Tokenizer::Load(*dir); tok.ok()) owned = std::make_unique<Tokenizer>(*tok);
  }
  if (!owned) {
    auto tok = Tokenizer::FromJson(TinyJson(), "tiny");
    Check(tok.ok(), "the synthetic tokenizer does not load");
    owned = std::make_unique<Tokenizer>(*tok);
  }
  tokenizer = owned.get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Tokenizer& tok = *tokenizer;

  // Text -> ids -> text.
  const std::vector<int32_t> ids = tok.Encode(input);
  std::string repaired, normalized;
  const std::string_view valid = lumen::llm::unicode::SanitizeUtf8(input, repaired);
  const std::string_view nfc = lumen::llm::unicode::NormalizeNfc(valid, normalized);
  Check(tok.Decode(ids) == nfc, "Decode(Encode(s)) != NFC(s)");

  // Arbitrary ids: streaming decode equals whole decode, and every piece is valid UTF-8.
  std::vector<int32_t> raw_ids;
  for (size_t i = 0; i + 2 <= size; i += 2) {
    raw_ids.push_back(static_cast<int32_t>((data[i] << 8 | data[i + 1]) * 3) % tok.vocab_size());
  }
  Tokenizer::StreamDecoder stream(tok);
  std::string joined;
  for (const int32_t id : raw_ids) {
    const std::string piece = stream.Next(id);
    Check(lumen::llm::unicode::ValidUtf8Prefix(piece).valid == piece.size(),
          "a streamed piece is not valid UTF-8");
    joined += piece;
  }
  joined += stream.Finish();
  Check(joined == tok.Decode(raw_ids), "streamed decode != Decode");

  // tokenizer.json parsing never crashes on garbage.
  if (size < 4096) (void)Tokenizer::FromJson(input, "fuzz");
  return 0;
}
