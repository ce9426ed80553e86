// Lumen's ChatML renderer against Qwen3's own Jinja template: the expected strings in
// tests/fixtures/tokenizer/chat_qwen3.json were rendered by jinja2 from the real
// tokenizer_config.json (scripts/gen-tokenizer-reference-chat).
#include "llm/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "llm/tokenizer.h"

namespace lumen::llm {
namespace {

using json = nlohmann::json;

Result<ChatTemplate> RealTemplate() {
  LUMEN_ASSIGN_OR_RETURN(std::string dir, CachedQwen3TokenizerDir());
  return ChatTemplate::Load(dir);
}

TEST(ChatTemplateTest, RendersExactlyWhatQwen3sJinjaTemplateRenders) {
  Result<ChatTemplate> t = RealTemplate();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->eos_token(), "<|im_end|>");
  std::ifstream in(std::string(LUMEN_SOURCE_DIR) + "/tests/fixtures/tokenizer/chat_qwen3.json");
  ASSERT_TRUE(in) << "missing tests/fixtures/tokenizer/chat_qwen3.json";
  const json cases = json::parse(in);
  ASSERT_GE(cases.size(), 60u);
  for (const json& c : cases) {
    std::vector<ChatMessage> messages;
    for (const json& m : c["messages"]) {
      ChatMessage msg{.role = m["role"], .content = m["content"]};
      if (m.contains("reasoning_content")) msg.reasoning_content = m["reasoning_content"];
      messages.push_back(std::move(msg));
    }
    ChatOptions options{.add_generation_prompt = c["add_generation_prompt"]};
    if (c.contains("enable_thinking")) options.enable_thinking = c["enable_thinking"];
    Result<std::string> got = t->Render(messages, options);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c["expected"].get<std::string>())
        << c["name"] << " add_generation_prompt=" << c["add_generation_prompt"]
        << " enable_thinking=" << c.value("enable_thinking", json()).dump();
  }
}

TEST(ChatTemplateTest, ThinkingDisabledAppendsAnEmptyThinkBlock) {
  Result<ChatTemplate> t = RealTemplate();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const std::vector<ChatMessage> messages = {{.role = "system", .content = "S"},
                                             {.role = "user", .content = "Q"}};
  Result<std::string> off = t->Render(messages, {.enable_thinking = false});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off,
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n");
  Result<std::string> on = t->Render(messages, {.enable_thinking = true});
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(*on,
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, RenderedPromptTokenizesWithSpecialTokenIds) {
  Result<ChatTemplate> t = RealTemplate();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Result<std::string> dir = CachedQwen3TokenizerDir();
  ASSERT_TRUE(dir.ok());
  Result<Tokenizer> tok = Tokenizer::Load(*dir);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::vector<ChatMessage> messages = {{.role = "user", .content = "Hi"}};
  Result<std::string> prompt = t->Render(messages, {.enable_thinking = false});
  ASSERT_TRUE(prompt.ok());
  const std::vector<int32_t> ids = tok->Encode(*prompt);
  // <|im_start|> user \n Hi <|im_end|> \n <|im_start|> assistant \n <think> \n\n </think> \n\n
  const std::vector<int32_t> want = {151644, 872, 198,    13048, 151645, 198, 151644,
                                     77091,  198, 151667, 271,   151668, 271};
  EXPECT_EQ(ids, want);
}

TEST(ChatTemplateTest, BadInputIsAnError) {
  Result<ChatTemplate> t = RealTemplate();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->Render({}).status().code(), StatusCode::kInvalidArgument);
  const std::vector<ChatMessage> bad = {{.role = "user", .content = "a"},
                                        {.role = "robot", .content = "b"}};
  Result<std::string> r = t->Render(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("message 1 has role \"robot\""), std::string::npos);

  EXPECT_EQ(ChatTemplate::FromConfigJson("{\"eos_token\": \"x\"}").status().message(),
            "tokenizer_config.json: field \"chat_template\": missing");
  EXPECT_EQ(ChatTemplate::FromConfigJson("{\"chat_template\": 3}").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ChatTemplate::FromConfigJson("{\"chat_template\": \"{{ messages }}\"}").status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(ChatTemplate::FromConfigJson("{\"chat_templ").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace lumen::llm
