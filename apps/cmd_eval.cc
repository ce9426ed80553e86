// lumen eval: quality figures on benchmark data (extraction, retrieval, answers).
#include "apps/commands.h"
#include "apps/eval.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  return RunSubcommand(
      ctx, {EvalExtractionSubcommand(), EvalRetrievalSubcommand(), EvalAnswersSubcommand()});
}

}  // namespace

Command EvalCommand() {
  return {.name = "eval",
          .summary = "Evaluate extraction, retrieval and answers on benchmark data",
          .run = Run,
          .has_subcommands = true};
}

}  // namespace lumen::cli
