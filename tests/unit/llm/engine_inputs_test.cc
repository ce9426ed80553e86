// Hostile and malformed inputs: every one gets a clear error, none a crash.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llm/causal_lm.h"
#include "llm/generator.h"
#include "llm/model_config.h"
#include "llm/safetensors.h"
#include "llm/tiny_model.h"

namespace lumen::llm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::uint8_t> File(const std::string& header, std::size_t data_bytes) {
  std::vector<std::uint8_t> f(8 + header.size() + data_bytes, 0);
  const std::uint64_t n = header.size();
  std::memcpy(f.data(), &n, 8);
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}

Status ParseError(const std::string& header, std::size_t data_bytes) {
  const std::vector<std::uint8_t> f = File(header, data_bytes);
  return ParseSafetensors(f).status();
}

TEST(SafetensorsTest, ValidHeaderGivesViewsIntoTheBuffer) {
  const auto f = File(R"({"__metadata__":{"format":"pt"},
      "a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},
      "b":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[12,16]}})",
                      16);
  auto t = ParseSafetensors(f);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].name, "a");
  EXPECT_EQ((*t)[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ((*t)[1].dtype, DType::kF8E4M3);
  EXPECT_EQ((*t)[1].data, f.data() + f.size() - 4);
}

TEST(SafetensorsTest, MalformedFilesAreCorruptionErrorsThatSayWhy) {
  const std::vector<std::uint8_t> tiny = {1, 2, 3};
  EXPECT_NE(ParseSafetensors(tiny).status().message().find("too short"), std::string::npos);
  std::vector<std::uint8_t> past = File("{}", 0);
  past[0] = 200;  // header length beyond the file
  EXPECT_NE(ParseSafetensors(past).status().message().find("truncated"), std::string::npos);
  std::vector<std::uint8_t> huge = File("{}", 0);
  huge[7] = 0x7F;
  EXPECT_NE(ParseSafetensors(huge).status().message().find("100 MB"), std::string::npos);

  const struct {
    const char* header;
    std::size_t data;
    const char* says;
  } cases[] = {
      {"{not json", 0, "not valid JSON"},
      {"[1,2]", 0, "not a JSON object"},
      {R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4, "dtype"},
      {R"({"a":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}})", 4, "unknown dtype"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", 4, "truncated"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 8, "expected 8"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 8, "begin > end"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 8, "data_offsets"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
           "b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       8, "overlap"},
      {R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,1]}})", 1,
       "overflows"},
      {R"({"__metadata__":{"k":1}})", 0, "not a string"},
      {R"({"a":5})", 0, "not an object"},
  };
  for (const auto& c : cases) {
    const Status s = ParseError(c.header, c.data);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << c.header;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << c.header << " -> " << s.message();
  }
}

class ModelFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_engine_inputs_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    spec_.vocab = 64;
    spec_.fp8 = true;
    ASSERT_TRUE(WriteTinyModel(dir_.string(), spec_).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir() const { return dir_.string(); }
  Status Load() { return LoadCausalLM(dir(), {.threads = 1}).status(); }

  // Rewrites model.safetensors, letting `edit` drop (return false) or change tensors.
  void Rewrite(const std::function<bool(const std::string&, DType&, std::vector<std::int64_t>&,
                                        std::vector<std::uint8_t>&)>& edit) {
    const std::string path = (dir_ / "model.safetensors").string();
    SafetensorsWriter w;
    {
      auto f = SafetensorsFile::Open(path);
      ASSERT_TRUE(f.ok());
      for (const TensorView& t : (*f)->tensors()) {
        DType d = t.dtype;
        std::vector<std::int64_t> shape = t.shape;
        std::vector<std::uint8_t> bytes(t.data, t.data + t.nbytes);
        if (edit(t.name, d, shape, bytes)) w.Add(t.name, d, shape, bytes);
      }
    }
    ASSERT_TRUE(w.Write(path).ok());
  }

  void EditConfig(const std::function<void(json&)>& edit) {
    json c = json::parse(std::ifstream(dir_ / "config.json"));
    edit(c);
    std::ofstream(dir_ / "config.json") << c.dump();
  }

  fs::path dir_;
  TinyModelSpec spec_;
};

TEST_F(ModelFolderTest, TheTinyModelLoads) {
  EXPECT_TRUE(Load().ok()) << Load().ToString();
}

TEST_F(ModelFolderTest, TruncatedWeightsAreCorruption) {
  const fs::path f = dir_ / "model.safetensors";
  fs::resize_file(f, fs::file_size(f) - 100);
  const Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("model.safetensors"), std::string::npos);
}

TEST_F(ModelFolderTest, GarbageWeightsFileIsCorruption) {
  std::ofstream(dir_ / "model.safetensors", std::ios::trunc) << "hello, this is not a model";
  EXPECT_EQ(Load().code(), StatusCode::kCorruption);
}

TEST_F(ModelFolderTest, MissingTensorIsNamed) {
  Rewrite([](const std::string& name, auto&, auto&, auto&) {
    return name != "model.layers.1.mlp.experts.5.up_proj.weight";
  });
  const Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("model.layers.1.mlp.experts.5.up_proj.weight"), std::string::npos);
}

TEST_F(ModelFolderTest, MissingScalesAreNamed) {
  Rewrite([](const std::string& name, auto&, auto&, auto&) {
    return name != "model.layers.0.self_attn.o_proj.weight_scale_inv";
  });
  const Status s = Load();
  EXPECT_NE(s.message().find("o_proj.weight_scale_inv"), std::string::npos) << s.ToString();
}

TEST_F(ModelFolderTest, WrongShapeIsNamed) {
  EditConfig([](json& c) { c["moe_intermediate_size"] = 48; });
  const Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expected [48, 64]"), std::string::npos) << s.ToString();
}

TEST_F(ModelFolderTest, WrongScaleGridIsNamed) {
  Rewrite([](const std::string& name, DType&, std::vector<std::int64_t>& shape,
             std::vector<std::uint8_t>& bytes) {
    if (name == "model.layers.0.self_attn.q_proj.weight_scale_inv") {
      shape = {static_cast<std::int64_t>(bytes.size() / 4), 1};
    }
    return true;
  });
  const Status s = Load();
  EXPECT_NE(s.message().find("q_proj.weight_scale_inv\" have shape"), std::string::npos)
      << s.ToString();
}

TEST_F(ModelFolderTest, NaNInWeightsIsRefused) {
  Rewrite([](const std::string& name, auto&, auto&, std::vector<std::uint8_t>& bytes) {
    if (name == "model.layers.1.self_attn.v_proj.weight") bytes[17] = 0x7F;  // an E4M3 NaN
    return true;
  });
  const Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("v_proj.weight\" holds a NaN"), std::string::npos) << s.ToString();
}

TEST_F(ModelFolderTest, NaNInBf16NormIsRefused) {
  Rewrite([](const std::string& name, auto&, auto&, std::vector<std::uint8_t>& bytes) {
    if (name == "model.norm.weight") {
      bytes[2] = 0xC0;
      bytes[3] = 0x7F;  // bf16 0x7FC0: NaN
    }
    return true;
  });
  EXPECT_EQ(Load().code(), StatusCode::kCorruption);
}

TEST_F(ModelFolderTest, UnsupportedDtypeIsNamed) {
  Rewrite([](const std::string& name, DType& d, auto&, std::vector<std::uint8_t>&) {
    if (name == "model.norm.weight") d = DType::kI16;
    return true;
  });
  const Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("I16"), std::string::npos) << s.ToString();
}

TEST_F(ModelFolderTest, UnknownArchitectureIsUnimplemented) {
  EditConfig([](json& c) { c["architectures"] = {"LlamaForCausalLM"}; });
  const Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("LlamaForCausalLM"), std::string::npos);
}

TEST_F(ModelFolderTest, InconsistentConfigIsRejected) {
  EditConfig([](json& c) { c["num_key_value_heads"] = 3; });
  EXPECT_EQ(Load().code(), StatusCode::kInvalidArgument);
  EditConfig([](json& c) {
    c["num_key_value_heads"] = 2;
    c["num_experts_per_tok"] = 99;
  });
  EXPECT_EQ(Load().code(), StatusCode::kInvalidArgument);
  EditConfig([](json& c) {
    c["num_experts_per_tok"] = 2;
    c.erase("hidden_size");
  });
  EXPECT_NE(Load().message().find("hidden_size"), std::string::npos);
  std::ofstream(dir_ / "config.json", std::ios::trunc) << "{\"hidden_size\": ";
  EXPECT_EQ(Load().code(), StatusCode::kCorruption);
}

TEST_F(ModelFolderTest, ShardIndexProblemsAreCaught) {
  std::ofstream(dir_ / "model.safetensors.index.json")
      << R"({"weight_map": {"model.norm.weight": "../model.safetensors"}})";
  EXPECT_EQ(Load().code(), StatusCode::kCorruption);
  std::ofstream(dir_ / "model.safetensors.index.json", std::ios::trunc)
      << R"({"weight_map": {"model.norm.weight": "model-00009-of-00009.safetensors"}})";
  EXPECT_EQ(Load().code(), StatusCode::kIoError);
  std::ofstream(dir_ / "model.safetensors.index.json", std::ios::trunc)
      << R"({"weight_map": {"no.such.tensor": "model.safetensors"}})";
  EXPECT_NE(Load().message().find("no.such.tensor"), std::string::npos);
}

TEST_F(ModelFolderTest, MissingFolderIsNotFound) {
  EXPECT_EQ(LoadCausalLM((dir_ / "nope").string(), {}).status().code(), StatusCode::kNotFound);
}

TEST_F(ModelFolderTest, BadForwardAndGenerationRequestsAreErrors) {
  auto model = LoadCausalLM(dir(), {.threads = 1});
  ASSERT_TRUE(model.ok());
  std::vector<float> logits(64);
  auto seq = (*model)->NewSequence(4);
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ((*model)->Forward(**seq, std::vector<int>{1, 64}, logits).code(),
            StatusCode::kInvalidArgument);  // id outside the vocabulary
  EXPECT_EQ((*model)->Forward(**seq, std::vector<int>{-1}, logits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Forward(**seq, {}, logits).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Forward(**seq, std::vector<int>{1, 2, 3, 4, 5}, logits).code(),
            StatusCode::kResourceExhausted);  // longer than the sequence's room
  std::vector<float> small(3);
  EXPECT_FALSE((*model)->Forward(**seq, std::vector<int>{1}, small).ok());
  EXPECT_EQ((*seq)->length(), 0);  // nothing was appended by the failed calls
  ASSERT_TRUE((*model)->Forward(**seq, std::vector<int>{1, 2, 3, 4}, logits).ok());
  EXPECT_EQ((*model)->Forward(**seq, std::vector<int>{1}, logits).code(),
            StatusCode::kResourceExhausted);  // full
  EXPECT_FALSE((*model)->NewSequence(0).ok());
  EXPECT_FALSE((*model)->NewSequence(1 << 30).ok());  // beyond max_position_embeddings

  GenerationOptions g;
  g.max_tokens = 0;
  EXPECT_NE(Generate(**model, std::vector<int>{1}, g).status().message().find("max tokens"),
            std::string::npos);
  g.max_tokens = 4;
  g.context_length = 8;
  const std::vector<int> long_prompt(8, 3);
  const Status too_long = Generate(**model, long_prompt, g).status();
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("context"), std::string::npos);
  EXPECT_FALSE(Generate(**model, std::vector<int>{}, g).ok());
  // A prompt that fits but leaves little room stops at the context's end.
  auto r = Generate(**model, std::vector<int>(6, 3), g);
  ASSERT_TRUE(r.ok());
  EXPECT_LE(r->tokens.size(), 2u);
}

}  // namespace
}  // namespace lumen::llm
