// lumen eval answers: end-to-end answer quality on an evaluation set of questions, each with the
// page(s) that answer it, through the same query service the server uses (retrieval, ranking,
// answer writer, citation checking) over the configured data dir.
//
// Figures: recall@1 and recall@5 of an answering page among the answer's sources (in source
// order, one entry per page) and among the sources its sentences cite; the ALCE citation recall
// and precision averaged over answers; the share of questions answered; latency p50/p95.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/eval.h"
#include "retrieval/url.h"
#include "web/query_service.h"
#include "web/search_stack.h"

namespace lumen::cli {
namespace {

struct EvalQuestion {
  std::string query;
  std::vector<std::string> pages;  // paths relative to the site root, e.g. "library/csv.html"
};

Result<std::vector<EvalQuestion>> ReadQuestions(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::vector<EvalQuestion> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const auto where = path + ":" + std::to_string(n);
    if (!j.is_object() || !j.contains("q") || !j["q"].is_string() || !j.contains("pages") ||
        !j["pages"].is_array() || j["pages"].empty()) {
      return InvalidArgument(where +
                             ": expected {\"q\": \"question\", \"pages\": [\"path\", ...]}");
    }
    EvalQuestion q{j["q"].get<std::string>(), {}};
    for (const auto& p : j["pages"]) {
      if (!p.is_string()) return InvalidArgument(where + ": pages must be strings");
      q.pages.push_back(p.get<std::string>());
    }
    out.push_back(std::move(q));
  }
  if (out.empty()) return InvalidArgument(path + ": no questions");
  return out;
}

// The URL's path without its query: "http://h:1/library/csv.html?x#y" -> "/library/csv.html".
std::string UrlPath(const std::string& url) {
  Result<retrieval::UrlParts> parts = retrieval::SplitUrl(url);
  if (!parts.ok()) return url;
  return parts->path.substr(0, parts->path.find('?'));
}

bool IsAnsweringPage(const std::string& url, const std::vector<std::string>& pages) {
  const std::string path = UrlPath(url);
  return std::any_of(pages.begin(), pages.end(), [&](const std::string& p) {
    const std::string suffix = "/" + p;
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

// 1-based rank of the first answering page among `urls` counted one per distinct page; 0 = none.
int FirstAnsweringRank(const std::vector<std::string>& urls,
                       const std::vector<std::string>& pages) {
  std::vector<std::string> seen;
  for (const std::string& url : urls) {
    const std::string path = UrlPath(url);
    if (std::find(seen.begin(), seen.end(), path) != seen.end()) continue;
    seen.push_back(path);
    if (IsAnsweringPage(url, pages)) return static_cast<int>(seen.size());
  }
  return 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

int Run(CommandContext& ctx) {
  const std::string questions_path = ctx.flags.Get("questions");
  if (questions_path.empty())
    return Fail(kExitUsage, "eval answers: --questions FILE is required (JSON lines)");
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  Result<std::vector<EvalQuestion>> questions = ReadQuestions(questions_path);
  if (!questions.ok()) {
    return Fail(questions.status().code() == StatusCode::kNotFound ? kExitFailure : kExitUsage,
                "eval answers: " + questions.status().message());
  }
  Result<web::QueryServiceOptions> options = web::QueryServiceOptions::FromConfig(*config);
  if (!options.ok()) return Fail(kExitUsage, "configuration error: " + options.status().message());
  options->cache_entries = 0;  // every question answered afresh
  Logger log = CommandContext::MakeLogger(*config);
  Result<web::SearchStack> stack = web::SearchStack::Open(*config, log);
  if (!stack.ok()) return Fail(kExitFailure, "eval answers: " + stack.status().message());
  if (!stack->retriever) {
    return Fail(
        kExitFailure,
        "eval answers: nothing has been crawled into " + config->GetString("data_dir") +
            " (for the demo corpus: --data-dir ~/.local/share/lumen/demo after lumen demo)");
  }
  web::QueryService service(*options, stack->retriever, stack->backend.get(), nullptr, log);

  const bool verbose = ctx.flags.Has("verbose");
  int source_at1 = 0, source_at5 = 0, cited_at1 = 0, cited_at5 = 0, answered = 0;
  double recall_sum = 0, precision_sum = 0, on_page_sum = 0;
  std::vector<double> latencies;
  nlohmann::json per_question = nlohmann::json::array();
  for (const EvalQuestion& q : *questions) {
    web::SearchRequest request;
    request.query = q.query;
    Result<web::SearchResponse> response = service.Search(request);
    if (!response.ok()) {
      return Fail(kExitFailure,
                  "eval answers: \"" + q.query + "\": " + response.status().message());
    }
    const web::SearchResult& r = *response->result;
    std::vector<std::string> source_urls, cited_urls;
    for (const web::ShownSource& s : r.sources) source_urls.push_back(s.source.url);
    std::set<int> cited;
    for (const auto& sentence : r.answer.sentences)
      cited.insert(sentence.cited.begin(), sentence.cited.end());
    for (const web::ShownSource& s : r.sources) {
      if (cited.count(s.source.n)) cited_urls.push_back(s.source.url);
    }
    // Share of the answer's sentences that cite an answering page: sentences that cite only
    // other pages are at best background, at worst off the point.
    int on_page = 0, cited_sentences = 0;
    for (const auto& sentence : r.answer.sentences) {
      if (sentence.cited.empty()) continue;
      ++cited_sentences;
      on_page += std::any_of(sentence.cited.begin(), sentence.cited.end(), [&](int n) {
        return std::any_of(r.sources.begin(), r.sources.end(), [&](const web::ShownSource& s) {
          return s.source.n == n && IsAnsweringPage(s.source.url, q.pages);
        });
      });
    }
    const double on_page_share = cited_sentences > 0 ? double(on_page) / cited_sentences : 0;
    on_page_sum += on_page_share;
    const int source_rank = FirstAnsweringRank(source_urls, q.pages);
    const int cited_rank = FirstAnsweringRank(cited_urls, q.pages);
    source_at1 += source_rank == 1;
    source_at5 += source_rank >= 1 && source_rank <= 5;
    cited_at1 += cited_rank == 1;
    cited_at5 += cited_rank >= 1 && cited_rank <= 5;
    const bool has_answer = !r.answer.sentences.empty() && !cited.empty();
    answered += has_answer;
    recall_sum += r.answer.check.citation_recall;
    precision_sum += r.answer.check.citation_precision;
    latencies.push_back(response->total_ms);
    per_question.push_back({{"query", q.query},
                            {"source_rank", source_rank},
                            {"cited_rank", cited_rank},
                            {"citation_recall", r.answer.check.citation_recall},
                            {"citation_precision", r.answer.check.citation_precision},
                            {"sentences_citing_answering_page", on_page_share},
                            {"ms", response->total_ms},
                            {"first_source", source_urls.empty() ? "" : source_urls[0]}});
    if (verbose) {
      std::printf("%-60.60s source@%d cited@%d on-page %.2f  %s\n", q.query.c_str(), source_rank,
                  cited_rank, on_page_share,
                  source_urls.empty() ? "(no sources)" : UrlPath(source_urls[0]).c_str());
    }
  }
  const double n = static_cast<double>(questions->size());
  nlohmann::json summary = {{"questions", questions->size()},
                            {"source_recall_at_1", source_at1 / n},
                            {"source_recall_at_5", source_at5 / n},
                            {"cited_recall_at_1", cited_at1 / n},
                            {"cited_recall_at_5", cited_at5 / n},
                            {"citation_recall", recall_sum / n},
                            {"citation_precision", precision_sum / n},
                            {"answered", answered / n},
                            {"sentences_citing_answering_page", on_page_sum / n},
                            {"latency_ms_p50", Percentile(latencies, 0.5)},
                            {"latency_ms_p95", Percentile(latencies, 0.95)},
                            {"mode", stack->backend ? stack->backend->name() : "extractive"}};
  if (ctx.flags.Has("json")) {
    summary["per_question"] = per_question;
    std::printf("%s\n", summary.dump(2).c_str());
    return kExitOk;
  }
  std::printf(
      "%zu questions (%s answers)\n"
      "answering page among the sources:        recall@1 %.3f  recall@5 %.3f\n"
      "answering page among the cited sources:  recall@1 %.3f  recall@5 %.3f\n"
      "citation recall %.3f  citation precision %.3f  answered %.3f\n"
      "answer sentences citing an answering page %.3f\n"
      "latency p50 %.1f ms  p95 %.1f ms (in process, no cache)\n",
      questions->size(), summary["mode"].get<std::string>().c_str(), source_at1 / n, source_at5 / n,
      cited_at1 / n, cited_at5 / n, recall_sum / n, precision_sum / n, answered / n,
      on_page_sum / n, Percentile(latencies, 0.5), Percentile(latencies, 0.95));
  return kExitOk;
}

}  // namespace

Subcommand EvalAnswersSubcommand() {
  // Answers each question of FILE (JSON lines: {"q": question, "pages": [paths of the pages
  // that answer it]}) over the configured data dir. The demo's set is bench/demo/questions.jsonl
  // (with --data-dir ~/.local/share/lumen/demo).
  return {.name = "answers",
          .summary = "Answer quality on questions with known answering pages (JSON lines)",
          .arguments = "",
          .flags = {{"questions", "FILE", "the evaluation set (JSON lines)"},
                    {"json", "", "print the figures and each question's result as JSON"},
                    {"verbose", "", "print one line per question"}},
          .run = Run};
}

}  // namespace lumen::cli
