// Retrieval benchmark: indexing rate (store + embedding + vector index), hybrid query latency
// (p50/p99), memory per passage, and the approximate index's recall@10 against exact search, on
// passages synthesised by sampling sentences from the Python documentation HTML
// (/usr/share/doc/python3-doc, package python3-doc; Cranfield abstracts as a fallback).
//
//   bench_search [--passages N] [--factory "HNSW32,Flat"] [--queries Q] [--ef E]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ranking/hybrid.h"
#include "retrieval/glove_embedder.h"
#include "retrieval/indexer.h"
#include "retrieval/store.h"

namespace fs = std::filesystem;
using namespace lumen;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

std::vector<std::string> LoadSentences() {
  std::vector<std::string> out;
  const std::regex tag("<[^>]*>"), space("\\s+");
  for (const char* root :
       {"/usr/share/doc/python3-doc/html", "/usr/share/doc/python3.11-doc/html"}) {
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().extension() != ".html") continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = std::regex_replace(ss.str(), tag, " ");
      text = std::regex_replace(text, space, " ");
      std::size_t start = 0;
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '.' && i + 1 < text.size() && text[i + 1] == ' ') {
          std::string s = text.substr(start, i + 1 - start);
          start = i + 2;
          const std::size_t words = retrieval::SplitWords(s).size();
          if (words >= 5 && words <= 60 && s.find("&") == std::string::npos) out.push_back(s);
        }
      }
      if (out.size() > 200000) return out;
    }
    if (!out.empty()) return out;
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  long passages = 10000, nqueries = 200;
  int ef = 128;
  std::string factory = "HNSW32,Flat";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--passages")
      passages = std::atol(argv[i + 1]);
    else if (a == "--queries")
      nqueries = std::atol(argv[i + 1]);
    else if (a == "--factory")
      factory = argv[i + 1];
    else if (a == "--ef")
      ef = std::atoi(argv[i + 1]);
  }
  const auto sentences = LoadSentences();
  if (sentences.size() < 100) {
    std::fprintf(stderr, "bench_search: no sentences (install python3-doc)\n");
    return 1;
  }
  auto wv = retrieval::WordVectors::LoadDefault();
  if (!wv.ok()) {
    std::fprintf(stderr, "bench_search: %s\n", wv.status().message().c_str());
    return 1;
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, sentences.size() - 1);
  const fs::path dir =
      fs::temp_directory_path() / ("lumen-bench-search-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::printf("bench_search: %ld passages from %zu Python-doc sentences, factory %s, 1 thread\n",
              passages, sentences.size(), factory.c_str());

  // 1. store: pages of 5 passages, each 3-6 sentences.
  auto store = retrieval::Store::Open(dir.string());
  if (!store.ok()) return 1;
  auto t0 = Clock::now();
  for (long p = 0; p * 5 < passages; ++p) {
    std::vector<retrieval::Passage> ps;
    for (int j = 0; j < 5 && p * 5 + j < passages; ++j) {
      std::string text;
      const int n = 3 + static_cast<int>(rng() % 4);
      for (int s = 0; s < n; ++s) text += sentences[pick(rng)] + " ";
      ps.push_back({.ordinal = j,
                    .heading_path = "Section " + std::to_string(j),
                    .begin = 0,
                    .end = text.size(),
                    .text = text});
    }
    const std::string title = retrieval::SplitWords(sentences[pick(rng)]).front() + " reference";
    if (!(*store)
             ->UpsertPage({.url = "bench:" + std::to_string(p),
                           .title = title,
                           .content_hash = std::to_string(p)},
                          ps)
             .ok())
      return 1;
  }
  const double store_s = Seconds(t0);

  // 2. embedding + exact and approximate indexes.
  retrieval::GloveSifEmbedder embedder(*wv);
  const fs::path exact_dir = dir / "exact", approx_dir = dir / "approx";
  fs::create_directories(exact_dir);
  fs::create_directories(approx_dir);
  t0 = Clock::now();
  auto exact_report = retrieval::UpdateVectorIndex(**store, embedder, exact_dir.string(),
                                                   {.factory = "Flat", .rebuild = true});
  const double exact_s = Seconds(t0);
  if (!exact_report.ok()) {
    std::fprintf(stderr, "%s\n", exact_report.status().message().c_str());
    return 1;
  }
  t0 = Clock::now();
  auto approx_report = retrieval::UpdateVectorIndex(**store, embedder, approx_dir.string(),
                                                    {.factory = factory, .rebuild = true});
  const double approx_s = Seconds(t0);
  if (!approx_report.ok()) {
    std::fprintf(stderr, "%s\n", approx_report.status().message().c_str());
    return 1;
  }
  auto exact = retrieval::OpenVectorIndex(embedder, exact_dir.string());
  auto approx = retrieval::OpenVectorIndex(embedder, approx_dir.string());
  if (!exact.ok() || !approx.ok()) return 1;
  (*approx)->SetSearchParameters(ef, 32);

  std::printf(
      "indexing: store %.0f passages/s; store+embed+Flat %.0f passages/s; store+embed+%s %.0f "
      "passages/s\n",
      passages / store_s, passages / (store_s + exact_s), factory.c_str(),
      passages / (store_s + approx_s));
  const double db_bytes =
      static_cast<double>(fs::file_size(dir / "lumen.db")) +
      (fs::exists(dir / "lumen.db-wal") ? fs::file_size(dir / "lumen.db-wal") : 0);
  std::printf(
      "memory per passage: SQLite (text + FTS5) %.0f B on disk; vectors Flat %.0f B, %s %.0f B\n",
      db_bytes / passages, (*exact)->BytesPerVector(), factory.c_str(),
      (*approx)->BytesPerVector());

  // 3. queries: 3-7 word spans of sentences.
  std::vector<std::string> queries;
  for (long q = 0; q < nqueries; ++q) {
    const auto words = retrieval::SplitWords(sentences[pick(rng)]);
    const std::size_t len = std::min<std::size_t>(words.size(), 3 + rng() % 5);
    const std::size_t start = words.size() > len ? rng() % (words.size() - len) : 0;
    std::string s;
    for (std::size_t i = start; i < start + len; ++i) s += words[i] + " ";
    queries.push_back(s);
  }
  // recall@10 of the approximate dense search against exact.
  double recall = 0;
  std::vector<double> dense_exact_ms, dense_approx_ms;
  for (const auto& q : queries) {
    auto v = embedder.EmbedOne(q, retrieval::EmbedRole::kQuery);
    auto t = Clock::now();
    auto a = (*exact)->Search(*v, 10);
    dense_exact_ms.push_back(Seconds(t) * 1e3);
    t = Clock::now();
    auto b = (*approx)->Search(*v, 10);
    dense_approx_ms.push_back(Seconds(t) * 1e3);
    std::set<std::int64_t> truth;
    for (const auto& h : *a) truth.insert(h.passage_id);
    int hit = 0;
    for (const auto& h : *b) hit += truth.count(h.passage_id);
    recall += truth.empty() ? 1.0 : static_cast<double>(hit) / truth.size();
  }
  recall /= queries.size();
  std::printf("dense search p50: Flat %.2f ms, %s %.2f ms (efSearch %d); recall@10 vs exact %.3f\n",
              Percentile(dense_exact_ms, 0.5), factory.c_str(), Percentile(dense_approx_ms, 0.5),
              ef, recall);
  for (auto [name, index] :
       {std::pair{"Flat", exact->get()}, std::pair{factory.c_str(), approx->get()}}) {
    ranking::HybridRetriever r(**store, &embedder, index, {});
    std::vector<double> ms;
    for (const auto& q : queries) {
      auto t = Clock::now();
      auto hits = r.Search(q, 10);
      ms.push_back(Seconds(t) * 1e3);
      if (!hits.ok()) return 1;
    }
    std::printf("hybrid query latency (%s): p50 %.1f ms, p99 %.1f ms over %zu queries\n", name,
                Percentile(ms, 0.5), Percentile(ms, 0.99), queries.size());
  }
  std::printf(
      "reproduce: build-*/bench/retrieval/bench_search --passages %ld --factory \"%s\" --ef %d\n",
      passages, factory.c_str(), ef);
  fs::remove_all(dir);
  return 0;
}
