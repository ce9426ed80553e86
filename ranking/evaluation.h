// Retrieval evaluation on a SMART-format test collection (Cranfield and its kin), for
// `lumen eval retrieval`.
//
// Documents: records opened by ".I <id>", with fields ".T" (title), ".W" (text) and others
// (".A", ".B", ...) that are ignored. Queries: the same format; a query is identified by its
// 1-based position in the file, not its .I. Qrels: whitespace-separated lines whose first two
// fields are the query position and the document id; with GainScheme::kCranfield the third field
// is the Cranfield relevance code (1 -> gain 3, 2 -> 2, 3 -> 1, 4 and -1 -> 0), with kBinary every
// listed pair has gain 1.
//
// Metrics (as ../shared/eval/README.md defines them): nDCG@10 with log2 discount and the ideal
// from the judged gains; MAP@100 and recall@100 with gain > 0 as relevant; averaged over the
// queries with at least one relevant document.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ranking/hybrid.h"
#include "retrieval/embedder.h"

namespace lumen::ranking {

struct SmartRecord {
  std::string id;
  std::string title;
  std::string text;
};

enum class GainScheme { kCranfield, kBinary };

// query position (1-based) -> document id -> gain
using Qrels = std::map<int, std::map<std::string, double>>;

// kInvalidArgument (naming the line) on text that is not SMART records.
Result<std::vector<SmartRecord>> ParseSmart(std::string_view text);
Result<Qrels> ParseQrels(std::string_view text, GainScheme scheme);

struct QualityFigures {
  double ndcg_at_10 = 0;
  double map_at_100 = 0;
  double recall_at_100 = 0;
  int queries = 0;  // queries with a relevant document
};

// Scores one ranked list of document ids against one query's judgments.
double NdcgAt(const std::vector<std::string>& ranked, const std::map<std::string, double>& gains,
              int k);
double AveragePrecisionAt(const std::vector<std::string>& ranked,
                          const std::map<std::string, double>& gains, int k);
double RecallAt(const std::vector<std::string>& ranked, const std::map<std::string, double>& gains,
                int k);

struct EvalRun {
  RetrievalMode mode;
  QualityFigures figures;
};

// Stores `docs` (one page and one passage each) in a new store under `data_dir`, builds the
// vector index with `embedder` (when not null) and scores bm25, dense and hybrid retrieval.
Result<std::vector<EvalRun>> EvaluateRetrieval(const std::vector<SmartRecord>& docs,
                                               const std::vector<SmartRecord>& queries,
                                               const Qrels& qrels, const std::string& data_dir,
                                               retrieval::Embedder* embedder,
                                               const retrieval::StoreOptions& store_options,
                                               const HybridOptions& options);

}  // namespace lumen::ranking
