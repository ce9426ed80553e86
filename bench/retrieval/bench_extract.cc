// Extraction throughput: parse + extract of the extraction benchmark's pages, on one core.
//
//   build/bench/retrieval/bench_extract [PAGES_DIR] [ROUNDS]
//
// PAGES_DIR defaults to ../shared/eval/extraction/html beside the source tree. Pages are read
// and decoded to UTF-8 first (not timed); each round extracts every page (links included).
// Prints MB/s of input HTML per core: per second of this thread's CPU time (what one core does,
// even on a shared, busy machine) and per wall-clock second; median round and best.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "retrieval/charset.h"
#include "retrieval/extractor.h"
#include "retrieval/html_file.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const std::string dir =
      argc > 1 ? argv[1] : std::string(LUMEN_SOURCE_DIR) + "/../shared/eval/extraction/html";
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<std::string> pages;
  std::size_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto raw = lumen::retrieval::ReadPageFile(entry.path().string());
    if (!raw.ok()) continue;
    pages.push_back(lumen::retrieval::DecodeToUtf8(*raw, ""));
    bytes += pages.back().size();
  }
  if (pages.empty()) {
    std::fprintf(stderr, "bench_extract: no pages in %s\n", dir.c_str());
    return 1;
  }
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
  };
  std::vector<double> rates;
  std::vector<double> cpu_rates;
  std::size_t words = 0;
  for (int r = 0; r < rounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_now();
    for (const std::string& html : pages) {
      auto page = lumen::retrieval::ExtractPage(html, "https://example.com/article");
      if (page.ok()) words += page->text.size();
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(bytes / s / 1e6);
    cpu_rates.push_back(bytes / (cpu_now() - cpu_start) / 1e6);
  }
  std::sort(rates.begin(), rates.end());
  std::sort(cpu_rates.begin(), cpu_rates.end());
  std::printf("bench_extract: %zu pages, %.1f MB of HTML, %d rounds, one thread\n", pages.size(),
              bytes / 1e6, rounds);
  std::printf("bench_extract: parse+extract %.1f MB/s per core of CPU time (median), %.1f (best)\n",
              cpu_rates[cpu_rates.size() / 2], cpu_rates.back());
  std::printf("bench_extract: parse+extract %.1f MB/s wall clock (median), %.1f (best)\n",
              rates[rates.size() / 2], rates.back());
  std::printf("reproduce: %s %s %d\n", argv[0], dir.c_str(), rounds);
  return words > 0 ? 0 : 1;
}
