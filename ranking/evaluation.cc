#include "ranking/evaluation.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "retrieval/indexer.h"
#include "retrieval/store.h"

namespace lumen::ranking {
namespace {

std::string Trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

Result<std::vector<SmartRecord>> ParseSmart(std::string_view text) {
  std::vector<SmartRecord> out;
  std::string* field = nullptr;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    ++line_no;
    if (line.size() >= 2 && line[0] == '.' && std::isalpha(static_cast<unsigned char>(line[1])) &&
        (line.size() == 2 || line[2] == ' ' || line[2] == '\t')) {
      const char tag = line[1];
      if (tag == 'I') {
        const std::string id = Trim(line.substr(2));
        if (id.empty())
          return InvalidArgument("SMART line " + std::to_string(line_no) + ": .I without an id");
        out.push_back({.id = id});
        field = nullptr;
      } else if (out.empty()) {
        return InvalidArgument("SMART line " + std::to_string(line_no) + ": field before .I");
      } else if (tag == 'T') {
        field = &out.back().title;
      } else if (tag == 'W') {
        field = &out.back().text;
      } else {
        field = nullptr;  // .A, .B, ... are not used
      }
      continue;
    }
    if (out.empty()) {
      if (Trim(line).empty()) continue;
      return InvalidArgument("SMART line " + std::to_string(line_no) +
                             ": text before the first .I record");
    }
    if (field) {
      if (!field->empty()) field->push_back(' ');
      field->append(Trim(line));
    }
  }
  for (SmartRecord& r : out) {
    r.title = Trim(r.title);
    r.text = Trim(r.text);
  }
  return out;
}

Result<Qrels> ParseQrels(std::string_view text, GainScheme scheme) {
  Qrels q;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ls(line);
    std::string qs, doc, code;
    if (!(ls >> qs)) continue;  // blank
    if (!(ls >> doc))
      return InvalidArgument("qrels line " + std::to_string(line_no) + ": expected QUERY DOC");
    char* end = nullptr;
    const long qn = std::strtol(qs.c_str(), &end, 10);
    if (*end != '\0' || qn < 1)
      return InvalidArgument("qrels line " + std::to_string(line_no) + ": bad query number \"" +
                             qs + "\"");
    double gain = 1;
    if (scheme == GainScheme::kCranfield) {
      if (!(ls >> code))
        return InvalidArgument("qrels line " + std::to_string(line_no) +
                               ": --gain cranfield needs a third field (relevance code)");
      const long c = std::strtol(code.c_str(), &end, 10);
      if (*end != '\0')
        return InvalidArgument("qrels line " + std::to_string(line_no) + ": bad code \"" + code +
                               "\"");
      gain = c == 1 ? 3 : c == 2 ? 2 : c == 3 ? 1 : 0;
    }
    double& g = q[static_cast<int>(qn)][doc];
    g = std::max(g, gain);
  }
  return q;
}

double NdcgAt(const std::vector<std::string>& ranked, const std::map<std::string, double>& gains,
              int k) {
  double dcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = gains.find(ranked[i]);
    if (it != gains.end()) dcg += it->second / std::log2(i + 2.0);
  }
  std::vector<double> ideal;
  for (const auto& [doc, g] : gains) ideal.push_back(g);
  std::sort(ideal.rbegin(), ideal.rend());
  double idcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(ideal.size()); ++i)
    idcg += ideal[i] / std::log2(i + 2.0);
  return idcg > 0 ? dcg / idcg : 0;
}

double AveragePrecisionAt(const std::vector<std::string>& ranked,
                          const std::map<std::string, double>& gains, int k) {
  int relevant = 0;
  for (const auto& [doc, g] : gains) relevant += g > 0 ? 1 : 0;
  if (relevant == 0) return 0;
  double sum = 0;
  int hits = 0;
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = gains.find(ranked[i]);
    if (it != gains.end() && it->second > 0) {
      ++hits;
      sum += static_cast<double>(hits) / (i + 1);
    }
  }
  return sum / relevant;
}

double RecallAt(const std::vector<std::string>& ranked, const std::map<std::string, double>& gains,
                int k) {
  int relevant = 0;
  for (const auto& [doc, g] : gains) relevant += g > 0 ? 1 : 0;
  if (relevant == 0) return 0;
  int hits = 0;
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = gains.find(ranked[i]);
    hits += (it != gains.end() && it->second > 0) ? 1 : 0;
  }
  return static_cast<double>(hits) / relevant;
}

Result<std::vector<EvalRun>> EvaluateRetrieval(const std::vector<SmartRecord>& docs,
                                               const std::vector<SmartRecord>& queries,
                                               const Qrels& qrels, const std::string& data_dir,
                                               retrieval::Embedder* embedder,
                                               const retrieval::StoreOptions& store_options,
                                               const HybridOptions& options) {
  LUMEN_RETURN_IF_ERROR(ValidateHybridOptions(options));  // before any indexing work
  LUMEN_ASSIGN_OR_RETURN(std::unique_ptr<retrieval::Store> store,
                         retrieval::Store::Open(data_dir, store_options));
  const std::string kPrefix = "smart:";
  for (const SmartRecord& d : docs) {
    retrieval::PageRecord page{.url = kPrefix + d.id, .title = d.title, .text = d.text};
    retrieval::Passage passage{.ordinal = 0, .begin = 0, .end = d.text.size(), .text = d.text};
    const retrieval::Passage one[] = {passage};
    LUMEN_RETURN_IF_ERROR(store->UpsertPage(page, one).status());
  }
  std::unique_ptr<retrieval::VectorIndex> index;
  if (embedder) {
    LUMEN_RETURN_IF_ERROR(
        retrieval::UpdateVectorIndex(*store, *embedder, data_dir, {.rebuild = true}).status());
    LUMEN_ASSIGN_OR_RETURN(index, retrieval::OpenVectorIndex(*embedder, data_dir));
  }
  HybridOptions opts = options;
  opts.max_per_page = 0;
  std::unique_ptr<retrieval::LexicalIndex> lexical;
  if (opts.lexical == "memory") {
    LUMEN_ASSIGN_OR_RETURN(
        lexical, retrieval::LexicalIndex::Build(*store, LexicalOptions(store_options, opts)));
  }
  HybridRetriever retriever(*store, embedder, index.get(), opts, lexical.get());

  std::vector<RetrievalMode> modes = {RetrievalMode::kBm25};
  if (embedder) {
    modes.push_back(RetrievalMode::kDense);
    modes.push_back(RetrievalMode::kHybrid);
  }
  std::vector<EvalRun> runs;
  for (RetrievalMode mode : modes) {
    QualityFigures f;
    for (std::size_t qi = 0; qi < queries.size(); ++qi) {
      auto judged = qrels.find(static_cast<int>(qi) + 1);
      if (judged == qrels.end()) continue;
      if (std::none_of(judged->second.begin(), judged->second.end(),
                       [](const auto& kv) { return kv.second > 0; }))
        continue;
      LUMEN_ASSIGN_OR_RETURN(std::vector<RankedPassage> ranked,
                             retriever.Search(queries[qi].text, 100, mode));
      std::vector<std::string> ids;
      for (const RankedPassage& r : ranked) ids.push_back(r.view.url.substr(kPrefix.size()));
      f.ndcg_at_10 += NdcgAt(ids, judged->second, 10);
      f.map_at_100 += AveragePrecisionAt(ids, judged->second, 100);
      f.recall_at_100 += RecallAt(ids, judged->second, 100);
      ++f.queries;
    }
    if (f.queries > 0) {
      f.ndcg_at_10 /= f.queries;
      f.map_at_100 /= f.queries;
      f.recall_at_100 /= f.queries;
    }
    runs.push_back({.mode = mode, .figures = f});
  }
  return runs;
}

}  // namespace lumen::ranking
