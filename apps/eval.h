// `lumen eval` subcommands, one file each: eval_extraction.cc, eval_retrieval.cc,
// eval_answers.cc.
#pragma once

#include "apps/cli.h"

namespace lumen::cli {

Subcommand EvalExtractionSubcommand();
Subcommand EvalRetrievalSubcommand();
Subcommand EvalAnswersSubcommand();

}  // namespace lumen::cli
