// Qwen3's ChatML prompt, rendered without a Jinja engine.
//
//   Result<ChatTemplate> t = ChatTemplate::Load(dir);   // reads tokenizer_config.json
//   std::string prompt = t->Render({{"system", "Be brief."}, {"user", "Hi"}},
//                                  {.add_generation_prompt = true, .enable_thinking = false});
//   // "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
//   // "<|im_start|>assistant\n<think>\n\n</think>\n\n"
//
// Render produces byte-for-byte what Hugging Face's apply_chat_template produces from the file's
// `chat_template` (jinja2 with trim_blocks and lstrip_blocks) for conversations of system, user,
// assistant and tool messages without tool definitions: the same handling of reasoning
// (`<think>...</think>` kept only for assistant turns after the last user query), of consecutive
// tool results, and of the generation prompt. Tests compare against jinja2's output.
//
// Thread-safety: immutable after Load; Render may be called from many threads.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::llm {

struct ChatMessage {
  std::string role;     // "system", "user", "assistant" or "tool"
  std::string content;  // for assistant turns may hold "<think>...</think>answer"
  // An assistant turn's reasoning given separately (the template's `reasoning_content`); when
  // set it wins over a <think> block inside `content`.
  std::optional<std::string> reasoning_content;
};

struct ChatOptions {
  bool add_generation_prompt = true;  // end with "<|im_start|>assistant\n"
  // false appends "<think>\n\n</think>\n\n" after the generation prompt (Qwen3's switch for
  // answering without reasoning); true leaves the model free to think.
  bool enable_thinking = true;
};

class ChatTemplate {
 public:
  // Reads `path`: a folder holding tokenizer_config.json, or that file. Errors: NotFound/IoError
  // when unreadable; Corruption when not JSON or `chat_template` is missing or not a string;
  // Unimplemented when the template is not a ChatML template of the Qwen3 kind.
  static Result<ChatTemplate> Load(const std::string& path);
  static Result<ChatTemplate> FromConfigJson(std::string_view json,
                                             std::string_view origin = "tokenizer_config.json");

  // The prompt text for `messages`. InvalidArgument for an empty conversation or an unknown role
  // (the message names the index). The text contains special tokens literally ("<|im_start|>");
  // Tokenizer::Encode turns them into their ids.
  Result<std::string> Render(std::span<const ChatMessage> messages,
                             const ChatOptions& options = {}) const;

  // The end-of-turn token the model emits ("<|im_end|>" for Qwen3), from `eos_token`.
  const std::string& eos_token() const { return eos_token_; }

 private:
  std::string eos_token_;
};

}  // namespace lumen::llm
