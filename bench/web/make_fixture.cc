// Writes the data dir bench/web/load.sh serves: the small documentation corpus and one
// advertiser whose campaign targets CSV questions (tests/integration/web/web_fixture.h).
// Usage: web_load_fixture DIR
#include <cstdio>

#include "tests/integration/web/web_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: web_load_fixture DIR\n");
    return 2;
  }
  const std::string error = lumen::test_support::SeedWebDataDir(argv[1], /*with_ads=*/true);
  if (!error.empty()) {
    std::fprintf(stderr, "web_load_fixture: %s\n", error.c_str());
    return 1;
  }
  std::printf("fixture written to %s\n", argv[1]);
  return 0;
}
