// Files embedded in the binary at build time (scripts/embed.cmake): the default configuration,
// the web assets. The data lives in static storage for the life of the process.
#pragma once

#include <span>
#include <string_view>

namespace lumen {

struct EmbeddedFile {
  std::string_view path;  // relative to the embedded folder, "/"-separated
  std::string_view data;
};

// configs/ (lumen.json, bot user agents, ...).
std::span<const EmbeddedFile> ConfigFiles();

// Finds `path` in `files`; returns nullptr when absent.
const EmbeddedFile* FindEmbedded(std::span<const EmbeddedFile> files, std::string_view path);

}  // namespace lumen
