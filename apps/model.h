// `lumen model` subcommands: tokenizer tools (model_tokenizer.cc) and engine tools
// (model_engine.cc).
#pragma once

#include <vector>

#include "apps/cli.h"

namespace lumen::cli {

std::vector<Subcommand> ModelTokenizerSubcommands();  // tokenize
std::vector<Subcommand> ModelEngineSubcommands();     // info, quantize, make-tiny, generate, logits

}  // namespace lumen::cli
