// `lumen eval` subcommands, one file each: eval_extraction.cc, eval_retrieval.cc.
#pragma once

#include "apps/cli.h"

namespace lumen::cli {

Subcommand EvalExtractionSubcommand();
Subcommand EvalRetrievalSubcommand();

}  // namespace lumen::cli
