// libFuzzer harness: any bytes as robots.txt, and the URLs checked against it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "retrieval/robots.h"
#include "retrieval/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto rules = lumen::retrieval::RobotsRules::Parse(text, "LumenBot");
  (void)rules.IsAllowed("/");
  (void)rules.IsAllowed("/a/b.html?q=1");
  // The input's first line as a path, and as a URL to normalize.
  const std::string_view first = text.substr(0, text.find('\n'));
  (void)rules.IsAllowed(first.substr(0, 512));
  (void)lumen::retrieval::ResolveUrl("https://fuzz.example/dir/page", first.substr(0, 512));
  return 0;
}
