// libFuzzer harness: any bytes as a page — extraction, chunking and charset conversion must
// neither crash nor hang, and offsets must stay inside the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "retrieval/charset.h"
#include "retrieval/chunker.h"
#include "retrieval/extractor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const std::string html = lumen::retrieval::DecodeToUtf8(raw, "");
  auto page = lumen::retrieval::ExtractPage(html, "https://fuzz.example/a/b.html");
  if (!page.ok()) return 0;
  for (const auto& b : page->blocks) {
    if (b.begin > b.end || b.end > page->text.size()) std::abort();
  }
  for (const auto& p : lumen::retrieval::ChunkPage(*page, {.min_words = 5, .max_words = 20})) {
    if (p.begin > p.end || p.end > page->text.size()) std::abort();
  }
  return 0;
}
