// lumen eval retrieval: bm25, dense and hybrid retrieval on a SMART-format test collection
// (ranking/evaluation.h), indexed into a temporary data dir.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/eval.h"
#include "ranking/evaluation.h"

namespace lumen::cli {
namespace {

namespace fs = std::filesystem;

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

int Run(CommandContext& ctx) {
  const std::string docs_path = ctx.flags.Get("docs");
  const std::string queries_path = ctx.flags.Get("queries");
  const std::string qrels_path = ctx.flags.Get("qrels");
  if (docs_path.empty() || queries_path.empty() || qrels_path.empty())
    return Fail(kExitUsage,
                "eval retrieval: --docs FILE, --queries FILE and --qrels FILE are required");
  const std::string gain = ctx.flags.Get("gain", "cranfield");
  if (gain != "cranfield" && gain != "binary")
    return Fail(kExitUsage, "eval retrieval: --gain must be cranfield or binary");
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;

  std::string docs_text, queries_text, qrels_text;
  for (auto [path, out] :
       {std::pair{&docs_path, &docs_text}, std::pair{&queries_path, &queries_text},
        std::pair{&qrels_path, &qrels_text}}) {
    if (!ReadFile(*path, *out)) return Fail(kExitFailure, "cannot read " + *path);
  }
  Result<std::vector<ranking::SmartRecord>> docs = ranking::ParseSmart(docs_text);
  if (!docs.ok()) return Fail(kExitFailure, docs_path + ": " + docs.status().message());
  Result<std::vector<ranking::SmartRecord>> queries = ranking::ParseSmart(queries_text);
  if (!queries.ok()) return Fail(kExitFailure, queries_path + ": " + queries.status().message());
  Result<ranking::Qrels> qrels =
      ranking::ParseQrels(qrels_text, gain == "binary" ? ranking::GainScheme::kBinary
                                                       : ranking::GainScheme::kCranfield);
  if (!qrels.ok()) return Fail(kExitFailure, qrels_path + ": " + qrels.status().message());
  // A principled split for tuning: choose settings on the odd queries, report the even ones.
  const std::string subset = ctx.flags.Get("subset", "all");
  if (subset != "all" && subset != "odd" && subset != "even")
    return Fail(kExitUsage, "eval retrieval: --subset must be all, odd or even");
  if (subset != "all")
    std::erase_if(*qrels, [&](const auto& kv) { return (kv.first % 2 == 1) != (subset == "odd"); });

  Result<std::unique_ptr<retrieval::Embedder>> embedder = retrieval::CreateEmbedder(*config);
  if (!embedder.ok()) return Fail(kExitFailure, embedder.status().message());

  std::error_code ec;
  const fs::path tmp =
      fs::temp_directory_path() /
      ("lumen-eval-" + std::to_string(::getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(tmp, ec);
  if (ec) return Fail(kExitFailure, "cannot create " + tmp.string() + ": " + ec.message());
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<ranking::EvalRun>> runs = ranking::EvaluateRetrieval(
      *docs, *queries, *qrels, tmp.string(), embedder->get(),
      ranking::StoreOptionsFromConfig(*config), ranking::HybridOptionsFromConfig(*config));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove_all(tmp, ec);
  if (!runs.ok()) return Fail(kExitFailure, runs.status().message());

  if (ctx.flags.Has("json")) {
    nlohmann::json out = {{"documents", docs->size()},
                          {"queries", runs->empty() ? 0 : runs->front().figures.queries},
                          {"gain", gain},
                          {"seconds", seconds},
                          {"methods", nlohmann::json::object()}};
    for (const ranking::EvalRun& r : *runs) {
      out["methods"][std::string(ranking::RetrievalModeName(r.mode))] = {
          {"ndcg@10", r.figures.ndcg_at_10},
          {"map@100", r.figures.map_at_100},
          {"recall@100", r.figures.recall_at_100}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("documents %zu, queries with relevant documents %d, gain %s (%.1f s)\n", docs->size(),
              runs->empty() ? 0 : runs->front().figures.queries, gain.c_str(), seconds);
  std::printf("%-8s %9s %9s %11s\n", "method", "nDCG@10", "MAP@100", "recall@100");
  for (const ranking::EvalRun& r : *runs) {
    std::printf("%-8s %9.4f %9.4f %11.4f\n",
                std::string(ranking::RetrievalModeName(r.mode)).c_str(), r.figures.ndcg_at_10,
                r.figures.map_at_100, r.figures.recall_at_100);
  }
  return kExitOk;
}

}  // namespace

Subcommand EvalRetrievalSubcommand() {
  return {
      .name = "retrieval",
      .summary =
          "nDCG@10, MAP@100 and recall@100 of bm25, dense and hybrid retrieval on a "
          "SMART-format collection",
      .arguments = "",
      .flags = {{.name = "docs", .value_name = "FILE", .help = "documents (.I/.T/.W records)"},
                {.name = "queries", .value_name = "FILE", .help = "queries (SMART format)"},
                {.name = "qrels",
                 .value_name = "FILE",
                 .help = "judgments: QUERY-POSITION DOC-ID [CODE] per line"},
                {.name = "gain",
                 .value_name = "cranfield|binary",
                 .help = "cranfield: codes 1/2/3 give gains 3/2/1 (default); binary: listed = 1"},
                {.name = "subset",
                 .value_name = "all|odd|even",
                 .help = "score only the odd or even queries (tune on one half, report the other)"},
                {.name = "json", .value_name = "", .help = "print the figures as JSON"}},
      .run = Run};
}

}  // namespace lumen::cli
