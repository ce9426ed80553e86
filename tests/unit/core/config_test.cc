#include "core/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lumen {
namespace {

namespace fs = std::filesystem;

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("lumen_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
};

TEST(ConfigTest, DefaultsComeFromTheEmbeddedFile) {
  Config c = Config::Defaults();
  EXPECT_EQ(c.GetString("server.host"), "127.0.0.1");
  EXPECT_EQ(c.GetInt("server.port"), 8080);
  EXPECT_EQ(c.GetString("log.level"), "info");
  EXPECT_EQ(c.Origin("server.port"), "defaults");
}

TEST(ConfigTest, TheShippedConfigurationLoadsAsAUserFile) {
  Result<Config> c = Config::Load({.file = LUMEN_SOURCE_DIR "/configs/lumen.json"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetInt("server.port"), 8080);
}

TEST_F(ConfigFileTest, FileOverridesDefaultsAndAllowsComments) {
  const std::string path = Write("ok.json", R"({
    // a comment
    "server": { "port": 9191 /* inline */ },
    "log": { "level": "debug" }
  })");
  Result<Config> c = Config::Load({.file = path});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetInt("server.port"), 9191);
  EXPECT_EQ(c->GetString("server.host"), "127.0.0.1");  // untouched default
  EXPECT_EQ(c->GetString("log.level"), "debug");
  EXPECT_EQ(c->Origin("server.port"), path);
}

TEST_F(ConfigFileTest, InvalidJsonNamesFileLineAndColumn) {
  const std::string path = Write("bad.json", "{\n  \"server\": { \"port\": 80,, }\n}");
  Result<Config> c = Config::Load({.file = path});
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_EQ(m.rfind(path + ": invalid JSON at line 2", 0), 0u) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
}

TEST_F(ConfigFileTest, NumberTooLargeIsAnErrorNotACrash) {
  const std::string path = Write("huge.json", R"({"server": {"port": 4e1111}})");
  Result<Config> c = Config::Load({.file = path});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind(path + ": invalid JSON", 0), 0u) << c.status().message();
}

TEST_F(ConfigFileTest, UnknownKeyIsAnErrorNamingFileAndDottedKey) {
  const std::string path = Write("unknown.json", R"({"server": {"prot": 80}})");
  Result<Config> c = Config::Load({.file = path});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), path + ": unknown key \"server.prot\"");
}

TEST_F(ConfigFileTest, UnknownTopLevelSectionIsAnError) {
  const std::string path = Write("unknown2.json", R"({"sever": {}})");
  Result<Config> c = Config::Load({.file = path});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path + ": unknown key \"sever\"");
}

TEST_F(ConfigFileTest, WrongTypeNamesKeyExpectedAndActual) {
  const std::string path = Write("type.json", R"({"server": {"port": "eighty"}})");
  Result<Config> c = Config::Load({.file = path});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            path + ": key \"server.port\": expected integer, got string \"eighty\"");
}

TEST_F(ConfigFileTest, FloatForIntegerAndObjectForScalarAreWrongTypes) {
  Result<Config> a = Config::Load({.file = Write("f.json", R"({"server": {"port": 80.5}})")});
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("expected integer, got number 80.5"), std::string::npos);
  Result<Config> b = Config::Load({.file = Write("o.json", R"({"log": "debug"})")});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("key \"log\": expected object, got string"),
            std::string::npos);
  Result<Config> d = Config::Load({.file = Write("a.json", R"([1, 2])")});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("the top level: expected object, got array"),
            std::string::npos);
}

TEST_F(ConfigFileTest, UnreadableFileIsAnErrorNamingIt) {
  const std::string missing = (dir_ / "missing.json").string();
  Result<Config> c = Config::Load({.file = missing});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            missing + ": cannot read configuration file: No such file or directory");
  Result<Config> d = Config::Load({.file = dir_.string()});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("it is a directory"), std::string::npos);
}

TEST_F(ConfigFileTest, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  const std::string path = Write("layers.json", R"({"server": {"port": 1000, "host": "::1"}})");
  ConfigSources s{.file = path,
                  .environment = {"LUMEN_SERVER__PORT=2000", "LUMEN_LOG__LEVEL=warn", "HOME=/x"},
                  .overrides = {{"server.port", "3000"}}};
  Result<Config> c = Config::Load(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetInt("server.port"), 3000);
  EXPECT_EQ(c->GetString("server.host"), "::1");
  EXPECT_EQ(c->GetString("log.level"), "warn");
  EXPECT_EQ(c->Origin("log.level"), "environment variable LUMEN_LOG__LEVEL");
  EXPECT_EQ(c->Origin("server.port"), "command line --set server.port=3000");
}

TEST(ConfigTest, TopLevelKeyFromEnvironmentWithoutDoubleUnderscore) {
  Result<Config> c = Config::Load({.environment = {"LUMEN_DATA_DIR=/srv/lumen", "LUMEN_CACHE=/c"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetString("data_dir"), "/srv/lumen");
}

TEST(ConfigTest, UnknownNestedEnvironmentVariableIsAnError) {
  Result<Config> c = Config::Load({.environment = {"LUMEN_SERVER__PROT=1"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "environment variable LUMEN_SERVER__PROT: unknown key \"server.prot\"");
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  Result<Config> c = Config::Load({.environment = {"LUMEN_SERVER__PORT=80x"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "environment variable LUMEN_SERVER__PORT: key \"server.port\": expected integer, got "
            "\"80x\"");
}

TEST(ConfigTest, FlagOverridesParseBooleansAndRejectUnknownKeys) {
  Result<Config> c = Config::Load({.overrides = {{"server.access_log", "yes"}}});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->GetBool("server.access_log"));
  Result<Config> bad = Config::Load({.overrides = {{"server.access_log", "maybe"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("expected boolean"), std::string::npos);
  Result<Config> unknown = Config::Load({.overrides = {{"nope.key", "1"}}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "command line --set nope.key=1: unknown key \"nope.key\"");
}

TEST(ConfigTest, ValueErrorNamesTheOriginOfTheValue) {
  Result<Config> c = Config::Load({.environment = {"LUMEN_SERVER__PORT=70000"}});
  ASSERT_TRUE(c.ok());
  Status s = c->ValueError("server.port", "must be between 0 and 65535");
  EXPECT_EQ(s.message(),
            "environment variable LUMEN_SERVER__PORT: key \"server.port\": must be between 0 and "
            "65535");
}

TEST(ConfigTest, AskingForAMissingKeyIsAProgrammingError) {
  Config c = Config::Defaults();
  EXPECT_THROW(c.GetInt("server.nope"), std::logic_error);
  EXPECT_THROW(c.GetInt("server.host"), std::logic_error);
}

TEST(ConfigTest, ExpandHomeReplacesLeadingTilde) {
  const char* home = std::getenv("HOME");
  if (home == nullptr) GTEST_SKIP() << "HOME is not set";
  EXPECT_EQ(Config::ExpandHome("~/x"), std::string(home) + "/x");
  EXPECT_EQ(Config::ExpandHome("/abs/~"), "/abs/~");
}

}  // namespace
}  // namespace lumen
