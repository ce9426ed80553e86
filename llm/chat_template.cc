#include "llm/chat_template.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lumen::llm {

namespace {

using json = nlohmann::json;

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Python's str.lstrip('\n'), rstrip('\n'), strip('\n').
std::string_view LstripNewlines(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}
std::string_view RstripNewlines(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}
std::string_view StripNewlines(std::string_view s) {
  return LstripNewlines(RstripNewlines(s));
}

// Python's s.split(sep)[-1] and s.split(sep)[0].
std::string_view AfterLast(std::string_view s, std::string_view sep) {
  const size_t p = s.rfind(sep);
  return p == std::string_view::npos ? s : s.substr(p + sep.size());
}
std::string_view BeforeFirst(std::string_view s, std::string_view sep) {
  const size_t p = s.find(sep);
  return p == std::string_view::npos ? s : s.substr(0, p);
}

}  // namespace

Result<ChatTemplate> ChatTemplate::Load(const std::string& path) {
  std::string file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    file = (std::filesystem::path(path) / "tokenizer_config.json").string();
  }
  if (!std::filesystem::exists(file, ec)) return NotFound(file + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return IoError(file + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return FromConfigJson(ss.str(), file);
}

Result<ChatTemplate> ChatTemplate::FromConfigJson(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e9999
    return Corruption(where + ": not valid JSON (truncated?): " + e.what());
  }
  if (!root.is_object()) return Corruption(where + ": expected a JSON object");
  const auto tmpl = root.find("chat_template");
  if (tmpl == root.end() || tmpl->is_null()) {
    return Corruption(where + ": field \"chat_template\": missing");
  }
  if (!tmpl->is_string()) {
    return Corruption(where + ": field \"chat_template\": expected string, got " +
                      std::string(tmpl->type_name()));
  }
  const std::string& t = tmpl->get_ref<const std::string&>();
  // The Qwen3 template's distinguishing parts: ChatML turns, the thinking switch, reasoning kept
  // only after the last user query.
  for (const char* needle : {"<|im_start|>", "<|im_end|>", "enable_thinking", "reasoning_content",
                             "last_query_index", "<tool_response>"}) {
    if (t.find(needle) == std::string::npos) {
      return Unimplemented(where + ": field \"chat_template\": not a Qwen3 ChatML template (no \"" +
                           needle + "\"); Lumen renders only that one");
    }
  }
  ChatTemplate result;
  result.eos_token_ = "<|im_end|>";
  const auto eos = root.find("eos_token");
  if (eos != root.end()) {
    if (eos->is_string()) {
      result.eos_token_ = eos->get<std::string>();
    } else if (eos->is_object() && eos->contains("content") && (*eos)["content"].is_string()) {
      result.eos_token_ = (*eos)["content"].get<std::string>();
    } else if (!eos->is_null()) {
      return Corruption(where + ": field \"eos_token\": expected string or {\"content\": ...}");
    }
  }
  return result;
}

Result<std::string> ChatTemplate::Render(std::span<const ChatMessage> messages,
                                         const ChatOptions& options) const {
  if (messages.empty()) return InvalidArgument("chat template: no messages");
  const size_t n = messages.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
      return InvalidArgument("chat template: message " + std::to_string(i) + " has role \"" + r +
                             "\" (expected system, user, assistant or tool)");
    }
  }
  std::string out;
  if (messages[0].role == "system") {
    out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
  }
  // The last user turn that is a real query, not a wrapped tool result.
  size_t last_query = n - 1;
  for (size_t k = n; k-- > 0;) {
    const ChatMessage& m = messages[k];
    if (m.role == "user" &&
        !(StartsWith(m.content, "<tool_response>") && EndsWith(m.content, "</tool_response>"))) {
      last_query = k;
      break;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    } else if (m.role == "assistant") {
      std::string_view content = m.content;
      std::string_view reasoning;
      if (m.reasoning_content.has_value()) {
        reasoning = *m.reasoning_content;
      } else if (m.content.find("</think>") != std::string::npos) {
        content = LstripNewlines(AfterLast(m.content, "</think>"));
        reasoning = LstripNewlines(
            AfterLast(RstripNewlines(BeforeFirst(m.content, "</think>")), "<think>"));
      }
      out += "<|im_start|>assistant\n";
      if (i > last_query && (i == n - 1 || !reasoning.empty())) {
        out += "<think>\n";
        out += StripNewlines(reasoning);
        out += "\n</think>\n\n";
        out += LstripNewlines(content);
      } else {
        out += content;
      }
      out += "<|im_end|>\n";
    } else if (m.role == "tool") {
      if (i == 0 || messages[i - 1].role != "tool") out += "<|im_start|>user";
      out += "\n<tool_response>\n" + m.content + "\n</tool_response>";
      if (i == n - 1 || messages[i + 1].role != "tool") out += "<|im_end|>\n";
    }
  }
  if (options.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (!options.enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

}  // namespace lumen::llm
