// Retrieval benchmark: indexing rate (store + embedding + vector index), hybrid query latency
// (p50/p99), memory per passage, and the approximate index's recall@10 against exact search, on
// passages synthesised by sampling sentences from the Python documentation HTML
// (/usr/share/doc/python3-doc, package python3-doc; Cranfield abstracts as a fallback).
//
//   bench_search [--passages N] [--factory "HNSW32,Flat"] [--queries Q] [--ef E] [--nprobe P]
//                [--fts5-queries M] [--expansion-max-df F] [--expansion-scope candidates|index]
//                [--embedder glove-sif+lsa|glove-sif|lsa] [--dir DIR]
//
// Query latency is measured for BM25 alone and for hybrid search, with BM25 from the in-memory
// index (retrieval/lexical_index.h) and from FTS5 (only the first M queries: FTS5 takes seconds
// per question at 1M passages), each with the 1-minute load average of the shared machine.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "ranking/hybrid.h"
#include "retrieval/glove_embedder.h"
#include "retrieval/indexer.h"
#include "retrieval/lexical_index.h"
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

// The 1-minute load average: the machine is shared, so every latency figure carries it.
double Load() {
  double l[1] = {0};
  return ::getloadavg(l, 1) == 1 ? l[0] : -1;
}

double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string Sanitize(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long passages = 10000, nqueries = 200, fts5_queries = -1;
  int ef = 128, nprobe = 32;
  double expansion_max_df = 1.0;               // ranking.expansion_max_df
  std::string expansion_scope = "candidates";  // ranking.expansion_scope
  std::string factory = "HNSW32,Flat", keep_dir;
  std::string embedder_name = "glove-sif+lsa";  // index.embedder
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
    else if (a == "--nprobe")
      nprobe = std::atoi(argv[i + 1]);
    else if (a == "--dir")
      keep_dir = argv[i + 1];
    else if (a == "--expansion-max-df")
      expansion_max_df = std::atof(argv[i + 1]);
    else if (a == "--expansion-scope")
      expansion_scope = argv[i + 1];
    else if (a == "--embedder")
      embedder_name = argv[i + 1];
    else if (a == "--fts5-queries")
      fts5_queries = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "bench_search: unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (fts5_queries < 0) fts5_queries = nqueries;
  const auto sentences = LoadSentences();
  if (sentences.size() < 100) {
    std::fprintf(stderr, "bench_search: no sentences (install python3-doc)\n");
    return 1;
  }
  auto config = Config::FromText(R"({"index": {"embedder": ")" + embedder_name + R"("}})",
                                 "bench_search --embedder");
  if (!config.ok()) {
    std::fprintf(stderr, "bench_search: %s\n", config.status().message().c_str());
    return 1;
  }
  auto created = retrieval::CreateEmbedder(*config);
  if (!created.ok()) {
    std::fprintf(stderr, "bench_search: %s\n", created.status().message().c_str());
    return 1;
  }
  retrieval::Embedder& embedder = **created;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, sentences.size() - 1);
  // --dir keeps the generated store and indexes (and reuses them when they are complete), so
  // that the query figures of a large collection can be re-measured without rebuilding it.
  const fs::path dir = keep_dir.empty() ? fs::temp_directory_path() /
                                              ("lumen-bench-search-" + std::to_string(::getpid()))
                                        : fs::path(keep_dir);
  if (keep_dir.empty()) fs::remove_all(dir);
  std::printf("bench_search: %ld passages from %zu Python-doc sentences, factory %s, 1 thread\n",
              passages, sentences.size(), factory.c_str());

  // 1. store: pages of 5 passages, each 3-6 sentences.
  auto store = retrieval::Store::Open(dir.string());
  if (!store.ok()) return 1;
  auto t0 = Clock::now();
  const std::int64_t existing = *(*store)->CountPassages();
  if (existing != passages) {
    if (existing != 0) {
      std::fprintf(stderr, "bench_search: %s holds %lld passages, not %ld\n", dir.c_str(),
                   static_cast<long long>(existing), passages);
      return 1;
    }
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
      if (p % 20000 == 0 && p > 0)
        std::fprintf(stderr, "  stored %ld passages (%.0f s)\n", p * 5, Seconds(t0));
    }
    std::printf("store: %ld passages in %.1f s (%.0f passages/s)\n", passages, Seconds(t0),
                passages / Seconds(t0));
  } else {
    std::printf("store: reusing %s\n", dir.c_str());
  }

  // 2. embedding + exact and approximate vector indexes.
  // (one folder per embedder: vectors of another embedder cannot be mixed in)
  const std::string tag = Sanitize(embedder.name());
  const fs::path exact_dir = dir / ("exact-" + tag),
                 approx_dir = dir / ("approx-" + Sanitize(factory) + "-" + tag);
  // The exact index embeds every passage (the indexing rate, embedding included); the
  // approximate one is then built from the exact index's vectors (the same vectors: embedding
  // twice would only double the set-up time of a 1M run), and its build time is its own.
  fs::create_directories(exact_dir);
  if (!fs::exists(retrieval::VectorIndexPath(exact_dir.string()))) {
    t0 = Clock::now();
    auto report = retrieval::UpdateVectorIndex(**store, embedder, exact_dir.string(),
                                               {.factory = "Flat", .rebuild = true});
    if (!report.ok()) {
      std::fprintf(stderr, "%s\n", report.status().message().c_str());
      return 1;
    }
    std::printf("vectors Flat: embed + index %ld passages in %.1f s (%.0f passages/s)\n", passages,
                Seconds(t0), passages / Seconds(t0));
  }
  fs::create_directories(approx_dir);
  if (!fs::exists(retrieval::VectorIndexPath(approx_dir.string()))) {
    auto source = retrieval::OpenVectorIndex(embedder, exact_dir.string());
    if (!source.ok()) return 1;
    auto built = retrieval::VectorIndex::Create(embedder.name(), embedder.dimension(), factory);
    if (!built.ok()) {
      std::fprintf(stderr, "%s\n", built.status().message().c_str());
      return 1;
    }
    std::vector<std::int64_t> ids;
    if (!(*store)
             ->ForEachPassage(0, 8192,
                              [&](const retrieval::PassageView& v) {
                                ids.push_back(v.id);
                                return Status::Ok();
                              })
             .ok())
      return 1;
    auto vectors_of = [&](std::size_t from, std::size_t to) {
      std::vector<float> out;
      for (std::size_t i = from; i < to; ++i) {
        auto v = (*source)->Reconstruct(ids[i]);
        if (v.ok()) out.insert(out.end(), v->begin(), v->end());
      }
      return out;
    };
    t0 = Clock::now();
    if ((*built)->NeedsTraining()) {
      std::vector<std::int64_t> sample_ids;
      std::vector<float> sample;
      for (std::size_t i = 0; i < ids.size(); i += std::max<std::size_t>(1, ids.size() / 100000)) {
        auto v = (*source)->Reconstruct(ids[i]);
        if (v.ok()) sample.insert(sample.end(), v->begin(), v->end());
      }
      if (!(*built)->Train(sample).ok()) return 1;
    }
    for (std::size_t i = 0; i < ids.size(); i += 8192) {
      const std::size_t to = std::min(ids.size(), i + 8192);
      const std::vector<float> vs = vectors_of(i, to);
      if (!(*built)->Add(std::span(ids).subspan(i, to - i), vs).ok()) return 1;
      if (i % (8192 * 16) == 0 && i > 0)
        std::fprintf(stderr, "  %s: %zu vectors (%.0f s)\n", factory.c_str(), i, Seconds(t0));
    }
    (*built)->set_applied_seq((*source)->info().applied_seq);
    const double build_s = Seconds(t0);
    for (const char* stats : {".stats", ".stats.2"})  // the embedder's corpus statistics
      if (fs::exists(retrieval::VectorIndexPath(exact_dir.string()) + stats))
        fs::copy_file(retrieval::VectorIndexPath(exact_dir.string()) + stats,
                      retrieval::VectorIndexPath(approx_dir.string()) + stats,
                      fs::copy_options::overwrite_existing);
    if (!(*built)->Save(retrieval::VectorIndexPath(approx_dir.string())).ok()) return 1;
    std::printf("vectors %s: built from the exact index's vectors in %.1f s (%.0f vectors/s)\n",
                factory.c_str(), build_s, passages / build_s);
  }
  auto exact = retrieval::OpenVectorIndex(embedder, exact_dir.string());
  auto approx = retrieval::OpenVectorIndex(embedder, approx_dir.string());
  if (!exact.ok() || !approx.ok()) return 1;
  (*approx)->SetSearchParameters(ef, nprobe);

  // 3. the in-memory BM25 index, built from the store as `lumen serve` does when it opens.
  t0 = Clock::now();
  auto lexical = retrieval::LexicalIndex::Build(**store);
  if (!lexical.ok()) return 1;
  std::printf("lexical index: built in %.1f s (%.0f passages/s), %lld postings, %.0f B/passage\n",
              Seconds(t0), passages / Seconds(t0), static_cast<long long>((*lexical)->postings()),
              (*lexical)->BytesPerPassage());
  const double db_bytes =
      static_cast<double>(fs::file_size(dir / "lumen.db")) +
      (fs::exists(dir / "lumen.db-wal") ? fs::file_size(dir / "lumen.db-wal") : 0);
  std::printf(
      "memory per passage: SQLite (text + FTS5) %.0f B on disk; vectors Flat %.0f B, %s %.0f B\n",
      db_bytes / passages, (*exact)->BytesPerVector(), factory.c_str(),
      (*approx)->BytesPerVector());

  // 4. queries: 3-7 word spans of sentences (their own generator, so reusing --dir keeps them).
  std::mt19937_64 qrng(4242);
  std::vector<std::string> queries;
  for (long q = 0; q < nqueries; ++q) {
    const auto words = retrieval::SplitWords(sentences[pick(qrng)]);
    const std::size_t len = std::min<std::size_t>(words.size(), 3 + qrng() % 5);
    const std::size_t start = words.size() > len ? qrng() % (words.size() - len) : 0;
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
  std::printf(
      "dense search p50: Flat %.2f ms, %s %.2f ms (efSearch %d, nprobe %d); recall@10 vs exact "
      "%.3f [load %.1f]\n",
      Percentile(dense_exact_ms, 0.5), factory.c_str(), Percentile(dense_approx_ms, 0.5), ef,
      nprobe, recall, Load());

  // Wall-clock latency, and the thread's CPU time per query: on the shared, oversubscribed
  // machine the process is descheduled for much of the wall time, so CPU time is what a query
  // costs on a core of its own.
  auto time_queries = [&](const char* label, long n, auto&& fn) {
    std::vector<double> ms, cpu_ms;
    for (long i = 0; i < n && i < static_cast<long>(queries.size()); ++i) {
      auto t = Clock::now();
      const double c = ThreadCpuSeconds();
      if (!fn(queries[i])) return false;
      ms.push_back(Seconds(t) * 1e3);
      cpu_ms.push_back((ThreadCpuSeconds() - c) * 1e3);
    }
    std::printf(
        "%s: p50 %.1f ms, p99 %.1f ms (CPU time p50 %.1f ms, p99 %.1f ms) over %zu queries "
        "[load %.1f]\n",
        label, Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(cpu_ms, 0.5),
        Percentile(cpu_ms, 0.99), ms.size(), Load());
    return true;
  };
  ranking::HybridOptions options;
  options.expansion_max_df = expansion_max_df;
  options.expansion_scope = expansion_scope;
  ranking::HybridRetriever memory_approx(**store, &embedder, approx->get(), options,
                                         lexical->get());
  ranking::HybridRetriever memory_exact(**store, &embedder, exact->get(), options, lexical->get());
  ranking::HybridRetriever fts5_approx(**store, &embedder, approx->get(), options);
  auto bm25 = [](const ranking::HybridRetriever& r) {
    return
        [&r](const std::string& q) { return r.Search(q, 10, ranking::RetrievalMode::kBm25).ok(); };
  };
  auto hybrid = [](const ranking::HybridRetriever& r) {
    return [&r](const std::string& q) { return r.Search(q, 10).ok(); };
  };
  const std::string approx_label = "hybrid (" + factory + ", in-memory BM25)";
  const std::string fts5_label = "hybrid (" + factory + ", FTS5 BM25)";
  if (!time_queries("bm25 alone (in-memory index)", nqueries, bm25(memory_approx)) ||
      !time_queries("bm25 alone (FTS5)", fts5_queries, bm25(fts5_approx)) ||
      !time_queries(approx_label.c_str(), nqueries, hybrid(memory_approx)) ||
      !time_queries("hybrid (Flat, in-memory BM25)", nqueries, hybrid(memory_exact)) ||
      !time_queries(fts5_label.c_str(), fts5_queries, hybrid(fts5_approx)))
    return 1;
  std::printf(
      "reproduce: build-*/bench/retrieval/bench_search --passages %ld --queries %ld --factory "
      "\"%s\" --ef %d --nprobe %d --fts5-queries %ld --expansion-max-df %g --expansion-scope %s "
      "--embedder %s\n",
      passages, nqueries, factory.c_str(), ef, nprobe, fts5_queries, expansion_max_df,
      expansion_scope.c_str(), embedder_name.c_str());
  if (keep_dir.empty()) fs::remove_all(dir);
  return 0;
}
