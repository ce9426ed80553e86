// Searcher: the retrieval stack a command or the web service opens from configuration — the
// store (`<data_dir>/lumen.db`), the embedder (index.embedder), the vector index
// (`<data_dir>/vectors.faiss`, on index.device) and the hybrid retriever over them.
//
// Missing pieces degrade rather than fail where a user can still get answers: without a vector
// index (never built) or without the embedder's assets, search is lexical only and `warning` says
// why and what to run. An index built by another embedder is an error (suggesting
// `lumen index --rebuild`), as mixing vector spaces would silently return nonsense.
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "ranking/hybrid.h"

namespace lumen::ranking {

struct Searcher {
  std::unique_ptr<retrieval::Store> store;
  std::unique_ptr<retrieval::Embedder> embedder;  // null when unavailable
  std::unique_ptr<retrieval::VectorIndex> index;  // null when unavailable
  // In-memory BM25 index (ranking.lexical_index "memory"), built from the store on Open: about
  // 50 s and 230 MB per million passages (docs/BENCHMARKS.md); null with "fts5".
  std::unique_ptr<retrieval::LexicalIndex> lexical;
  std::unique_ptr<HybridRetriever> retriever;
  std::string warning;  // why search is lexical only, or empty

  // kNotFound when the data dir has no store yet (nothing crawled or indexed).
  static Result<std::unique_ptr<Searcher>> Open(const Config& config);

  // Brings the in-memory vector index up to date with one page just written to the store (a
  // live search's): embeds its new passages and drops the previous version's. Not persisted —
  // the next `lumen index` writes them to vectors.faiss. A no-op without embedder or index.
  // Safe while other threads search.
  Status IndexStoredPage(const retrieval::UpsertResult& page);
};

}  // namespace lumen::ranking
