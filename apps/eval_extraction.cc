// lumen eval extraction: the extractor against the extraction benchmark (pages + ground truth),
// with the benchmark's own metric (retrieval/extraction_metric.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/eval.h"
#include "retrieval/charset.h"
#include "retrieval/extraction_metric.h"
#include "retrieval/extractor.h"
#include "retrieval/html_file.h"

namespace lumen::cli {
namespace {

namespace fs = std::filesystem;
using retrieval::ShingleMatch;

int Run(CommandContext& ctx) {
  const std::string pages = ctx.flags.Get("pages");
  const std::string truth_path = ctx.flags.Get("truth");
  if (pages.empty() || truth_path.empty()) {
    return Fail(kExitUsage, "eval extraction: --pages DIR and --truth FILE are required");
  }
  Result<long long> worst = ctx.flags.GetInt("worst", 0);
  if (!worst.ok()) return Fail(kExitUsage, worst.status().message());
  std::ifstream in(truth_path);
  if (!in) return Fail(kExitFailure, "cannot read " + truth_path);
  nlohmann::json truth = nlohmann::json::parse(in, nullptr, false);
  if (truth.is_discarded() || !truth.is_object()) {
    return Fail(kExitFailure, truth_path + ": not a JSON object of {id: {\"articleBody\": ...}}");
  }
  std::error_code ec;
  if (!fs::is_directory(pages, ec)) return Fail(kExitFailure, "not a folder: " + pages);

  nlohmann::json predictions = nlohmann::json::object();
  std::vector<ShingleMatch> matches;
  std::vector<std::pair<double, std::string>> per_page;
  std::size_t bytes = 0;
  double seconds = 0;
  int missing = 0;
  for (const auto& [id, entry] : truth.items()) {
    const std::string path = (fs::path(pages) / (id + ".html.gz")).string();
    std::string predicted;
    Result<std::string> raw = retrieval::ReadPageFile(path);
    if (!raw.ok()) {
      ++missing;
      std::cerr << "lumen: " << raw.status().message() << "\n";
    } else {
      const std::string html = retrieval::DecodeToUtf8(*raw, "");
      const std::string url = entry.value("url", "");
      const auto start = std::chrono::steady_clock::now();
      retrieval::ExtractOptions options;
      options.collect_links = false;
      Result<retrieval::ExtractedPage> page = retrieval::ExtractPage(html, url, options);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bytes += raw->size();
      if (page.ok()) predicted = page->text;
    }
    const std::string true_text = entry.contains("articleBody") && entry["articleBody"].is_string()
                                      ? entry["articleBody"].get<std::string>()
                                      : "";
    const ShingleMatch m = retrieval::MatchShingles(true_text, predicted);
    matches.push_back(m);
    const double p = retrieval::DocumentPrecision(m), r = retrieval::DocumentRecall(m);
    per_page.push_back({p + r > 0 ? 2 * p * r / (p + r) : 0.0, id});
    predictions[id] = {{"articleBody", predicted}};
  }
  const retrieval::ExtractionScore score = retrieval::ScoreExtraction(matches);
  std::printf("documents %d\nprecision %.4f\nrecall    %.4f\nf1        %.4f\n", score.documents,
              score.precision, score.recall, score.f1);
  std::printf("extraction %.1f MB/s (%zu bytes in %.3f s, one thread)\n",
              seconds > 0 ? bytes / seconds / 1e6 : 0.0, bytes, seconds);
  if (*worst > 0) {
    std::sort(per_page.begin(), per_page.end());
    for (long long i = 0; i < *worst && i < static_cast<long long>(per_page.size()); ++i) {
      const auto& m = matches[0];
      (void)m;
      std::printf("worst %.3f %s\n", per_page[i].first, per_page[i].second.c_str());
    }
  }
  if (ctx.flags.Has("predictions")) {
    std::ofstream out(ctx.flags.Get("predictions"));
    out << predictions.dump(1) << "\n";
    if (!out) return Fail(kExitFailure, "cannot write " + ctx.flags.Get("predictions"));
  }
  if (missing > 0) return Fail(kExitFailure, std::to_string(missing) + " pages could not be read");
  return kExitOk;
}

}  // namespace

Subcommand EvalExtractionSubcommand() {
  return {.name = "extraction",
          .summary = "Score main-content extraction on a benchmark (F1, precision, recall)",
          .arguments = "",
          .flags = {{"pages", "DIR", "folder of <id>.html.gz pages"},
                    {"truth", "FILE", "ground truth JSON: {id: {\"articleBody\": text}}"},
                    {"predictions", "OUT.json", "write {id: {\"articleBody\": text}} here"},
                    {"worst", "N", "also list the N pages with the lowest F1"}},
          .run = Run};
}

}  // namespace lumen::cli
