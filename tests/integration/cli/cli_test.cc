// The `lumen` command line as a user meets it: help, exit codes, and configuration errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/subprocess.h"

namespace lumen {
namespace {

namespace fs = std::filesystem;
using test_support::RunProcess;

const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_cli_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // Config errors must be a single line on stderr.
  static int Lines(const std::string& s) {
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  }
  fs::path dir_;
};

TEST_F(CliTest, HelpListsEverySubcommandAndExitsZero) {
  auto r = RunProcess({kLumen, "--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* cmd : {"serve", "demo", "crawl", "ask", "index", "extract", "ads", "model",
                          "eval", "bench", "version"}) {
    EXPECT_NE(r.out.find("\n  " + std::string(cmd) + " "), std::string::npos) << cmd;
  }
}

TEST_F(CliTest, NoArgumentsIsAUsageError) {
  auto r = RunProcess({kLumen});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("Usage: lumen <command>"), std::string::npos);
}

TEST_F(CliTest, EverySubcommandHasHelp) {
  for (const char* cmd : {"serve", "demo", "crawl", "ask", "index", "extract", "ads", "model",
                          "eval", "bench", "version"}) {
    auto r = RunProcess({kLumen, cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage: lumen " + std::string(cmd)), std::string::npos) << cmd;
    EXPECT_NE(r.out.find("--config FILE"), std::string::npos) << cmd;
  }
}

TEST_F(CliTest, UnknownCommandAndUnknownFlagAreUsageErrors) {
  auto a = RunProcess({kLumen, "frobnicate"});
  EXPECT_EQ(a.code, 2);
  EXPECT_NE(a.err.find("unknown command 'frobnicate'"), std::string::npos);
  auto b = RunProcess({kLumen, "serve", "--no-such-flag"});
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find("unknown flag --no-such-flag"), std::string::npos);
  auto c = RunProcess({kLumen, "serve", "--port"});
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find("--port needs a value"), std::string::npos);
}

TEST_F(CliTest, VersionPrintsTheVersion) {
  auto r = RunProcess({kLumen, "version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("lumen " LUMEN_VERSION "\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("cuda backend:"), std::string::npos);
}

TEST_F(CliTest, CommandsNotBuiltYetSaySoWithExitTwo) {
  auto r = RunProcess({kLumen, "bench"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not available yet"), std::string::npos);
}

TEST_F(CliTest, InvalidJsonConfigIsOneLineNamingTheFileWithExitTwo) {
  const std::string path = Write("bad.json", "{ \"server\": { \"port\": 8080, } ");
  auto r = RunProcess({kLumen, "serve", "--config", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(path + ": invalid JSON at line 1"), std::string::npos) << r.err;
}

TEST_F(CliTest, UnknownConfigKeyIsOneLineNamingFileAndKeyWithExitTwo) {
  const std::string path = Write("unknown.json", R"({"server": {"listen": "0.0.0.0"}})");
  auto r = RunProcess({kLumen, "serve", "--config", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(path + ": unknown key \"server.listen\""), std::string::npos) << r.err;
}

TEST_F(CliTest, WrongTypeConfigIsOneLineNamingFileKeyAndTypeWithExitTwo) {
  const std::string path = Write("type.json", R"({"server": {"port": "8080"}})");
  auto r = RunProcess({kLumen, "--config", path, "serve"});  // global flag before the command
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(path + ": key \"server.port\": expected integer, got string \"8080\""),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, UnreadableConfigIsOneLineNamingTheFileWithExitTwo) {
  const std::string path = (dir_ / "absent.json").string();
  auto r = RunProcess({kLumen, "serve", "--config", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(path + ": cannot read configuration file"), std::string::npos) << r.err;
}

TEST_F(CliTest, OutOfRangeValueNamesWhereItCameFrom) {
  auto r = RunProcess({kLumen, "serve"}, {"LUMEN_SERVER__PORT=70000"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("environment variable LUMEN_SERVER__PORT: key \"server.port\": must be "
                       "0..65535"),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, BadLogLevelIsAConfigurationError) {
  auto r = RunProcess({kLumen, "serve", "--log-level", "loud"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("key \"log.level\": unknown log level \"loud\""), std::string::npos)
      << r.err;
}

TEST_F(CliTest, PrintConfigShowsLayeredValues) {
  const std::string path = Write("ok.json", R"({"server": {"port": 1234}})");
  auto r =
      RunProcess({kLumen, "serve", "--config", path, "--print-config", "--set", "server.host=::1"},
                 {"LUMEN_DATA_DIR=/tmp/lumen-print-config"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"port\": 1234"), std::string::npos);
  EXPECT_NE(r.out.find("\"host\": \"::1\""), std::string::npos);
  EXPECT_NE(r.out.find("\"data_dir\": \"/tmp/lumen-print-config\""), std::string::npos);
}

}  // namespace
}  // namespace lumen
