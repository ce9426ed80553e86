// Crawl throughput against the local fixture site (tests/integration/retrieval/fixture_server.h):
// fetch + robots.txt + extract + chunk + store into a fresh lumen.db, pages per second.
//
//   build/bench/retrieval/bench_crawl [PAGES] [CONCURRENCY]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "retrieval/crawler.h"
#include "tests/integration/retrieval/fixture_server.h"

int main(int argc, char** argv) {
  using namespace lumen;
  using namespace lumen::retrieval;
  const int pages = argc > 1 ? std::max(1, std::atoi(argv[1])) : 300;
  const int concurrency = argc > 2 ? std::max(1, std::atoi(argv[2])) : 4;
  test_support::FixtureServer server;
  server.SetFanout(4);
  const auto dir =
      std::filesystem::temp_directory_path() / ("lumen-bench-crawl-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = Store::Open(dir.string());
  if (!store.ok()) {
    std::fprintf(stderr, "bench_crawl: %s\n", store.status().ToString().c_str());
    return 1;
  }
  FetcherOptions f;
  f.per_host_delay_ms = 0;
  f.max_per_host = concurrency;
  f.max_connections = concurrency;
  Fetcher fetcher(f, *AddressPolicy::Create({"127.0.0.1"}));
  CrawlOptions o;
  o.max_pages = pages;
  o.max_depth = 100;
  o.concurrency = concurrency;
  o.near_duplicate_bits = -1;  // the fixture's pages are near duplicates by construction
  Logger log(LogLevel::kOff);
  Crawler crawler(**store, fetcher, o, log);
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  auto summary = crawler.Run({server.Url("/page/1")}, stop);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  store->reset();
  std::filesystem::remove_all(dir);
  if (!summary.ok()) {
    std::fprintf(stderr, "bench_crawl: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  const auto& p = summary->progress;
  std::printf(
      "bench_crawl: %lld pages stored, %lld failed in %.2f s with concurrency %d: %.1f "
      "pages/s (fetch + robots + extract + chunk + store)\n",
      static_cast<long long>(p.done), static_cast<long long>(p.failed), s, concurrency,
      (p.done + p.failed) / s);
  std::printf("reproduce: %s %d %d\n", argv[0], pages, concurrency);
  return 0;
}
