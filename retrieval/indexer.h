// Keeping the vector index in step with the store: `lumen index`, the evaluation and the
// benchmarks all go through here.
//
// A rebuild fits the embedder's corpus statistics on every stored passage, embeds them all and
// writes a fresh index. An update loads the existing index and applies the store's passage log
// from the index's last applied seq: added passages are embedded and added, removed ones removed.
// An update turns into a rebuild when the store holds more than twice (+100) the passages the
// index has, so corpus statistics never stay fitted on a small early crawl.
// Passages are embedded as "title. heading path. text" (the title and headings carry much of a
// short passage's topic).
//
// Files in the data dir: vectors.faiss + vectors.faiss.json (vector_index.h) and
// vectors.faiss.stats (the embedder's corpus statistics, when it has any).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "retrieval/embedder.h"
#include "retrieval/store.h"
#include "retrieval/vector_index.h"

namespace lumen::retrieval {

struct IndexerOptions {
  std::string factory = "Flat";         // FAISS factory string for a new index
  std::size_t batch = 1024;             // passages embedded per batch
  bool rebuild = false;                 // refit statistics and rebuild even when an index exists
  std::size_t training_sample = 50000;  // vectors used to train IVF/PQ kinds
  // Called after each batch with (passages done, passages to do).
  std::function<void(std::int64_t, std::int64_t)> progress;
};

struct IndexerReport {
  bool rebuilt = false;
  std::int64_t added = 0;
  std::int64_t removed = 0;
  std::int64_t total = 0;  // vectors in the index afterwards
  double seconds = 0;
};

// The text a passage is embedded from.
std::string EmbeddingText(const PassageView& v);

// Brings `<data_dir>/vectors.faiss` up to date with `store` (see the file comment). A missing
// index is built; an index from another embedder or dimension is an error suggesting --rebuild
// (unless options.rebuild). `embedder` ends with the statistics the index was built with.
Result<IndexerReport> UpdateVectorIndex(Store& store, Embedder& embedder,
                                        const std::string& data_dir, const IndexerOptions& options);

// Passages from which exact search becomes the slow part of a question (54 ms of one core at
// 1M, so roughly a third of that at 300k) and an approximate index is worth its build time
// (docs/BENCHMARKS.md).
inline constexpr std::int64_t kExactSearchAdviceVectors = 300'000;

// A note for the user when `factory` is exact ("Flat") and the index holds at least
// kExactSearchAdviceVectors vectors: which approximate index to use and how; "" otherwise.
std::string IndexChoiceAdvice(std::string_view factory, std::int64_t vectors);

// Loads the index and the embedder's statistics for searching. kNotFound when no index was
// built yet; kInvalidArgument on an embedder mismatch (suggesting `lumen index --rebuild`).
Result<std::unique_ptr<VectorIndex>> OpenVectorIndex(Embedder& embedder,
                                                     const std::string& data_dir);

}  // namespace lumen::retrieval
