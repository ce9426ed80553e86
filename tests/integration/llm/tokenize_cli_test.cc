// `lumen model tokenize` with the real Qwen3 tokenizer from the asset cache, driven through a
// shell pipeline as a user would.
#include <gtest/gtest.h>

#include <string>

#include "llm/tokenizer.h"
#include "tests/support/subprocess.h"

namespace lumen {
namespace {

using test_support::Subprocess;

const std::string kLumen = LUMEN_BINARY_DIR "/lumen";

struct Outcome {
  int status;
  std::string out, err;
};

// Runs `script` under /bin/sh with $LUMEN (the binary) and $DIR (the tokenizer folder) set.
Outcome Shell(const std::string& script) {
  Result<std::string> dir = llm::CachedQwen3TokenizerDir();
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  Subprocess p({"/bin/sh", "-c", script}, {"LUMEN=" + kLumen, "DIR=" + dir.value_or("")});
  const int status = p.Wait();
  return {status, p.out(), p.err()};
}

TEST(TokenizeCliTest, PrintsIdsForAllOfStdinOrPerLine) {
  Outcome whole = Shell(R"(printf 'Hello world\n你好\n' | "$LUMEN" model tokenize "$DIR")");
  EXPECT_EQ(whole.status, 0) << whole.err;
  EXPECT_EQ(whole.out, "9707 1879 198 108386 198\n");
  Outcome lines =
      Shell(R"(printf 'Hello world\n\n<|im_start|>你好' | "$LUMEN" model tokenize "$DIR" --lines)");
  EXPECT_EQ(lines.status, 0) << lines.err;
  EXPECT_EQ(lines.out, "9707 1879\n\n151644 108386\n");
}

TEST(TokenizeCliTest, DecodeTurnsIdsBackIntoTheText) {
  Outcome round = Shell(R"(printf 'Hello world\n你好 👋\r\n\tx' | "$LUMEN" model tokenize "$DIR" |
                           "$LUMEN" model tokenize "$DIR" --decode)");
  EXPECT_EQ(round.status, 0) << round.err;
  EXPECT_EQ(round.out, "Hello world\n你好 👋\r\n\tx");
  Outcome lines =
      Shell(R"(printf '9707 1879\n108386\n' | "$LUMEN" model tokenize "$DIR" --decode --lines)");
  EXPECT_EQ(lines.status, 0) << lines.err;
  EXPECT_EQ(lines.out, "Hello world\n你好\n");
}

TEST(TokenizeCliTest, BadInputIsAnErrorWithAReason) {
  Outcome bad_id = Shell(R"(echo '9707 99999999' | "$LUMEN" model tokenize "$DIR" --decode)");
  EXPECT_EQ(bad_id.status, 1);
  EXPECT_NE(bad_id.err.find("token id 99999999 is outside the vocabulary"), std::string::npos)
      << bad_id.err;
  Outcome not_id = Shell(R"(echo 'hello' | "$LUMEN" model tokenize "$DIR" --decode)");
  EXPECT_EQ(not_id.status, 1);
  EXPECT_NE(not_id.err.find("not a token id: \"hello\""), std::string::npos) << not_id.err;
  Outcome no_dir = Shell(R"(echo x | "$LUMEN" model tokenize /nonexistent/tokenizer)");
  EXPECT_EQ(no_dir.status, 1);
  EXPECT_NE(no_dir.err.find("/nonexistent/tokenizer"), std::string::npos) << no_dir.err;
  Outcome usage = Shell(R"(echo x | "$LUMEN" model tokenize)");
  EXPECT_EQ(usage.status, 2);
}

}  // namespace
}  // namespace lumen
