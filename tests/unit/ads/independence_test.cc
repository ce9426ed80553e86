// Item 7 of the ads issue, the part that holds without the answer pipeline: the ads module is
// built from core alone, and nothing on the answer path includes it. (The end-to-end check —
// the same questions answered with ads on and off give identical answers and citations — needs
// the web query service and lands with it.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

// The quoted targets of #include lines (a hand parser: std::regex trips GCC 12's
// maybe-uninitialized warning in the sanitizer build).
std::vector<std::string> Includes(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line[i] != '#') continue;
    i = line.find_first_not_of(" \t", i + 1);
    if (i == std::string::npos || line.compare(i, 7, "include") != 0) continue;
    const std::size_t open = line.find('"', i + 7);
    const std::size_t close = open == std::string::npos ? open : line.find('"', open + 1);
    if (close != std::string::npos) out.push_back(line.substr(open + 1, close - open - 1));
  }
  return out;
}

std::vector<fs::path> Sources(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".h" || ext == ".cc" || ext == ".cu" || ext == ".cuh") out.push_back(e.path());
  }
  return out;
}

TEST(AdsIndependence, AdsIncludesOnlyCoreAndItself) {
  const fs::path root = LUMEN_SOURCE_DIR;
  const std::vector<fs::path> files = Sources(root / "ads");
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    for (const std::string& inc : Includes(f)) {
      EXPECT_TRUE(inc.rfind("ads/", 0) == 0 || inc.rfind("core/", 0) == 0)
          << f << " includes " << inc;
    }
  }
}

TEST(AdsIndependence, TheAnswerPathNeverIncludesAds) {
  const fs::path root = LUMEN_SOURCE_DIR;
  for (const char* module : {"retrieval", "ranking", "llm"}) {
    for (const fs::path& f : Sources(root / module)) {
      for (const std::string& inc : Includes(f)) {
        EXPECT_NE(inc.rfind("ads/", 0), 0u) << f << " includes " << inc;
      }
    }
  }
}

TEST(AdsIndependence, TheServingApiTakesOnlyTheQuestionAndRequestContext) {
  // The header is the contract: Serve() sees the question text and the request context, and
  // RequestContext carries no field for the prompt, the sources or the answer.
  std::ifstream in(fs::path(LUMEN_SOURCE_DIR) / "ads" / "ad_server.h");
  std::stringstream text;
  text << in.rdbuf();
  const std::string h = text.str();
  EXPECT_NE(h.find("ServeResult Serve(std::string_view question, const RequestContext& context);"),
            std::string::npos);
  const std::size_t begin = h.find("struct RequestContext {");
  const std::size_t end = h.find("};", begin);
  ASSERT_NE(begin, std::string::npos);
  const std::string ctx = h.substr(begin, end - begin);
  for (const char* forbidden : {"answer", "prompt", "passage", "citation", "source"}) {
    EXPECT_EQ(ctx.find(forbidden), std::string::npos) << forbidden;
  }
}

}  // namespace
