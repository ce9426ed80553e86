// The real `openai` npm package as the client of a real `lumen serve` on loopback (see
// openai_client.js): models list, non-streaming and streaming chat completions, and Perplexity's
// `citations` / `search_results` fields arriving through the client unchanged.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "tests/integration/web/web_fixture.h"
#include "tests/support/subprocess.h"

namespace lumen {
namespace {

using namespace std::chrono_literals;
using test_support::RunProcess;
using test_support::Subprocess;

constexpr const char* kOpenAi = "openai@6.30.1";  // pinned in scripts/assets.lock

std::string AssetDir(const std::string& spec) {
  auto r = RunProcess({LUMEN_SOURCE_DIR "/scripts/fetch-asset", "--path", spec});
  std::string dir = r.out.substr(0, r.out.find('\n'));
  return std::filesystem::exists(dir + "/package.json") ? dir : "";
}

TEST(OpenAiClientTest, TheOfficialClientTalksToLumenUnchanged) {
  const std::string openai = AssetDir(kOpenAi);
  ASSERT_FALSE(openai.empty()) << kOpenAi
                               << " is not in the asset cache: run scripts/fetch-asset --all";
  ASSERT_EQ(RunProcess({"/usr/bin/env", "node", "--version"}).code, 0) << "node is missing";

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("lumen_openai_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  ASSERT_EQ(test_support::SeedWebDataDir(dir, /*with_ads=*/true), "");
  Subprocess server(
      {LUMEN_BINARY_DIR "/lumen", "serve", "--port", "0", "--data-dir", dir.string()});
  ASSERT_TRUE(server.WaitForStdout("/\n", 30s)) << server.err();
  std::smatch m;
  const std::string out = server.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((http://127\.0\.0\.1:\d+/))")));

  auto r = RunProcess({"/usr/bin/env", "node",
                       LUMEN_SOURCE_DIR "/tests/integration/web/openai_client.js", m[1].str()},
                      {"LUMEN_OPENAI=" + openai}, 120s);
  EXPECT_EQ(r.code, 0) << r.out << r.err << "\nserver: " << server.err();
  EXPECT_NE(r.out.find("openai client: ok"), std::string::npos) << r.out << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lumen
