// lumen: the command line. Finds the command, peels off the global flags (accepted before or
// after the command name), parses the command's own flags and runs it.
#include <iostream>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "apps/commands.h"

namespace lumen::cli {
namespace {

std::string MainHelp(const std::vector<Command>& commands) {
  std::string out =
      "Lumen — a self-hostable answer engine: it reads web pages, ranks their passages and "
      "answers\nquestions with citations you can check.\n\nUsage: lumen <command> [flags]\n\n"
      "Commands:\n";
  for (const Command& c : commands) {
    std::string name = "  " + c.name;
    name.resize(12, ' ');
    out += name + c.summary + "\n";
  }
  out +=
      "\nGlobal flags (every command): --config FILE, --data-dir DIR, --log-level LEVEL,\n"
      "  --set KEY=VALUE (repeatable), --help\n\n"
      "Run 'lumen <command> --help' for a command's flags. Exit codes: 0 success, 1 failure,\n"
      "2 usage or configuration error.\n";
  return out;
}

// Removes the global flags from `args` into `global`. Returns a usage error for a global flag
// without its value.
Status TakeGlobalFlags(std::vector<std::string>& args, GlobalOptions& global, bool& help) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // everything after belongs to the command
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (a == "--help" || a == "-h") {
      help = true;
      continue;
    }
    std::string name = a, value;
    bool has_inline = false;
    if (const std::size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_inline = true;
    }
    if (name != "--config" && name != "--data-dir" && name != "--log-level" && name != "--set") {
      rest.push_back(a);
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size()) return InvalidArgument("flag " + name + " needs a value");
      value = args[++i];
    }
    if (name == "--config") {
      global.config_path = value;
    } else if (name == "--data-dir") {
      global.overrides.emplace_back("data_dir", value);
    } else if (name == "--log-level") {
      global.overrides.emplace_back("log.level", value);
    } else {
      const std::size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument("--set needs KEY=VALUE, got \"" + value + "\"");
      }
      global.overrides.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    }
  }
  args = std::move(rest);
  return Status::Ok();
}

int Main(int argc, char** argv) {
  const std::vector<Command> commands = AllCommands();
  std::vector<std::string> args(argv + 1, argv + argc);
  GlobalOptions global;
  bool help = false;
  if (Status s = TakeGlobalFlags(args, global, help); !s.ok()) return Fail(kExitUsage, s.message());

  // The command is the first remaining argument ("help X" is "X --help").
  if (!args.empty() && args[0] == "help") {
    help = true;
    args.erase(args.begin());
  }
  if (args.empty()) {
    if (help) {
      std::cout << MainHelp(commands);
      return kExitOk;
    }
    std::cerr << MainHelp(commands);
    return kExitUsage;
  }
  if (args[0] == "--version") args[0] = "version";
  const Command* command = nullptr;
  for (const Command& c : commands) {
    if (c.name == args[0]) command = &c;
  }
  if (command == nullptr) {
    return Fail(kExitUsage, "unknown command '" + args[0] + "' (run 'lumen --help' for the list)");
  }
  args.erase(args.begin());
  if (command->has_subcommands) {
    // The command parses its own arguments (RunSubcommand); a --help taken above goes back.
    if (help) args.push_back("--help");
    CommandContext ctx{command, Flags(), std::move(global), std::move(args)};
    try {
      return command->run(ctx);
    } catch (const std::exception& e) {
      return Fail(kExitFailure, command->name + ": " + e.what());
    }
  }
  if (help) {
    std::cout << CommandHelp(*command);
    return kExitOk;
  }
  Result<Flags> flags = Flags::Parse(args, command->flags);
  if (!flags.ok()) {
    return Fail(kExitUsage, command->name + ": " + flags.status().message() + " (run 'lumen " +
                                command->name + " --help')");
  }
  CommandContext ctx{command, std::move(*flags), std::move(global), {}};
  try {
    return command->run(ctx);
  } catch (const std::exception& e) {
    return Fail(kExitFailure, command->name + ": " + e.what());
  }
}

}  // namespace
}  // namespace lumen::cli

int main(int argc, char** argv) {
  return lumen::cli::Main(argc, argv);
}
