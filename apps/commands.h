// The table of `lumen` commands. Each command is defined in its own apps/cmd_<name>.cc.
#pragma once

#include <string_view>
#include <vector>

#include "apps/cli.h"
#include "core/config.h"

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

// Runs the HTTP server with everything `lumen serve` offers until SIGINT or SIGTERM, printing
// "lumen: listening on URL" and then `ready_message` (if any) once it accepts connections.
// Returns the process exit code. Shared by `serve` and `demo`.
int ServeUntilStopped(const Config& config, std::string_view ready_message);

// In the order `lumen --help` lists them.
inline std::vector<Command> AllCommands() {
  return {ServeCommand(), DemoCommand(),    CrawlCommand(),  AskCommand(),
          IndexCommand(), ExtractCommand(), AdsCommand(),    ModelCommand(),
          EvalCommand(),  BenchCommand(),   VersionCommand()};
}

}  // namespace lumen::cli
