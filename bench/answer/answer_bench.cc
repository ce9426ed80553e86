// bench_answer: the answer stage alone — time to first token and total answer time for
// extractive answers and for a model through the local backend, and the citation figures
// (ALCE citation recall and precision, invalid citations) over a small evaluation set whose
// questions come with the numbered sources retrieval would hand over
// (tests/fixtures/answer/citation_eval.json).
//
//   bench_answer [--eval FILE] [--model DIR] [--reps 5] [--max-tokens 64] [--threads 2]
//
// Without --model a tiny random Qwen3-MoE model (`lumen model make-tiny`'s default shapes, with
// the real Qwen3 tokenizer from the asset cache) is written to a temporary folder: its text is
// gibberish, so its citation figures only show that the pipeline runs and that no invalid
// citation gets through; its times show the cost of the answer machinery around a model
// (prompt rendering and tokenizing, prefill of a ~400-token prompt, decoding with the
// citation mask, citation checking). Prints the figures and the command that produced them.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "llm/answer/answer_writer.h"
#include "llm/answer/citation_mask.h"
#include "llm/answer/local_backend.h"
#include "llm/tiny_model.h"
#include "llm/tokenizer.h"

namespace {

using namespace lumen;
using namespace lumen::answer;
namespace fs = std::filesystem;

struct EvalQuestion {
  std::string question;
  bool answerable = true;
  SourceList sources;
};

Result<std::vector<EvalQuestion>> LoadEval(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("questions") || !j["questions"].is_array()) {
    return Corruption(path + ": expected {\"questions\": [...]}");
  }
  std::vector<EvalQuestion> out;
  for (const nlohmann::json& q : j["questions"]) {
    EvalQuestion e;
    e.question = q.value("question", "");
    e.answerable = q.value("answerable", true);
    int n = 0;
    for (const nlohmann::json& s : q.value("sources", nlohmann::json::array())) {
      e.sources.push_back({.n = ++n,
                           .url = s.value("url", ""),
                           .title = s.value("title", ""),
                           .text = s.value("text", "")});
    }
    if (e.question.empty() || e.sources.empty()) {
      return Corruption(path + ": question " + std::to_string(out.size() + 1) +
                        " needs a question and sources");
    }
    out.push_back(std::move(e));
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Figures {
  std::vector<double> ttft_ms, total_ms;
  double recall = 0, precision = 0;  // means over answerable questions
  int citations = 0, invalid = 0, fallbacks = 0, no_answer_said = 0, unanswerable = 0;
  int answered = 0;
};

Figures Measure(const AnswerWriter& writer, const std::vector<EvalQuestion>& eval, int reps,
                const AnswerOptions& options) {
  Figures f;
  int counted = 0;
  for (int r = 0; r < reps; ++r) {
    for (const EvalQuestion& q : eval) {
      std::string streamed;
      const Answer a = writer.Write(
          {.question = q.question, .sources = q.sources, .on_delta = [&](std::string_view d) {
             streamed += d;
             return true;
           }});
      f.ttft_ms.push_back(a.time_to_first_token_ms);
      f.total_ms.push_back(a.total_ms);
      if (r > 0) continue;  // citation figures from the first round
      if (!a.fallback_reason.empty()) ++f.fallbacks;
      f.citations += a.check.citations;
      f.invalid += a.check.invalid_citations;
      if (!q.answerable) {
        ++f.unanswerable;
        if (a.text == options.no_answer_text) ++f.no_answer_said;
        continue;
      }
      ++counted;
      f.recall += a.check.citation_recall;
      f.precision += a.check.citation_precision;
    }
  }
  f.answered = counted;
  if (counted > 0) {
    f.recall /= counted;
    f.precision /= counted;
  }
  return f;
}

void Print(const char* what, const Figures& f) {
  std::printf(
      "%-28s ttft p50 %8.2f ms  p90 %8.2f ms | total p50 %8.2f ms  p90 %8.2f ms | citation "
      "recall %.3f precision %.3f over %d answerable | %d citations, %d invalid | "
      "no-answer said %d/%d | fallbacks %d\n",
      what, Percentile(f.ttft_ms, 0.5), Percentile(f.ttft_ms, 0.9), Percentile(f.total_ms, 0.5),
      Percentile(f.total_ms, 0.9), f.recall, f.precision, f.answered, f.citations, f.invalid,
      f.no_answer_said, f.unanswerable, f.fallbacks);
}

int Main(int argc, char** argv) {
  std::string eval_path = LUMEN_SOURCE_DIR "/tests/fixtures/answer/citation_eval.json";
  std::string model_dir;
  int reps = 5, max_tokens = 64, threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_answer: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--eval") {
      eval_path = next();
    } else if (a == "--model") {
      model_dir = next();
    } else if (a == "--reps") {
      reps = std::atoi(next().c_str());
    } else if (a == "--max-tokens") {
      max_tokens = std::atoi(next().c_str());
    } else if (a == "--threads") {
      threads = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr,
                   "usage: bench_answer [--eval FILE] [--model DIR] [--reps N] [--max-tokens N] "
                   "[--threads N]\n");
      return 2;
    }
  }
  if (reps < 1 || max_tokens < 1 || threads < 0) {
    std::fprintf(stderr, "bench_answer: --reps and --max-tokens must be >= 1\n");
    return 2;
  }
  Result<std::vector<EvalQuestion>> eval = LoadEval(eval_path);
  if (!eval.ok()) {
    std::fprintf(stderr, "bench_answer: %s\n", eval.status().ToString().c_str());
    return 1;
  }
  std::printf("bench_answer: %zu questions from %s, %d rounds\n", eval->size(), eval_path.c_str(),
              reps);

  const AnswerOptions options{.max_tokens = max_tokens};
  Print("extractive", Measure(AnswerWriter(nullptr, options), *eval, reps, options));

  fs::path temp;
  if (model_dir.empty()) {
    Result<std::string> tokenizer = llm::CachedQwen3TokenizerDir();
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "bench_answer: %s\n", tokenizer.status().message().c_str());
      return 1;
    }
    temp = fs::temp_directory_path() / ("lumen_bench_answer_" + std::to_string(::getpid()));
    llm::TinyModelSpec spec;  // `lumen model make-tiny` defaults
    spec.tokenizer_dir = *tokenizer;
    if (Status s = llm::WriteTinyModel(temp.string(), spec); !s.ok()) {
      std::fprintf(stderr, "bench_answer: %s\n", s.ToString().c_str());
      return 1;
    }
    model_dir = temp.string();
  }
  {
    // The citation mask alone: one MaskLogits call per generated token, over the model's logits,
    // outside a marker (a few hundred bracket tokens refused) and inside one (all but a few
    // allowed tokens refused).
    Result<llm::Tokenizer> tok = llm::Tokenizer::Load(model_dir);
    if (!tok.ok()) {
      std::fprintf(stderr, "bench_answer: %s\n", tok.status().ToString().c_str());
      return 1;
    }
    const int vocab = 151936;
    const auto t_build = std::chrono::steady_clock::now();
    auto cvocab = CitationVocabulary::Build(*tok, vocab);
    const double build_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_build)
            .count();
    std::vector<float> logits(static_cast<std::size_t>(vocab), 0.5f);
    for (const char* where : {"prose", "marker"}) {
      CitationMask mask(cvocab, 6);
      if (std::string_view(where) == "marker") mask.Accept(tok->Encode(" [")[0]);
      mask.MaskLogits(logits);  // fills the state's cache
      const int steps = 2000;
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) mask.MaskLogits(logits);
      const double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
          steps;
      std::printf(
          "citation mask, %-6s        %8.1f us per token (vocabulary of %d; built once in "
          "%.0f ms)\n",
          where, us, vocab, build_ms);
    }
  }
  for (bool constrain : {true, false}) {
    LocalBackendOptions o{.model_dir = model_dir, .constrain_citations = constrain};
    o.engine.threads = threads;
    Result<std::unique_ptr<LocalBackend>> backend = LocalBackend::Open(o);
    if (!backend.ok()) {
      std::fprintf(stderr, "bench_answer: %s\n", backend.status().ToString().c_str());
      return 1;
    }
    if (constrain) std::printf("model: %s\n", (*backend)->name().c_str());
    const Figures f = Measure(AnswerWriter(backend->get(), options), *eval, reps, options);
    Print(constrain ? "local model, citation mask" : "local model, no mask", f);
  }
  if (!temp.empty()) fs::remove_all(temp);
  std::printf("command: bench_answer --reps %d --max-tokens %d --threads %d%s%s\n", reps,
              max_tokens, threads, model_dir == temp.string() ? "" : " --model ",
              model_dir == temp.string() ? "" : model_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return Main(argc, argv);
}
