// End-to-end: the sponsored slot's visibility billing and the advertiser dashboard in headless
// Chromium (Debian's, driven by playwright-core from the asset cache) against a real
// `lumen serve` on a fixture data dir (tests/integration/web/web_fixture.h). Screenshots are kept
// under <build>/e2e-artifacts/.
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

std::string PlaywrightDir() {
  auto r =
      RunProcess({LUMEN_SOURCE_DIR "/scripts/fetch-asset", "--path", "playwright-core@1.64.1"});
  std::string dir = r.out.substr(0, r.out.find('\n'));
  return std::filesystem::exists(dir + "/package.json") ? dir : "";
}

TEST(AdsE2ETest, SlotIsBilledWhenSeenAndTheDashboardShowsTheLedgersNumbers) {
  const std::string playwright = PlaywrightDir();
  ASSERT_FALSE(playwright.empty())
      << "playwright-core is not in the asset cache: run scripts/fetch-asset --all";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium"))
      << "Debian's chromium is not installed: run scripts/setup";

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("lumen_ads_e2e_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  test_support::WebFixture fixture;
  ASSERT_EQ(test_support::SeedWebDataDir(dir, /*with_ads=*/true, &fixture), "");
  Subprocess server(
      {LUMEN_BINARY_DIR "/lumen", "serve", "--port", "0", "--data-dir", dir.string()});
  ASSERT_TRUE(server.WaitForStdout("/\n", 30s)) << server.err();
  std::smatch m;
  const std::string out = server.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((http://127\.0\.0\.1:\d+/))")));

  auto r = RunProcess(
      {"/usr/bin/env", "node", LUMEN_SOURCE_DIR "/tests/e2e/web/ads.e2e.js", m[1].str(),
       fixture.account_email, fixture.account_password, std::to_string(fixture.campaign_id)},
      {"LUMEN_PLAYWRIGHT=" + playwright, "LUMEN_ARTIFACTS=" LUMEN_BINARY_DIR "/e2e-artifacts",
       "LUMEN_BIN=" LUMEN_BINARY_DIR "/lumen", "LUMEN_DATA_DIR=" + dir.string()},
      180s);
  EXPECT_EQ(r.code, 0) << r.out << r.err << "\nserver: " << server.err();
  EXPECT_NE(r.out.find("e2e ads: ok"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(LUMEN_BINARY_DIR "/e2e-artifacts/dashboard-campaign.png"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lumen
