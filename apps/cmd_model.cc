// lumen model: tokenizer and model-engine tools.
#include "apps/commands.h"
#include "apps/model.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  std::vector<Subcommand> subs = ModelTokenizerSubcommands();
  for (Subcommand& s : ModelEngineSubcommands()) subs.push_back(std::move(s));
  return RunSubcommand(ctx, subs);
}

}  // namespace

Command ModelCommand() {
  return {.name = "model",
          .summary = "Model tools: info, tokenize, generate, logits, quantize, make-tiny",
          .run = Run,
          .has_subcommands = true};
}

}  // namespace lumen::cli
