// SearchStack: everything `lumen serve` answers with, opened from the configuration — the
// passage store, the embedder and vector index (dense retrieval), the hybrid retriever, the
// model backend (optional), the live search (search.provider; optional) and the ad server (its
// own database; optional).
//
// Parts that cannot be opened degrade rather than fail when the rest can still answer: nothing
// crawled yet -> no sources (the answer says so); no embedder asset or no vector index ->
// BM25-only retrieval (ranking/searcher.h); ads disabled or their database
// unusable -> no sponsored slots; answer.backend "none" -> extractive answers. Each degradation
// is listed in `notes` (logged at start). Only an unusable passage store, an index built by
// another embedder or an invalid configuration value is an error.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ads/ad_server.h"
#include "core/config.h"
#include "core/log.h"
#include "llm/answer/backend.h"
#include "ranking/searcher.h"
#include "retrieval/live_search.h"

namespace lumen::web {

struct SearchStack {
  std::unique_ptr<ranking::Searcher> searcher;          // null: nothing crawled yet
  const ranking::HybridRetriever* retriever = nullptr;  // searcher's, or null
  std::unique_ptr<answer::ModelBackend> backend;        // null: extractive answers
  std::unique_ptr<ads::AdServer> ads;                   // null: no sponsored slots
  // null: local index only (search.provider "none"). Writes into searcher's store.
  std::unique_ptr<retrieval::LiveSearch> live;
  std::vector<std::string> notes;

  static Result<SearchStack> Open(const Config& config, Logger& log);
};

// The answer.* backend from the configuration: null for "none"; InvalidArgument naming the key
// for an unknown backend, a remote backend without a URL or a local one without
// engine.model_dir; a local model that cannot be loaded gives the loader's error.
Result<std::unique_ptr<answer::ModelBackend>> BackendFromConfig(const Config& config);

}  // namespace lumen::web
