// Tokenizer encode throughput, one thread, with the real Qwen3 tokenizer:
//   English prose: the 91 article bodies of ../shared/eval/extraction/ground-truth.json (in key
//                  order), one Encode call per article;
//   Chinese text:  bench/llm/chinese.txt, one Encode call per paragraph.
// Each corpus is encoded repeatedly for --seconds (default 3) of this thread's CPU time.
// bench/llm/tokenizer_bench.js runs the JavaScript reference (@lenml/tokenizers) on the same input
// for comparison.
//
//   build/bench/llm/tokenizer_bench [--seconds S]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "llm/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of this thread: the figure is per core even on a busy machine.
double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Run(const lumen::llm::Tokenizer& tok, const char* name, const std::vector<std::string>& docs,
         double seconds) {
  size_t bytes = 0;
  for (const std::string& d : docs) bytes += d.size();
  size_t tokens = 0, rounds = 0;
  std::vector<int32_t> ids;
  const double start = ThreadSeconds();
  double elapsed = 0;
  do {
    tokens = 0;
    for (const std::string& d : docs) {
      ids.clear();
      tok.EncodeTo(d, ids);
      tokens += ids.size();
    }
    ++rounds;
    elapsed = ThreadSeconds() - start;
  } while (elapsed < seconds);
  const double mb = static_cast<double>(bytes) * static_cast<double>(rounds) / 1e6;
  std::printf("%-8s %6zu docs %9zu bytes %8zu tokens (%.2f bytes/token)  %7.1f MB/s per core\n",
              name, docs.size(), bytes, tokens, static_cast<double>(bytes) / tokens, mb / elapsed);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
  }
  const auto dir = lumen::llm::CachedQwen3TokenizerDir();
  if (!dir.ok()) {
    std::fprintf(stderr, "%s\n", dir.status().ToString().c_str());
    return 1;
  }
  const auto t0 = Clock::now();
  auto tok = lumen::llm::Tokenizer::Load(*dir);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    return 1;
  }
  std::printf("load tokenizer.json: %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t0).count());

  const std::string src = LUMEN_SOURCE_DIR;
  const std::string truth_path = src + "/../shared/eval/extraction/ground-truth.json";
  std::vector<std::string> english;
  try {
    const auto truth = nlohmann::json::parse(ReadFile(truth_path));
    for (const auto& [id, page] : truth.items()) english.push_back(page["articleBody"]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot read %s: %s\n", truth_path.c_str(), e.what());
    return 1;
  }
  std::vector<std::string> chinese;
  const std::string zh = ReadFile(src + "/bench/llm/chinese.txt");
  for (size_t start = 0; start < zh.size();) {
    size_t end = zh.find("\n\n", start);
    if (end == std::string::npos) end = zh.size();
    chinese.push_back(zh.substr(start, end - start));
    start = end + 2;
  }
  Run(*tok, "english", english, seconds);
  Run(*tok, "chinese", chinese, seconds);
  std::printf("reproduce: build/bench/llm/tokenizer_bench --seconds %g\n", seconds);
  std::printf("reference: node bench/llm/tokenizer_bench.js %g\n", seconds);
  return 0;
}
