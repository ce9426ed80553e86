// The table of `lumen` commands. Each command is defined in its own apps/cmd_<name>.cc.
#pragma once

#include <vector>

#include "apps/cli.h"

namespace lumen::cli {

Command ServeCommand();
Command DemoCommand();
Command CrawlCommand();
Command AskCommand();
Command IndexCommand();
Command ExtractCommand();
Command AdsCommand();
Command ModelCommand();
Command EvalCommand();
Command BenchCommand();
Command VersionCommand();

// In the order `lumen --help` lists them.
inline std::vector<Command> AllCommands() {
  return {ServeCommand(), DemoCommand(),    CrawlCommand(),  AskCommand(),
          IndexCommand(), ExtractCommand(), AdsCommand(),    ModelCommand(),
          EvalCommand(),  BenchCommand(),   VersionCommand()};
}

}  // namespace lumen::cli
