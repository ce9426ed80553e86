// End-to-end answer time with live fetching: a question goes to a search provider (a loopback
// server speaking SearXNG's JSON API), its 5 result pages are fetched from a loopback web site
// through the real fetcher, extracted, chunked and stored, then ranked with the local index
// (2,000 filler passages) and answered extractively. Prints p50/p95 of each stage over --runs
// questions, twice: re-fetching every page each time (search.refetch_after_s = 0) and with the
// default freshness policy (pages read within a day are answered from the store).
//
//   build-X/bench/retrieval/bench_live [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "retrieval/live_search.h"
#include "tests/integration/retrieval/live_fixtures.h"
#include "web/query_service.h"

namespace {

using namespace lumen;
namespace fs = std::filesystem;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

std::string Words(int n, int seed) {
  static const char* kWords[] = {"river",  "stone",  "market", "winter",  "signal", "garden",
                                 "engine", "harbor", "copper", "lantern", "meadow", "orbit"};
  std::string s;
  unsigned x = static_cast<unsigned>(seed) * 2654435761u + 1;
  for (int i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s += kWords[(x >> 16) % 12];
    s += (i % 15 == 14) ? ". " : " ";
  }
  return s;
}

struct Stages {
  std::vector<double> provider, fetch, retrieval, answer, total;
  int read = 0, skipped = 0;
};

Stages Run(web::QueryService& service, int runs) {
  Stages st;
  for (int i = 0; i < runs; ++i) {
    auto r = service.Search({.query = "how do sea otters keep warm in cold water"});
    if (!r.ok()) {
      std::fprintf(stderr, "search failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    const web::SearchResult& res = *r->result;
    st.provider.push_back(res.live->provider_ms);
    st.fetch.push_back(res.live->fetch_ms);
    st.retrieval.push_back(res.retrieval_ms);
    st.answer.push_back(res.answer_ms);
    st.total.push_back(r->total_ms);
    for (const auto& p : res.live->pages) (p.read() ? st.read : st.skipped)++;
  }
  return st;
}

void Print(const char* title, const Stages& st, int runs) {
  std::printf("%s (%d questions; pages read %d, skipped %d)\n", title, runs, st.read, st.skipped);
  std::printf("  %-22s %9s %9s\n", "stage", "p50 ms", "p95 ms");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("  %-22s %9.1f %9.1f\n", name, Percentile(v, 0.5), Percentile(v, 0.95));
  };
  row("search provider", st.provider);
  row("live fetch (5 pages)", st.fetch);
  row("retrieval + ranking", st.retrieval);
  row("answer (extractive)", st.answer);
  row("total", st.total);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));

  test_support::PageSite site;
  test_support::ProviderFake provider;
  std::vector<test_support::FakeHit> hits;
  for (int p = 0; p < 5; ++p) {
    const std::string name = "otters-" + std::to_string(p);
    site.AddArticle(name, test_support::ArticlePage(
                              "Sea otters and cold water, part " + std::to_string(p),
                              "Sea otters keep warm in cold water with the densest fur of any "
                              "animal, about a million hairs per square inch, and a fast "
                              "metabolism. " +
                                  Words(150, p)));
    hits.push_back({site.Url("/article/" + name), "Sea otters " + std::to_string(p), "", ""});
  }
  provider.SetHits(hits);

  const fs::path dir = fs::temp_directory_path() / ("lumen-bench-live-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto store = retrieval::Store::Open(dir.string());
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < 2000; ++i) {  // the local index the live pages are ranked with
    retrieval::PageRecord page;
    page.url = "http://local.test/" + std::to_string(i);
    page.title = "Local page " + std::to_string(i);
    page.text = Words(120, 1000 + i);
    page.content_hash = std::to_string(i);
    retrieval::Passage passage{.begin = 0, .end = page.text.size(), .text = page.text};
    (void)(*store)->UpsertPage(page, std::span<const retrieval::Passage>(&passage, 1));
  }
  ranking::HybridRetriever retriever(**store, nullptr, nullptr, ranking::HybridOptions{});
  Logger log(LogLevel::kOff);

  auto make_live = [&](std::int64_t refetch_after_s) {
    retrieval::SearchProviderOptions po;
    po.kind = "searxng";
    po.url = provider.Url();
    retrieval::LiveFetchOptions lo;
    lo.max_pages = 5;
    lo.budget_ms = 3000;
    lo.refetch_after_s = refetch_after_s;
    return std::make_unique<retrieval::LiveSearch>(
        std::move(*retrieval::CreateSearchProvider(po)),
        std::make_unique<retrieval::LiveFetcher>(**store, lo,
                                                 *retrieval::AddressPolicy::Create({"127.0.0.1"})));
  };
  web::QueryServiceOptions qo;
  qo.cache_entries = 0;

  auto always = make_live(0);
  web::QueryService fetching(qo, &retriever, nullptr, nullptr, log, always.get(), store->get());
  Print("live fetch every question (search.refetch_after_s = 0)", Run(fetching, runs), runs);

  auto fresh = make_live(86400);
  web::QueryService cached(qo, &retriever, nullptr, nullptr, log, fresh.get(), store->get());
  Print("freshness policy (pages read within refetch_after_s = 86400 come from the store)",
        Run(cached, runs), runs);
  std::printf("command: build-X/bench/retrieval/bench_live --runs %d\n", runs);
  fs::remove_all(dir);
  return 0;
}
