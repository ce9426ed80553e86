#include "core/embedded_file.h"

namespace lumen {

const EmbeddedFile* FindEmbedded(std::span<const EmbeddedFile> files, std::string_view path) {
  for (const EmbeddedFile& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace lumen
