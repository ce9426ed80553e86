// `lumen model` engine subcommands as a user runs them: make-tiny, info, logits, generate,
// quantize, and their errors on bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"

namespace lumen {
namespace {

namespace fs = std::filesystem;
using test_support::RunProcess;

const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

class ModelCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_model_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny").string();
    auto r = RunProcess({kLumen, "model", "make-tiny", model_, "--no-tokenizer", "--vocab", "256",
                         "--fp8", "--seed", "5"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<double> Logits(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {kLumen, "model", "logits", model_, "--ids", "3,1,4,1,5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = RunProcess(argv);
    EXPECT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array());
    return j.is_array() ? j.get<std::vector<double>>() : std::vector<double>{};
  }

  fs::path dir_;
  std::string model_;
};

TEST_F(ModelCliTest, InfoDescribesTheTinyMoe) {
  auto r = RunProcess({kLumen, "model", "info", model_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Qwen3MoeForCausalLM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8 per layer, top 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("F8_E4M3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("active per token"), std::string::npos) << r.out;
}

TEST_F(ModelCliTest, LogitsAreAJsonArrayOverTheVocabularyAndRepeatAcrossThreadCounts) {
  const std::vector<double> a = Logits({"--threads", "1"});
  const std::vector<double> b = Logits({"--threads", "2"});
  const std::vector<double> c = Logits({"--threads", "2", "--isa", "scalar"});
  ASSERT_EQ(a.size(), 256u);
  ASSERT_EQ(b.size(), 256u);
  ASSERT_EQ(c.size(), 256u);
  double scale = 0;
  for (double v : a) scale = std::max(scale, std::fabs(v));
  EXPECT_GT(scale, 0.5);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], 1e-5 * scale);
    EXPECT_NEAR(a[i], c[i], 1e-4 * scale);
  }
}

TEST_F(ModelCliTest, GreedyGenerateStreamsIdsAndReportsSpeed) {
  auto r1 = RunProcess({kLumen, "model", "generate", model_, "--ids", "7,8,9", "--max-tokens", "6",
                        "--temperature", "0"});
  auto r2 = RunProcess({kLumen, "model", "generate", model_, "--ids", "7,8,9", "--max-tokens", "6",
                        "--temperature", "0"});
  ASSERT_EQ(r1.code, 0) << r1.err;
  EXPECT_EQ(r1.out, r2.out);
  int ids = 0;
  for (std::size_t i = 0; i + 1 < r1.out.size(); ++i) ids += r1.out[i] == ' ';
  EXPECT_GE(ids, 1);
  EXPECT_LE(ids, 6);
  EXPECT_NE(r1.err.find("prefill: 3 tokens"), std::string::npos) << r1.err;
  EXPECT_NE(r1.err.find("tokens/s"), std::string::npos) << r1.err;
}

TEST_F(ModelCliTest, BadRequestsAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"generate", model_, "--ids", "1", "--max-tokens", "0"}, "--max-tokens"},
      {{"generate", model_, "--ids", "1", "--temperature", "-2"}, "temperature"},
      {{"logits", model_, "--ids", "1,,2"}, "not a token id"},
      {{"logits", model_, "--ids", "256"}, "outside the vocabulary"},
      {{"logits", model_}, "exactly one of"},
      {{"make-tiny", (dir_ / "x").string(), "--arch", "llama"}, "--arch"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {kLumen, "model"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunProcess(argv);
    EXPECT_EQ(r.code, 2) << c.says << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  // A prompt longer than the configured context.
  auto r = RunProcess({kLumen, "model", "generate", model_, "--ids", "1,2,3,4,5,6"},
                      {"LUMEN_ENGINE__CONTEXT_LENGTH=4"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("context"), std::string::npos) << r.err;
}

TEST_F(ModelCliTest, CorruptOrMissingModelsFailClearly) {
  auto missing = RunProcess({kLumen, "model", "logits", (dir_ / "none").string(), "--ids", "1"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("config.json"), std::string::npos) << missing.err;
  fs::resize_file(fs::path(model_) / "model.safetensors", 1000);
  auto corrupt = RunProcess({kLumen, "model", "logits", model_, "--ids", "1"});
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_NE(corrupt.err.find("safetensors"), std::string::npos) << corrupt.err;
}

TEST_F(ModelCliTest, QuantizeTurnsABf16ModelIntoALoadableFp8One) {
  const std::string bf16 = (dir_ / "bf16").string(), fp8 = (dir_ / "fp8").string();
  ASSERT_EQ(RunProcess({kLumen, "model", "make-tiny", bf16, "--no-tokenizer", "--vocab", "128",
                        "--arch", "qwen3"})
                .code,
            0);
  auto q = RunProcess({kLumen, "model", "quantize", bf16, fp8});
  ASSERT_EQ(q.code, 0) << q.err;
  auto info = RunProcess({kLumen, "model", "info", fp8});
  EXPECT_NE(info.out.find("fp8 e4m3, blocks 128x128"), std::string::npos) << info.out;
  auto again = RunProcess({kLumen, "model", "quantize", fp8, (dir_ / "fp8b").string()});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already quantized"), std::string::npos) << again.err;
  EXPECT_EQ(RunProcess({kLumen, "model", "logits", fp8, "--ids", "1,2"}).code, 0);
}

TEST_F(ModelCliTest, TinyModelWithTheRealTokenizerChats) {
  const std::string chat = (dir_ / "chat").string();
  auto made = RunProcess({kLumen, "model", "make-tiny", chat, "--arch", "qwen3_moe"});
  if (made.code != 0 && made.err.find("fetch") != std::string::npos) {
    GTEST_SKIP() << "the Qwen3 tokenizer is not in the asset cache: " << made.err;
  }
  ASSERT_EQ(made.code, 0) << made.err;
  auto r = RunProcess({kLumen, "model", "generate", chat, "--chat", "--prompt", "Hello there",
                       "--max-tokens", "5", "--seed", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("prefill:"), std::string::npos) << r.err;
  auto l = RunProcess({kLumen, "model", "logits", chat, "--prompt", "Hello"});
  EXPECT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(nlohmann::json::parse(l.out).size(), 151936u);
}

}  // namespace
}  // namespace lumen
