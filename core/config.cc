#include "core/config.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/embedded_file.h"

namespace lumen {
namespace {

using Json = nlohmann::json;

// The type names used in error messages.
std::string TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    default: return "value";
  }
}

// What a value must be, judged by its default.
std::string ExpectedName(const Json& def) {
  if (def.is_array()) {
    if (!def.empty() && def.front().is_number_integer()) return "array of integers";
    return "array of strings";
  }
  if (def.is_number_float()) return "number";
  return TypeName(def);
}

std::string Shown(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

bool TypeMatches(const Json& def, const Json& v) {
  if (def.is_number_integer() || def.is_number_unsigned()) {
    return v.is_number_integer() || v.is_number_unsigned();
  }
  if (def.is_number_float()) return v.is_number();
  if (def.is_boolean()) return v.is_boolean();
  if (def.is_string()) return v.is_string();
  if (def.is_array()) {
    if (!v.is_array()) return false;
    const bool ints = !def.empty() && def.front().is_number_integer();
    for (const Json& e : v) {
      if (ints ? !e.is_number_integer() : !e.is_string()) return false;
    }
    return true;
  }
  if (def.is_object()) return v.is_object();
  return false;
}

// "line L, column C" of byte offset `pos` (1-based, as the parser reports positions).
std::string LineColumn(std::string_view text, std::size_t pos) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i + 1 < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

Result<Json> ParseJsonWithComments(std::string_view text, std::string_view origin) {
  try {
    return Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/true,
                       /*ignore_comments=*/true);
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string what = e.what();
    const std::size_t colon = what.find(": ");
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    return InvalidArgument(std::string(origin) + ": invalid JSON at " + LineColumn(text, e.byte) +
                           ": " + detail);
  } catch (const Json::exception& e) {  // out_of_range: a number too large ("1e9999")
    return InvalidArgument(std::string(origin) + ": invalid JSON: " + e.what());
  }
}

const Json* Lookup(const Json& root, std::string_view key) {
  const Json* node = &root;
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t dot = key.find('.', start);
    if (dot == std::string_view::npos) dot = key.size();
    const std::string part(key.substr(start, dot - start));
    if (!node->is_object()) return nullptr;
    auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
    start = dot + 1;
  }
  return node;
}

Json* LookupMutable(Json& root, std::string_view key) {
  return const_cast<Json*>(Lookup(root, key));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Config Config::Defaults() {
  const EmbeddedFile* f = FindEmbedded(ConfigFiles(), "lumen.json");
  if (f == nullptr) throw std::logic_error("configs/lumen.json is not embedded in this build");
  Result<Json> parsed = ParseJsonWithComments(f->data, "configs/lumen.json");
  if (!parsed.ok()) throw std::logic_error(parsed.status().message());
  Config c;
  c.root_ = std::move(*parsed);
  return c;
}

Status Config::Overlay(const Json& src, const Json& schema, Json& dst, const std::string& prefix,
                       const std::string& origin) {
  if (!src.is_object()) {
    return InvalidArgument(origin + ": " +
                           (prefix.empty() ? "the top level" : "key \"" + prefix + "\"") +
                           ": expected object, got " + TypeName(src));
  }
  for (auto it = src.begin(); it != src.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    auto def = schema.find(it.key());
    if (def == schema.end()) {
      return InvalidArgument(origin + ": unknown key \"" + key + "\"");
    }
    if (!TypeMatches(*def, it.value())) {
      return InvalidArgument(origin + ": key \"" + key + "\": expected " + ExpectedName(*def) +
                             ", got " + TypeName(it.value()) + " " + Shown(it.value()));
    }
    if (def->is_object() && !def->empty()) {
      LUMEN_RETURN_IF_ERROR(Overlay(it.value(), *def, dst[it.key()], key, origin));
    } else {
      // An object default that is empty is a free-form map: taken whole.
      dst[it.key()] = it.value();
      origins_[key] = origin;
    }
  }
  return Status::Ok();
}

Status Config::SetFromText(const std::string& key, std::string_view text,
                           const std::string& origin) {
  Json* slot = LookupMutable(root_, key);
  if (slot == nullptr) return InvalidArgument(origin + ": unknown key \"" + key + "\"");
  const std::string shown = "\"" + std::string(text.substr(0, 60)) + "\"";
  Json value;
  if (slot->is_string()) {
    value = std::string(text);
  } else if (slot->is_boolean()) {
    const std::string t = Lower(text);
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
      value = true;
    } else if (t == "false" || t == "0" || t == "no" || t == "off") {
      value = false;
    } else {
      return InvalidArgument(origin + ": key \"" + key + "\": expected boolean, got " + shown);
    }
  } else if (slot->is_number_integer() || slot->is_number_unsigned()) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
      return InvalidArgument(origin + ": key \"" + key + "\": expected integer, got " + shown);
    }
    value = n;
  } else if (slot->is_number_float()) {
    const std::string t(text);
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) {
      return InvalidArgument(origin + ": key \"" + key + "\": expected number, got " + shown);
    }
    value = d;
  } else if (slot->is_array()) {
    // A JSON array, or a comma-separated list of strings.
    if (!text.empty() && text.front() == '[') {
      Result<Json> parsed = ParseJsonWithComments(text, origin);
      if (!parsed.ok()) return parsed.status();
      value = std::move(*parsed);
    } else {
      value = Json::array();
      std::size_t start = 0;
      while (start <= text.size() && !text.empty()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        value.push_back(std::string(text.substr(start, comma - start)));
        start = comma + 1;
      }
    }
    if (!TypeMatches(*slot, value)) {
      return InvalidArgument(origin + ": key \"" + key + "\": expected " + ExpectedName(*slot) +
                             ", got " + shown);
    }
  } else {
    Result<Json> parsed = ParseJsonWithComments(text, origin);
    if (!parsed.ok()) return parsed.status();
    if (!TypeMatches(*slot, *parsed)) {
      return InvalidArgument(origin + ": key \"" + key + "\": expected " + ExpectedName(*slot) +
                             ", got " + TypeName(*parsed));
    }
    value = std::move(*parsed);
  }
  *slot = std::move(value);
  origins_[key] = origin;
  return Status::Ok();
}

Result<Config> Config::FromText(std::string_view text, std::string_view origin) {
  Config c = Defaults();
  Result<Json> parsed = ParseJsonWithComments(text, origin);
  if (!parsed.ok()) return parsed.status();
  const Json schema = c.root_;
  LUMEN_RETURN_IF_ERROR(c.Overlay(*parsed, schema, c.root_, "", std::string(origin)));
  return c;
}

Result<Config> Config::Load(const ConfigSources& sources) {
  Config c = Defaults();
  if (!sources.file.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(sources.file, ec)) {
      return InvalidArgument(sources.file + ": cannot read configuration file: it is a directory");
    }
    std::ifstream in(sources.file, std::ios::binary);
    std::ostringstream buf;
    if (in) buf << in.rdbuf();
    if (!in || in.bad()) {
      return InvalidArgument(sources.file +
                             ": cannot read configuration file: " + std::strerror(errno));
    }
    Result<Config> loaded = FromText(buf.str(), sources.file);
    if (!loaded.ok()) return loaded.status();
    c = std::move(*loaded);
  }
  for (const std::string& entry : sources.environment) {
    const std::size_t eq = entry.find('=');
    if (eq == std::string::npos || entry.rfind("LUMEN_", 0) != 0) continue;
    const std::string name = entry.substr(0, eq);
    std::string key = Lower(name.substr(6));
    std::size_t pos = 0;
    while ((pos = key.find("__", pos)) != std::string::npos) key.replace(pos, 2, ".");
    const bool nested = name.find("__") != std::string::npos;
    if (Lookup(c.root_, key) == nullptr || Lookup(c.root_, key)->is_object()) {
      if (nested) {
        return InvalidArgument("environment variable " + name + ": unknown key \"" + key + "\"");
      }
      continue;  // another LUMEN_ variable (LUMEN_CACHE, LUMEN_CONFIG, ...)
    }
    LUMEN_RETURN_IF_ERROR(c.SetFromText(key, entry.substr(eq + 1), "environment variable " + name));
  }
  for (const auto& [key, value] : sources.overrides) {
    LUMEN_RETURN_IF_ERROR(c.SetFromText(key, value, "command line --set " + key + "=" + value));
  }
  return c;
}

const Json& Config::Get(std::string_view key) const {
  const Json* v = Lookup(root_, key);
  if (v == nullptr) throw std::logic_error("no configuration key \"" + std::string(key) + "\"");
  return *v;
}

std::string Config::GetString(std::string_view key) const {
  const Json& v = Get(key);
  if (!v.is_string())
    throw std::logic_error("configuration key " + std::string(key) + " is not a string");
  return v.get<std::string>();
}

std::int64_t Config::GetInt(std::string_view key) const {
  const Json& v = Get(key);
  if (!v.is_number_integer())
    throw std::logic_error("configuration key " + std::string(key) + " is not an integer");
  return v.get<std::int64_t>();
}

double Config::GetDouble(std::string_view key) const {
  const Json& v = Get(key);
  if (!v.is_number())
    throw std::logic_error("configuration key " + std::string(key) + " is not a number");
  return v.get<double>();
}

bool Config::GetBool(std::string_view key) const {
  const Json& v = Get(key);
  if (!v.is_boolean())
    throw std::logic_error("configuration key " + std::string(key) + " is not a boolean");
  return v.get<bool>();
}

std::vector<std::string> Config::GetStringList(std::string_view key) const {
  const Json& v = Get(key);
  if (!v.is_array())
    throw std::logic_error("configuration key " + std::string(key) + " is not an array");
  std::vector<std::string> out;
  for (const Json& e : v) out.push_back(e.get<std::string>());
  return out;
}

std::string Config::Origin(std::string_view key) const {
  auto it = origins_.find(key);
  return it == origins_.end() ? "defaults" : it->second;
}

Status Config::ValueError(std::string_view key, std::string_view problem) const {
  return InvalidArgument(Origin(key) + ": key \"" + std::string(key) +
                         "\": " + std::string(problem));
}

std::string Config::ExpandHome(std::string_view path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0') return std::string(home) + std::string(path.substr(1));
  }
  return std::string(path);
}

}  // namespace lumen
