// lumen model tokenize: text on stdin to token ids on stdout, or back with --decode.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "apps/model.h"
#include "llm/tokenizer.h"

namespace lumen::cli {
namespace {

std::string ReadStdin() {
  std::ios::sync_with_stdio(false);
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// Input split at '\n' (the newline not included); a final newline does not start another line.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string JoinIds(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(ids[i]);
  }
  return out;
}

// Whitespace-separated decimal ids; an error names the first bad one.
Result<std::vector<int32_t>> ParseIds(std::string_view text, const llm::Tokenizer& tok) {
  std::vector<int32_t> ids;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size()) return InvalidArgument("not a token id: \"" + word + "\"");
    if (v < 0 || v >= tok.vocab_size()) {
      return InvalidArgument("token id " + word + " is outside the vocabulary (0.." +
                             std::to_string(tok.vocab_size() - 1) + ")");
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

int Tokenize(CommandContext& ctx) {
  const std::vector<std::string>& args = ctx.flags.positionals();
  if (args.size() != 1) {
    return Fail(kExitUsage,
                "model tokenize: expected one TOKENIZER_DIR (a folder with "
                "tokenizer.json, or the file)");
  }
  Result<llm::Tokenizer> tok = llm::Tokenizer::Load(args[0]);
  if (!tok.ok()) return Fail(kExitFailure, tok.status().ToString());
  const bool lines = ctx.flags.Has("lines");
  const std::string input = ReadStdin();
  std::string out;
  if (ctx.flags.Has("decode")) {
    const std::vector<std::string_view> chunks =
        lines ? Lines(input) : std::vector<std::string_view>{input};
    for (const std::string_view chunk : chunks) {
      Result<std::vector<int32_t>> ids = ParseIds(chunk, *tok);
      if (!ids.ok()) return Fail(kExitFailure, ids.status().message());
      out += tok->Decode(*ids);
      if (lines) out += '\n';
    }
  } else if (lines) {
    for (const std::string_view line : Lines(input)) out += JoinIds(tok->Encode(line)) + "\n";
  } else {
    out = JoinIds(tok->Encode(input)) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

std::vector<Subcommand> ModelTokenizerSubcommands() {
  return {{.name = "tokenize",
           .summary = "Text on stdin to token ids (or ids back to text with --decode)",
           .arguments = "TOKENIZER_DIR",
           .flags = {{.name = "lines", .help = "one output line per input line"},
                     {.name = "decode", .help = "read ids (space-separated) and print the text"}},
           .run = Tokenize}};
}

}  // namespace lumen::cli
