// lumen ask: answer a question from the command line. With --retrieval-only it prints the ranked
// passages (URL, heading, score and each signal's contribution) and the numbered sources an
// answer would cite; the written answer belongs to the answer pipeline.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/live_search_flags.h"
#include "ranking/searcher.h"
#include "ranking/sources.h"
#include "retrieval/live_search.h"

namespace lumen::cli {
namespace {

nlohmann::json SignalsJson(const ranking::Signals& s) {
  return {{"bm25", s.bm25},       {"bm25_rank", s.bm25_rank},    {"expansion", s.expansion},
          {"dense", s.dense},     {"dense_rank", s.dense_rank},  {"fused", s.fused},
          {"title", s.title},     {"phrase", s.phrase},          {"proximity", s.proximity},
          {"quality", s.quality}, {"mmr_penalty", s.mmr_penalty}};
}

std::string Snippet(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return text.substr(0, cut) + "...";
}

int Run(CommandContext& ctx) {
  const auto& args = ctx.flags.positionals();
  if (args.size() != 1)
    return Fail(kExitUsage, "ask needs exactly one question in quotes: lumen ask \"QUESTION\"");
  if (!ctx.flags.Has("retrieval-only"))
    return Fail(kExitUsage,
                "answers are not available yet (the answer pipeline has not landed); use "
                "--retrieval-only to see the passages an answer would be built from");
  Result<long long> k = ctx.flags.GetInt("k", 10);
  if (!k.ok()) return Fail(kExitUsage, k.status().message());
  if (*k < 1 || *k > 1000) return Fail(kExitUsage, "--k must be between 1 and 1000");
  if (int rc = ApplyLiveSearchFlags(ctx); rc != kExitOk) return rc;
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  if (config->GetString("search.provider") != "none") {
    // Checked before anything is created: a bad provider setting leaves nothing on disk.
    if (auto o = retrieval::SearchProviderOptions::FromConfig(*config); !o.ok())
      return Fail(kExitUsage, "configuration error: " + o.status().message());
    // Live search stores what it reads: an empty data dir gets its store now.
    auto store = retrieval::Store::Open(Config::ExpandHome(config->GetString("data_dir")));
    if (!store.ok()) return Fail(kExitFailure, store.status().message());
  }
  auto searcher = ranking::Searcher::Open(*config);
  if (!searcher.ok()) return Fail(kExitFailure, searcher.status().message());
  if (!(*searcher)->warning.empty())
    std::fprintf(stderr, "lumen: %s\n", (*searcher)->warning.c_str());
  const std::string& question = args[0];
  auto live = retrieval::LiveSearchFromConfig(*config, *(*searcher)->store);
  if (!live.ok()) return Fail(kExitUsage, "configuration error: " + live.status().message());
  if (*live) {
    // The provider's best pages are read into the store before ranking (docs/RETRIEVAL.md).
    const retrieval::LiveSearchReport report =
        (*live)->Run(question, {}, Deadline::AfterMs(config->GetInt("search.deadline_ms")));
    for (const std::string& note : report.notes)
      std::fprintf(stderr, "lumen: search provider: %s\n", note.c_str());
    for (const retrieval::LivePage& p : report.pages)
      std::fprintf(stderr, "lumen: live page %s: %s (%.0f ms)\n", p.url.c_str(), p.outcome.c_str(),
                   p.ms);
  }
  auto ranked = (*searcher)->retriever->Search(question, static_cast<int>(*k));
  if (!ranked.ok()) return Fail(kExitFailure, ranked.status().message());
  const auto sources = ranking::SelectSources(
      *ranked, static_cast<int>(config->GetInt("ranking.source_token_budget")));

  if (ctx.flags.Has("json")) {
    nlohmann::json out = {{"question", question},
                          {"mode", (*searcher)->index ? "hybrid" : "bm25+rerank"},
                          {"results", nlohmann::json::array()},
                          {"sources", nlohmann::json::array()}};
    int rank = 0;
    for (const auto& r : *ranked) {
      out["results"].push_back({{"rank", ++rank},
                                {"passage_id", r.view.id},
                                {"url", r.view.url},
                                {"title", r.view.title},
                                {"heading", r.view.passage.heading_path},
                                {"score", r.score},
                                {"signals", SignalsJson(r.signals)},
                                {"text", r.view.passage.text}});
    }
    for (const auto& s : sources)
      out["sources"].push_back({{"number", s.number},
                                {"passage_id", s.passage_id},
                                {"url", s.url},
                                {"title", s.title},
                                {"tokens", s.tokens}});
    // Invalid UTF-8 from stored text or the question is replaced rather than thrown on.
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  if (ranked->empty()) {
    std::printf("no passages match\n");
    return kExitOk;
  }
  int rank = 0;
  for (const auto& r : *ranked) {
    const auto& s = r.signals;
    std::printf("%2d. %.4f  %s\n    %s\n", ++rank, r.score,
                r.view.title.empty() ? "(untitled)" : r.view.title.c_str(), r.view.url.c_str());
    if (!r.view.passage.heading_path.empty())
      std::printf("    under: %s\n", r.view.passage.heading_path.c_str());
    std::printf(
        "    bm25 %.3f (#%d)  dense %.3f (#%d)  feedback %.3f  fused %.3f  title %.2f  "
        "phrase %.2f  proximity %.2f  quality %.2f\n",
        s.bm25, s.bm25_rank, s.dense, s.dense_rank, s.expansion, s.fused, s.title, s.phrase,
        s.proximity, s.quality);
    std::printf("    %s\n\n", Snippet(r.view.passage.text, 240).c_str());
  }
  std::printf("sources for an answer (%s tokens budget):",
              config->Get("ranking.source_token_budget").dump().c_str());
  for (const auto& src : sources) std::printf(" [%d]", src.number);
  std::printf("\n");
  return kExitOk;
}

}  // namespace

Command AskCommand() {
  Command c{.name = "ask",
            .summary = "Answer a question from the command line, with citations",
            .arguments = "\"QUESTION\"",
            .details =
                "Only --retrieval-only is available in this build: it prints the ranked "
                "passages with URL, heading, score and each signal (bm25, dense, feedback, "
                "rerank features), then the numbered sources an answer would cite.",
            .flags = {{.name = "retrieval-only", .value_name = "", .help = "print ranked passages"},
                      {.name = "json", .value_name = "", .help = "print JSON"},
                      {.name = "k", .value_name = "N", .help = "passages to show (default 10)"}},
            .run = Run};
  for (FlagSpec& f : LiveSearchFlagSpecs()) c.flags.push_back(std::move(f));
  return c;
}

}  // namespace lumen::cli
