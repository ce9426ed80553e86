// lumen ask: answer a question from the command line. The answer streams to stdout as it is
// written (by the configured model backend, else extractively), followed by its numbered
// sources and the citation check (ALCE citation recall and precision); --json prints all of it
// as one object instead. With --retrieval-only it prints the ranked passages (URL, heading,
// score and each signal's contribution) and the numbered sources an answer would cite.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/live_search_flags.h"
#include "llm/answer/answer_writer.h"
#include "ranking/searcher.h"
#include "ranking/sources.h"
#include "retrieval/live_search.h"
#include "web/search_stack.h"

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

// The answer to `question` from the ranked passages: the configured backend's (or an extractive
// one), streamed to stdout unless --json, then the sources and the citation check.
int WriteAnswer(const CommandContext& ctx, const Config& config, const std::string& question,
                const std::vector<ranking::RankedPassage>& ranked) {
  Result<std::unique_ptr<answer::ModelBackend>> backend = web::BackendFromConfig(config);
  if (!backend.ok()) {
    if (backend.status().code() == StatusCode::kInvalidArgument) {
      return Fail(kExitUsage, "configuration error: " + backend.status().message());
    }
    return Fail(kExitFailure, "cannot load the model: " + backend.status().ToString());
  }
  const int max_sources = static_cast<int>(config.GetInt("search.max_sources"));
  answer::AnswerRequest request;
  request.question = question;
  request.deadline = Deadline::AfterMs(config.GetInt("search.deadline_ms"));
  for (const ranking::Source& chosen : ranking::SelectSources(
           ranked, static_cast<int>(config.GetInt("ranking.source_token_budget")), max_sources)) {
    answer::Source s{.n = chosen.number,
                     .url = chosen.url,
                     .title = chosen.title,
                     .heading_path = chosen.heading_path,
                     .text = chosen.text,
                     .passage_id = chosen.passage_id};
    for (const ranking::RankedPassage& p : ranked) {
      if (p.view.id != chosen.passage_id) continue;
      s.site = p.view.site;
      s.published = p.view.published;
    }
    request.sources.push_back(std::move(s));
  }
  const bool json = ctx.flags.Has("json");
  if (!json) {
    request.on_delta = [](std::string_view delta) {
      std::fwrite(delta.data(), 1, delta.size(), stdout);
      std::fflush(stdout);
      return true;
    };
  }
  const answer::AnswerWriter writer(
      backend->get(),
      {.max_tokens = static_cast<int>(config.GetInt("answer.max_tokens")),
       .max_source_chars = static_cast<int>(config.GetInt("search.max_source_chars"))});
  const answer::Answer a = writer.Write(request);
  const answer::AnswerCheck& check = a.check;

  if (json) {
    nlohmann::json out = {{"question", question},
                          {"answer", a.text},
                          {"mode", a.mode},
                          {"backend", a.backend},
                          {"fallback_reason", a.fallback_reason},
                          {"sources", nlohmann::json::array()},
                          {"sentences", nlohmann::json::array()},
                          {"citation_recall", check.citation_recall},
                          {"citation_precision", check.citation_precision},
                          {"citations", check.citations},
                          {"supported_citations", check.supported_citations},
                          {"invalid_citations", check.invalid_citations},
                          {"related", a.related},
                          {"time_to_first_token_ms", a.time_to_first_token_ms},
                          {"total_ms", a.total_ms}};
    for (const answer::Source& s : request.sources) {
      out["sources"].push_back({{"n", s.n},
                                {"url", s.url},
                                {"title", s.title},
                                {"heading", s.heading_path},
                                {"passage_id", s.passage_id}});
    }
    for (const answer::SentenceCheck& sc : check.sentences) {
      nlohmann::json cited = nlohmann::json::array();
      for (const answer::CitationCheck& c : sc.citations) {
        cited.push_back({{"n", c.n}, {"supported", c.supported}, {"score", c.score}});
      }
      out["sentences"].push_back({{"text", sc.text},
                                  {"supported", sc.supported},
                                  {"citations", cited},
                                  {"invalid", sc.invalid}});
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::printf("\n\n");
  if (!request.sources.empty()) std::printf("Sources:\n");
  for (const answer::Source& s : request.sources) {
    std::printf("[%d] %s\n    %s\n", s.n, s.title.empty() ? "(untitled)" : s.title.c_str(),
                s.url.c_str());
  }
  std::printf("\nmode: %s%s%s\n", a.mode.c_str(), a.backend.empty() ? "" : ", backend ",
              a.backend.c_str());
  if (!a.fallback_reason.empty()) {
    std::printf("fallback: %s\n", a.fallback_reason.c_str());
  }
  std::printf(
      "citation recall %.2f, citation precision %.2f (%d of %d citations supported, %d "
      "invalid)\n",
      check.citation_recall, check.citation_precision, check.supported_citations, check.citations,
      check.invalid_citations);
  std::printf("time to first token %.1f ms, total %.1f ms\n", a.time_to_first_token_ms, a.total_ms);
  for (const std::string& r : a.related) std::printf("related: %s\n", r.c_str());
  return kExitOk;
}

int Run(CommandContext& ctx) {
  const auto& args = ctx.flags.positionals();
  if (args.size() != 1)
    return Fail(kExitUsage, "ask needs exactly one question in quotes: lumen ask \"QUESTION\"");
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
  if (!ctx.flags.Has("retrieval-only")) return WriteAnswer(ctx, *config, question, *ranked);
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
                "Prints the answer as it is written (answer.backend: a local or remote "
                "model, else an extractive answer), then its numbered sources, the mode, "
                "citation recall and precision, and the time to the first token. "
                "--retrieval-only prints the ranked passages with URL, heading, score and each "
                "signal (bm25, dense, feedback, rerank features), then the numbered sources an "
                "answer would cite.",
            .flags = {{.name = "retrieval-only",
                       .value_name = "",
                       .help = "print ranked passages, not an answer"},
                      {.name = "json", .value_name = "", .help = "print JSON"},
                      {.name = "k", .value_name = "N", .help = "passages to rank (default 10)"}},
            .run = Run};
  for (FlagSpec& f : LiveSearchFlagSpecs()) c.flags.push_back(std::move(f));
  return c;
}

}  // namespace lumen::cli
