// The command line's shared parts: flag parsing, the command table, and what every command gets
// (its flags, the global options, configuration loading). Commands live one per file
// (apps/cmd_<name>.cc) and stay thin: parse flags, call modules, print.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/log.h"
#include "core/status.h"

namespace lumen::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;    // bad flags, bad configuration, or not available yet

struct FlagSpec {
  std::string name;        // without dashes: "max-pages"
  std::string value_name;  // empty for a boolean switch; otherwise shown in help: "N"
  std::string help;
  bool repeatable = false;
};

// Parsed flags of one command: --name value, --name=value, switches, and positionals ("--" ends
// flags). Unknown flags, missing values and repeats of a non-repeatable flag are usage errors.
class Flags {
 public:
  static Result<Flags> Parse(const std::vector<std::string>& args,
                             const std::vector<FlagSpec>& specs);

  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The (last) value of a flag, or `fallback`.
  std::string Get(std::string_view name, std::string fallback = "") const;
  std::vector<std::string> GetAll(std::string_view name) const;
  // An integer flag, or `fallback`; a value that is not an integer is a usage error.
  Result<long long> GetInt(std::string_view name, long long fallback) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

// Flags every command accepts, before or after the command name.
struct GlobalOptions {
  std::string config_path;                                     // --config, else $LUMEN_CONFIG
  std::vector<std::pair<std::string, std::string>> overrides;  // --set, --data-dir, --log-level
};

struct Command;

struct CommandContext {
  const Command* command = nullptr;
  Flags flags;
  GlobalOptions global;
  // For commands with subcommands: the arguments after the command name, unparsed.
  std::vector<std::string> raw_args;

  // Loads the configuration from the global options and the environment. On error prints the
  // one-line message to stderr and returns nullopt; the command then exits with kExitUsage.
  std::optional<Config> LoadConfig() const;
  // A logger at the configured log.level (which LoadConfig has checked).
  static Logger MakeLogger(const Config& config);
};

struct Command {
  std::string name;
  std::string summary;    // one line, for `lumen --help`
  std::string arguments;  // positional part of the usage line: "URL..." or ""
  std::string details;    // extra help text (may be empty)
  std::vector<FlagSpec> flags;
  int (*run)(CommandContext& ctx) = nullptr;
  // A command with subcommands (`lumen model tokenize ...`) parses its own flags: its arguments
  // arrive unparsed in ctx.flags.positionals() and it calls RunSubcommand.
  bool has_subcommands = false;
};

// One subcommand of a command with subcommands.
struct Subcommand {
  std::string name;
  std::string summary;
  std::string arguments;
  std::vector<FlagSpec> flags;
  int (*run)(CommandContext& ctx) = nullptr;  // ctx.flags holds the subcommand's parsed flags
};

// Picks the subcommand named by the first argument, parses the rest against its flags and runs
// it. Handles `lumen <cmd> <sub> --help` and usage errors (exit 2).
int RunSubcommand(CommandContext& ctx, const std::vector<Subcommand>& subcommands);
// The help text listing subcommands.
std::string SubcommandsHelp(const Command& command, const std::vector<Subcommand>& subcommands);

// Prints "lumen: <message>" to stderr and returns `code`.
int Fail(int code, std::string_view message);

// A command's --help text.
std::string CommandHelp(const Command& command);

// Used by commands whose capability has not landed yet: says so and returns kExitUsage.
int NotAvailableYet(const CommandContext& ctx, std::string_view what);

}  // namespace lumen::cli
