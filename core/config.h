// Configuration: one JSON file (comments allowed), overlaid on the defaults, then overridden by
// environment variables, then by command-line flags — later sources win.
//
// The defaults are configs/lumen.json, embedded in the binary; that file documents every key and
// is also the schema: a key it does not have is an error, and a value must have the type of the
// default (integer, number, boolean, string, array of strings, object). Errors name the source
// (file path, environment variable or flag), the dotted key and what was expected, on one line.
//
// Environment: LUMEN_<SECTION>__<KEY> (levels separated by "__", case-insensitive), e.g.
// LUMEN_SERVER__PORT=9090 or LUMEN_DATA_DIR=/srv/lumen. A LUMEN_ variable containing "__" that
// names no key is an error; one without "__" that names no key is left alone (LUMEN_CACHE, ...).
//
// A loaded Config is immutable and safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lumen {

struct ConfigSources {
  // Path of the configuration file; empty means defaults only. A missing or unreadable file is
  // an error (it was asked for).
  std::string file;
  // Environment as NAME=VALUE strings (pass `environ`); only LUMEN_* entries are looked at.
  std::vector<std::string> environment;
  // Flag overrides: dotted key and value text, applied in order (e.g. {"server.port", "9090"}).
  std::vector<std::pair<std::string, std::string>> overrides;
};

class Config {
 public:
  // Defaults only (the embedded configs/lumen.json).
  static Config Defaults();
  static Result<Config> Load(const ConfigSources& sources);
  // Overlays `text` (the contents of a config file named `origin`) on the defaults; for tests
  // and tools that already hold the text.
  static Result<Config> FromText(std::string_view text, std::string_view origin);

  // Typed access by dotted key ("server.port"). Asking for a key the defaults do not have, or
  // with the wrong type, is a programming error and throws std::logic_error.
  std::string GetString(std::string_view key) const;
  std::int64_t GetInt(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  std::vector<std::string> GetStringList(std::string_view key) const;
  const nlohmann::json& Get(std::string_view key) const;

  // Where the value of `key` came from: "defaults", the file path, "environment variable X" or
  // "command line --set k=v". Used to name the culprit when a value is valid JSON but unusable.
  std::string Origin(std::string_view key) const;
  // A one-line error about `key`'s value: "<origin>: key \"<key>\": <problem>".
  Status ValueError(std::string_view key, std::string_view problem) const;

  // The merged configuration as JSON (for `lumen serve --print-config` and debugging).
  const nlohmann::json& json() const { return root_; }

  // Expands a leading "~/" with $HOME.
  static std::string ExpandHome(std::string_view path);

 private:
  Status Overlay(const nlohmann::json& src, const nlohmann::json& schema, nlohmann::json& dst,
                 const std::string& prefix, const std::string& origin);
  Status SetFromText(const std::string& key, std::string_view text, const std::string& origin);

  nlohmann::json root_;
  std::map<std::string, std::string, std::less<>> origins_;  // key -> origin, non-defaults only
};

}  // namespace lumen
