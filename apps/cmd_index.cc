// lumen index: embed stored passages and build (or bring up to date) the vector index.
#include <cstdio>

#include "apps/commands.h"
#include "apps/crawl_support.h"
#include "ranking/hybrid.h"
#include "retrieval/indexer.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  if (!ctx.flags.positionals().empty())
    return Fail(kExitUsage, "index takes no arguments (see lumen index --help)");
  const std::string data_dir = Config::ExpandHome(config->GetString("data_dir"));
  auto store = retrieval::Store::Open(data_dir, ranking::StoreOptionsFromConfig(*config));
  if (!store.ok()) return Fail(kExitFailure, store.status().message());
  auto embedder = retrieval::CreateEmbedder(*config);
  if (!embedder.ok()) {
    return Fail(
        embedder.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure,
        embedder.status().message());
  }
  const retrieval::IndexerOptions options =
      IndexerOptionsFromConfig(*config, ctx.flags.Has("rebuild"));
  auto report = retrieval::UpdateVectorIndex(**store, **embedder, data_dir, options);
  EndProgressLine();
  if (!report.ok()) return Fail(kExitFailure, report.status().message());
  std::printf("%s %s: %lld added, %lld removed, %lld vectors (%s, %s) in %.1f s\n",
              report->rebuilt ? "rebuilt" : "updated", retrieval::VectorIndexPath(data_dir).c_str(),
              static_cast<long long>(report->added), static_cast<long long>(report->removed),
              static_cast<long long>(report->total), (*embedder)->name().c_str(),
              options.factory.c_str(), report->seconds);
  if (const std::string advice = retrieval::IndexChoiceAdvice(options.factory, report->total);
      !advice.empty())
    std::fprintf(stderr, "%s\n", advice.c_str());
  return kExitOk;
}

}  // namespace

Command IndexCommand() {
  return {.name = "index",
          .summary = "Embed stored passages and build the vector index",
          .arguments = "",
          .details =
              "Brings <data_dir>/vectors.faiss up to date with the store: passages added or "
              "removed since the last run are embedded or dropped. --rebuild refits the "
              "embedder's corpus statistics and rebuilds from scratch (needed after "
              "changing index.embedder or index.factory).",
          .flags = {{.name = "rebuild", .value_name = "", .help = "rebuild from scratch"}},
          .run = Run};
}

}  // namespace lumen::cli
