#include "apps/cli.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>

extern char** environ;

namespace lumen::cli {

Result<Flags> Flags::Parse(const std::vector<std::string>& args,
                           const std::vector<FlagSpec>& specs) {
  Flags f;
  bool flags_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flags_done || a.size() < 2 || a.rfind("--", 0) != 0) {
      if (!flags_done && a.size() >= 2 && a[0] == '-' && a[1] != '-' && a != "-") {
        return InvalidArgument("unknown flag " + a + " (flags are spelled --name)");
      }
      f.positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return InvalidArgument("unknown flag --" + name);
    if (!spec->repeatable && f.values_.count(name)) {
      return InvalidArgument("flag --" + name + " given more than once");
    }
    if (spec->value_name.empty()) {
      if (inline_value) return InvalidArgument("flag --" + name + " takes no value");
      f.values_[name].push_back("true");
      continue;
    }
    if (inline_value) {
      f.values_[name].push_back(*inline_value);
    } else if (i + 1 < args.size()) {
      f.values_[name].push_back(args[++i]);
    } else {
      return InvalidArgument("flag --" + name + " needs a value (" + spec->value_name + ")");
    }
  }
  return f;
}

std::string Flags::Get(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Flags::GetAll(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<long long> Flags::GetInt(std::string_view name, long long fallback) const {
  if (!Has(name)) return fallback;
  const std::string v = Get(name);
  long long n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) {
    return InvalidArgument("flag --" + std::string(name) + ": expected an integer, got \"" + v +
                           "\"");
  }
  return n;
}

std::optional<Config> CommandContext::LoadConfig() const {
  ConfigSources sources;
  sources.file = global.config_path;
  if (sources.file.empty()) {
    if (const char* env = std::getenv("LUMEN_CONFIG"); env != nullptr) sources.file = env;
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) sources.environment.emplace_back(*e);
  sources.overrides = global.overrides;
  Result<Config> config = Config::Load(sources);
  if (!config.ok()) {
    Fail(kExitUsage, "configuration error: " + config.status().message());
    return std::nullopt;
  }
  if (Result<LogLevel> level = ParseLogLevel(config->GetString("log.level")); !level.ok()) {
    Fail(kExitUsage, "configuration error: " +
                         config->ValueError("log.level", level.status().message()).message());
    return std::nullopt;
  }
  return std::move(*config);
}

Logger CommandContext::MakeLogger(const Config& config) {
  return Logger(ParseLogLevel(config.GetString("log.level")).value_or(LogLevel::kInfo));
}

int Fail(int code, std::string_view message) {
  std::cerr << "lumen: " << message << std::endl;
  return code;
}

std::string CommandHelp(const Command& command) {
  std::string out = "Usage: lumen " + command.name + " [flags]";
  if (!command.arguments.empty()) out += " " + command.arguments;
  out += "\n\n" + command.summary + "\n";
  if (!command.details.empty()) out += "\n" + command.details + "\n";
  auto add_flags = [&out](const std::vector<FlagSpec>& flags) {
    for (const FlagSpec& f : flags) {
      std::string left = "  --" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
      if (left.size() < 26)
        left.resize(26, ' ');
      else
        left += "  ";
      out += left + f.help + (f.repeatable ? " (repeatable)" : "") + "\n";
    }
  };
  if (!command.flags.empty()) {
    out += "\nFlags:\n";
    add_flags(command.flags);
  }
  out += "\nGlobal flags:\n";
  add_flags(
      {{"config", "FILE", "configuration file (default: $LUMEN_CONFIG, else built-in defaults)"},
       {"data-dir", "DIR", "data folder (config key data_dir)"},
       {"log-level", "LEVEL", "debug, info, warn, error or off (config key log.level)"},
       {"set", "KEY=VALUE", "override any configuration key, e.g. --set server.port=9090", true},
       {"help", "", "show this help"}});
  return out;
}

std::string SubcommandsHelp(const Command& command, const std::vector<Subcommand>& subcommands) {
  std::string out = "Usage: lumen " + command.name + " <subcommand> [flags]\n\n" + command.summary +
                    "\n\nSubcommands:\n";
  for (const Subcommand& s : subcommands) {
    std::string left = "  " + s.name;
    if (left.size() < 16) left.resize(16, ' ');
    out += left + s.summary + "\n";
  }
  out += "\nGlobal flags: --config FILE, --data-dir DIR, --log-level LEVEL, --set KEY=VALUE\n";
  out += "Run 'lumen " + command.name + " <subcommand> --help' for its flags.\n";
  return out;
}

int RunSubcommand(CommandContext& ctx, const std::vector<Subcommand>& subcommands) {
  std::vector<std::string> args = ctx.raw_args;
  if (args.empty()) {
    std::cerr << SubcommandsHelp(*ctx.command, subcommands);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << SubcommandsHelp(*ctx.command, subcommands);
    return kExitOk;
  }
  const Subcommand* sub = nullptr;
  for (const Subcommand& s : subcommands) {
    if (s.name == args[0]) sub = &s;
  }
  if (sub == nullptr) {
    return Fail(kExitUsage, "unknown subcommand '" + ctx.command->name + " " + args[0] +
                                "' (run 'lumen " + ctx.command->name + " --help')");
  }
  args.erase(args.begin());
  const std::string full = ctx.command->name + " " + sub->name;
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      Command as_command{.name = full,
                         .summary = sub->summary,
                         .arguments = sub->arguments,
                         .details = "",
                         .flags = sub->flags};
      std::cout << CommandHelp(as_command);
      return kExitOk;
    }
  }
  Result<Flags> flags = Flags::Parse(args, sub->flags);
  if (!flags.ok()) {
    return Fail(kExitUsage,
                full + ": " + flags.status().message() + " (run 'lumen " + full + " --help')");
  }
  ctx.flags = std::move(*flags);
  return sub->run(ctx);
}

int NotAvailableYet(const CommandContext& ctx, std::string_view what) {
  return Fail(kExitUsage, "'" + ctx.command->name + "' is not available yet: " + std::string(what) +
                              " has not landed in this build");
}

}  // namespace lumen::cli
