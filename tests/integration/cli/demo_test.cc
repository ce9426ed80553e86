// `lumen demo` as a process over a small documentation site (tests/fixtures/demo_site): it serves
// the site on a loopback port, crawls it through the fetcher honouring robots.txt, indexes it,
// seeds the fictional advertisers and answers with cited pages and a labelled sponsored slot;
// a second run reuses the data; the corpus server stays up so the sources' links work.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/support/subprocess.h"

namespace lumen {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
const std::string kLumen = LUMEN_BINARY_DIR "/lumen";
const std::string kSite = LUMEN_SOURCE_DIR "/tests/fixtures/demo_site";

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = fs::temp_directory_path() / ("lumen_demo_test_" + std::to_string(getpid()));
    fs::remove_all(data_dir_);
  }
  void TearDown() override {
    proc_.reset();
    fs::remove_all(data_dir_);
  }
  // Starts `lumen demo` and returns the search server's port once it listens.
  int Start() {
    proc_ = std::make_unique<test_support::Subprocess>(
        std::vector<std::string>{kLumen, "demo", "--data-dir", data_dir_.string(), "--port", "0",
                                 "--corpus-port", "0", "--corpus", kSite});
    if (!proc_->WaitForStdout("Lumen demo ready", 120s)) {
      ADD_FAILURE() << "demo did not start; stdout: " << proc_->out()
                    << "\nstderr: " << proc_->err();
      return -1;
    }
    std::smatch m;
    const std::string out = proc_->out();
    if (!std::regex_search(out, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+)/)"))) {
      ADD_FAILURE() << "unexpected stdout: " << out;
      return -1;
    }
    return std::stoi(m[1]);
  }
  nlohmann::json Search(int port, const std::string& q) {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/api/v1/search", httplib::Params{{"q", q}}, httplib::Headers{});
    if (!res || res->status != 200) {
      ADD_FAILURE() << "search failed: " << (res ? res->body : "no response");
      return {};
    }
    return nlohmann::json::parse(res->body);
  }
  fs::path data_dir_;
  std::unique_ptr<test_support::Subprocess> proc_;
};

TEST_F(DemoTest, BuildsOnceAnswersWithCitedPagesAndASponsoredSlotThenReuses) {
  const int port = Start();
  ASSERT_GT(port, 0);
  // Progress was shown for every step, and the crawl went through robots.txt.
  for (const char* step : {"[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"}) {
    EXPECT_NE(proc_->err().find(step), std::string::npos) << step << "\n" << proc_->err();
  }
  EXPECT_NE(proc_->out().find("robots_disallowed"), std::string::npos) << proc_->out();

  nlohmann::json r = Search(port, "how do I read a CSV file?");
  ASSERT_TRUE(r.is_object());
  ASSERT_FALSE(r["sources"].empty()) << r.dump(2);
  const std::string first_url = r["sources"][0]["url"];
  EXPECT_NE(first_url.find("/library/csv.html"), std::string::npos) << r.dump(2);
  EXPECT_EQ(r["answer"]["mode"], "extractive");
  EXPECT_NE(r["answer"]["text"].get<std::string>().find("[1]"), std::string::npos) << r.dump(2);
  EXPECT_EQ(r["sources"][0]["heading"].get<std::string>().find("\u00b6"), std::string::npos)
      << "Sphinx permalink symbols are not page text: " << r["sources"][0]["heading"];
  // The seeded fictional advertiser targets "csv": a labelled slot, apart from the sources.
  ASSERT_EQ(r["sponsored"].size(), 1u) << r.dump(2);
  EXPECT_EQ(r["sponsored"][0]["label"], "Sponsored");
  EXPECT_NE(r["sponsored"][0]["title"].get<std::string>().find("Imaginary Data Tools"),
            std::string::npos);
  for (const auto& s : r["sources"]) {
    EXPECT_EQ(s["url"].get<std::string>().find("example.org"), std::string::npos);
  }

  // The sources' links open the documentation page on the corpus server.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first_url, m, std::regex(R"(^http://127\.0\.0\.1:(\d+)(/.*)$)")));
  httplib::Client corpus("127.0.0.1", std::stoi(m[1]));
  auto page = corpus.Get(m[2].str());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Comma Separated Values"), std::string::npos);
  // Climbing out of the corpus folder is refused.
  auto escape = corpus.Get("/../../../../etc/passwd");
  ASSERT_TRUE(escape);
  EXPECT_NE(escape->status, 200);

  // robots.txt kept the crawler out of _sources: its unique words find nothing from there.
  nlohmann::json hidden = Search(port, "zebrafish quartermaster");
  for (const auto& s : hidden["sources"]) {
    EXPECT_EQ(s["url"].get<std::string>().find("_sources"), std::string::npos) << hidden.dump(2);
  }

  proc_->Signal(SIGTERM);
  EXPECT_EQ(proc_->Wait(20s), 0) << proc_->err();
  EXPECT_TRUE(fs::exists(data_dir_ / "demo" / "demo.json"));

  // `lumen eval answers` over the demo's data: the csv question's answering page ranks first;
  // a malformed evaluation file is a usage error naming the line.
  const fs::path questions = data_dir_ / "questions.jsonl";
  std::ofstream(questions) << R"({"q": "how do I read a CSV file?", "pages": ["library/csv.html"]})"
                           << "\n"
                           << R"({"q": "decode a JSON string", "pages": ["library/json.html"]})"
                           << "\n";
  test_support::RunResult eval = test_support::RunProcess(
      {kLumen, "eval", "answers", "--questions", questions.string(), "--data-dir",
       (data_dir_ / "demo").string(), "--json", "--log-level", "error"});
  ASSERT_EQ(eval.code, 0) << eval.err;
  const nlohmann::json figures = nlohmann::json::parse(eval.out);
  EXPECT_EQ(figures["questions"], 2);
  EXPECT_DOUBLE_EQ(figures["source_recall_at_1"].get<double>(), 1.0) << eval.out;
  EXPECT_EQ(figures["per_question"][0]["source_rank"], 1);
  std::ofstream(questions) << R"({"q": "no pages"})"
                           << "\n";
  test_support::RunResult bad =
      test_support::RunProcess({kLumen, "eval", "answers", "--questions", questions.string(),
                                "--data-dir", (data_dir_ / "demo").string()});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("questions.jsonl:1"), std::string::npos) << bad.err;

  // Second run: the data is reused, nothing is crawled again, and it answers the same.
  const int port2 = Start();
  ASSERT_GT(port2, 0);
  EXPECT_NE(proc_->err().find("reusing the demo data"), std::string::npos) << proc_->err();
  EXPECT_EQ(proc_->out().find("crawl finished"), std::string::npos) << proc_->out();
  nlohmann::json again = Search(port2, "how do I read a CSV file?");
  ASSERT_FALSE(again["sources"].empty());
  EXPECT_EQ(again["sources"][0]["url"], first_url);
  proc_->Signal(SIGINT);
  EXPECT_EQ(proc_->Wait(20s), 0) << proc_->err();
}

TEST_F(DemoTest, MissingCorpusIsAClearError) {
  test_support::RunResult r =
      test_support::RunProcess({kLumen, "demo", "--data-dir", data_dir_.string(), "--corpus",
                                (data_dir_ / "no-such-folder").string(), "--port", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("python3-doc"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lumen
