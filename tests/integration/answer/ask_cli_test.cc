// `lumen ask "QUESTION"` run as a user runs it: a store written the way the crawler writes it
// (no vector index, so retrieval is BM25 + rerank), then cited answers from the real binary —
// extractive by default, and from a tiny random model through the local backend (that model
// needs the Qwen3 tokenizer from the asset cache: scripts/fetch-asset --all).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "llm/tiny_model.h"
#include "llm/tokenizer.h"
#include "retrieval/store.h"
#include "tests/support/subprocess.h"

namespace lumen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

test_support::RunResult Lumen(std::vector<std::string> argv) {
  argv.insert(argv.begin(), kLumen);
  return test_support::RunProcess(argv, {}, std::chrono::seconds(120));
}

class AskCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_ask_cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    data_ = (dir_ / "data").string();
    auto store = retrieval::Store::Open(data_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto put = [&](const std::string& url, const std::string& title, const std::string& text) {
      const retrieval::Passage p[] = {
          {.ordinal = 0, .heading_path = title, .begin = 0, .end = text.size(), .text = text}};
      ASSERT_TRUE((*store)->UpsertPage({.url = url, .title = title, .content_hash = url}, p).ok());
    };
    put("https://docs.example/csv", "csv — CSV File Reading and Writing",
        "The csv module implements classes to read and write tabular data in CSV format. "
        "Use csv.reader to read a CSV file: it returns a reader object which iterates over "
        "lines in the given file. Each row read from the CSV file is returned as a list of "
        "strings.");
    put("https://docs.example/json", "json — JSON encoder and decoder",
        "The json module exposes an API familiar to users of the marshal and pickle modules. "
        "Use json.load to read a JSON document from a file.");
    put("https://docs.example/snakes", "Pythons",
        "The python is a large constrictor snake found in Africa and Asia.");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string data_;
};

TEST_F(AskCliTest, PrintsAStreamedExtractiveAnswerWithSourcesAndCitationFigures) {
  const auto r = Lumen({"ask", "How do I read a CSV file?", "--data-dir", data_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("csv.reader"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Sources:\n[1] csv — CSV File Reading and Writing\n"
                       "    https://docs.example/csv"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("mode: extractive"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("citation recall 1.00, citation precision 1.00"), std::string::npos)
      << r.out;
}

TEST_F(AskCliTest, JsonCitesOnlyTheSourcesItListsAndEverySentenceIsSupported) {
  const auto r = Lumen({"ask", "How do I read a CSV file?", "--json", "--data-dir", data_});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["mode"], "extractive");
  EXPECT_EQ(j["fallback_reason"], "");
  ASSERT_GE(j["sources"].size(), 1u);
  EXPECT_EQ(j["sources"][0]["url"], "https://docs.example/csv");
  ASSERT_GE(j["sentences"].size(), 1u);
  for (const json& s : j["sentences"]) {
    EXPECT_TRUE(s["supported"].get<bool>()) << s.dump();
    for (const json& c : s["citations"]) {
      EXPECT_GE(c["n"].get<int>(), 1);
      EXPECT_LE(c["n"].get<std::size_t>(), j["sources"].size());
    }
  }
  EXPECT_DOUBLE_EQ(j["citation_recall"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["citation_precision"].get<double>(), 1.0);
  EXPECT_EQ(j["invalid_citations"], 0);
}

TEST_F(AskCliTest, AQuestionNothingAnswersSaysSo) {
  const auto r = Lumen({"ask", "zebra migration routes", "--data-dir", data_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("The sources found do not answer this question."), std::string::npos)
      << r.out;
}

TEST_F(AskCliTest, LocalModelAnswersWithValidCitationsAndBadModelSettingsAreClearErrors) {
  Result<std::string> tokenizer = llm::CachedQwen3TokenizerDir();
  ASSERT_TRUE(tokenizer.ok()) << "the Qwen3 tokenizer asset is required: "
                              << tokenizer.status().message();
  const std::string model = (dir_ / "model").string();
  llm::TinyModelSpec spec;
  spec.hidden = 32;
  spec.layers = 1;
  spec.heads = 2;
  spec.kv_heads = 1;
  spec.head_dim = 16;
  spec.intermediate = 32;
  spec.moe_intermediate = 16;
  spec.experts = 4;
  spec.tokenizer_dir = *tokenizer;
  ASSERT_TRUE(llm::WriteTinyModel(model, spec).ok());
  const std::vector<std::string> local = {
      "--set", "answer.backend=local", "--set", "engine.model_dir=" + model,
      "--set", "answer.max_tokens=24", "--set", "engine.threads=2"};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), local.begin(), local.end());
    return a;
  };
  const auto j_run =
      Lumen(args({"ask", "How do I read a CSV file?", "--json", "--data-dir", data_}));
  ASSERT_EQ(j_run.code, 0) << j_run.err;
  const json j = json::parse(j_run.out);
  EXPECT_EQ(j["mode"], "generative") << j.dump(2);
  EXPECT_EQ(j["backend"].get<std::string>().rfind("local " + model, 0), 0u) << j["backend"];
  EXPECT_EQ(j["invalid_citations"], 0);
  EXPECT_GT(j["time_to_first_token_ms"].get<double>(), 0);

  const auto text = Lumen(args({"ask", "How do I read a CSV file?", "--data-dir", data_}));
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("mode: generative, backend local "), std::string::npos) << text.out;

  // Bad settings: no model folder is a configuration error; a folder without a model fails.
  const auto no_dir = Lumen({"ask", "csv", "--data-dir", data_, "--set", "answer.backend=local"});
  EXPECT_EQ(no_dir.code, 2);
  EXPECT_NE(no_dir.err.find("engine.model_dir"), std::string::npos) << no_dir.err;
  const auto empty = Lumen({"ask", "csv", "--data-dir", data_, "--set", "answer.backend=local",
                            "--set", "engine.model_dir=" + (dir_ / "nothing").string()});
  EXPECT_EQ(empty.code, 1);
  EXPECT_NE(empty.err.find("cannot load the model"), std::string::npos) << empty.err;
  const auto unknown = Lumen({"ask", "csv", "--data-dir", data_, "--set", "answer.backend=magic"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("\"none\", \"local\" or \"remote\""), std::string::npos)
      << unknown.err;
}

}  // namespace
}  // namespace lumen
