// End-to-end: the search page in headless Chromium (Debian's), driven by playwright-core from the
// asset cache, against a real `lumen serve` on loopback. Screenshots are kept under
// <build>/e2e-artifacts/.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "tests/support/subprocess.h"

namespace lumen {
namespace {

using namespace std::chrono_literals;
using test_support::RunProcess;
using test_support::Subprocess;

// The unpacked playwright-core package, as scripts/fetch-asset reports it.
std::string PlaywrightDir() {
  auto r =
      RunProcess({LUMEN_SOURCE_DIR "/scripts/fetch-asset", "--path", "playwright-core@1.64.1"});
  std::string dir = r.out.substr(0, r.out.find('\n'));
  return std::filesystem::exists(dir + "/package.json") ? dir : "";
}

TEST(SearchPageE2ETest, AskingInTheBrowserShowsTheQuestionSafelyOnDesktopAndPhone) {
  const std::string playwright = PlaywrightDir();
  ASSERT_FALSE(playwright.empty())
      << "playwright-core is not in the asset cache: run scripts/fetch-asset --all";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium"))
      << "Debian's chromium is not installed: run scripts/setup";

  const std::filesystem::path data_dir =
      std::filesystem::temp_directory_path() / ("lumen_e2e_" + std::to_string(getpid()));
  std::filesystem::create_directories(data_dir);
  Subprocess server(
      {LUMEN_BINARY_DIR "/lumen", "serve", "--port", "0", "--data-dir", data_dir.string()});
  ASSERT_TRUE(server.WaitForStdout("/\n", 20s)) << server.err();
  std::smatch m;
  const std::string out = server.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((http://127\.0\.0\.1:\d+/))")));

  auto r = RunProcess(
      {"/usr/bin/env", "node", LUMEN_SOURCE_DIR "/tests/e2e/web/search_page.e2e.js", m[1].str()},
      {"LUMEN_PLAYWRIGHT=" + playwright, "LUMEN_ARTIFACTS=" LUMEN_BINARY_DIR "/e2e-artifacts"},
      120s);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("e2e search page: ok"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(LUMEN_BINARY_DIR "/e2e-artifacts/search-phone-dark.png"));
  std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace lumen
