// The vector index: passage vectors in FAISS, keyed by passage id, searched by inner product
// (vectors are L2-normalised, so scores are cosine similarities).
//
// The index is an IndexIDMap2 over an index built from a FAISS factory string ("Flat" for exact
// search; "HNSW32,Flat", "IVF1024,SQ8", ... for approximate search; see docs/BENCHMARKS.md for
// the measured choice). Removal: a Flat sub-index removes vectors for real; other kinds keep a
// tombstone list (persisted) that searches filter out — `lumen index --rebuild` compacts.
//
// Files: `<data_dir>/vectors.faiss` (faiss::write_index) and `<data_dir>/vectors.faiss.json`,
// the sidecar naming the embedder, the dimension, the factory string, the last passage-log seq
// applied and the tombstones. Both are written atomically (temporary file, fsync, rename). Add
// and Remove are idempotent, so replaying log entries after a crash between the two files is
// harmless.
//
// Device: with index.device "gpu" (or "auto" on a machine with a GPU) searches run on a GPU copy
// made by faiss::gpu::index_cpu_to_gpu — only when Lumen was built against a FAISS with GPU
// support (its faiss/gpu headers found at configure time: LUMEN_HAVE_FAISS_GPU). Debian's FAISS
// is CPU-only, so the CPU path is what is built and tested here.
//
// Threading: Search is const and may run from several threads at once (each search runs on its
// calling thread: it sets that thread's OpenMP team size to 1); Add, Remove, Train,
// SetSearchParameters and UseDevice take an internal lock exclusively, so they may run while
// other threads search (a live search adds the passages it has just read).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace faiss {
struct Index;
}

namespace lumen::retrieval {

struct DenseHit {
  std::int64_t passage_id = 0;
  float score = 0;  // inner product (cosine)
};

struct VectorIndexInfo {
  std::string embedder;
  int dimension = 0;
  std::string factory;
  std::int64_t applied_seq = 0;  // last passage-log seq reflected in the index
};

class VectorIndex {
 public:
  // An empty index. kInvalidArgument for a factory string FAISS does not accept (the message
  // quotes FAISS's) or a dimension < 1.
  static Result<std::unique_ptr<VectorIndex>> Create(std::string embedder, int dimension,
                                                     std::string factory);
  // Loads `path` and its sidecar. kNotFound when absent; kInvalidArgument (suggesting `lumen
  // index --rebuild`) when the sidecar names another embedder or dimension than expected;
  // kCorruption when either file is malformed.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::string& path,
                                                   std::string_view expected_embedder,
                                                   int expected_dimension);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // True when the index needs Train before Add (IVF and PQ kinds).
  bool NeedsTraining() const;
  // Trains on `vectors` (n * dimension floats).
  Status Train(std::span<const float> vectors);
  // Adds vectors (ids.size() * dimension floats); ids already present are skipped.
  Status Add(std::span<const std::int64_t> ids, std::span<const float> vectors);
  // Removes ids (absent ids are ignored).
  Status Remove(std::span<const std::int64_t> ids);
  // The best k passages for one query vector. An all-zero query returns nothing.
  Result<std::vector<DenseHit>> Search(std::span<const float> query, int k) const;
  // Approximate-search knobs (ignored by kinds without them): HNSW efSearch, IVF nprobe.
  void SetSearchParameters(int ef_search, int nprobe);
  // The stored vector of `id`, or kNotFound.
  Result<std::vector<float>> Reconstruct(std::int64_t id) const;
  bool Contains(std::int64_t id) const;

  // Writes the index and its sidecar atomically.
  Status Save(const std::string& path) const;

  // Moves searches to a GPU copy when `device` is "gpu", or "auto" and a GPU is present.
  // kUnavailable for "gpu" in a build or machine without GPU FAISS; "auto" falls back to CPU.
  Status UseDevice(std::string_view device);
  bool on_gpu() const { return gpu_index_ != nullptr; }

  std::int64_t size() const;  // live vectors
  const VectorIndexInfo& info() const { return info_; }
  void set_applied_seq(std::int64_t seq) { info_.applied_seq = seq; }
  // Approximate bytes held per live vector (index storage + id maps), for benchmarks.
  double BytesPerVector() const;

 private:
  VectorIndex() = default;
  bool SupportsRemoval() const;

  std::int64_t SizeLocked() const;
  bool ContainsLocked(std::int64_t id) const;

  // Searches (and the other const reads) share it; Add, Remove, Train and device changes take it
  // alone — a live search adds the passages it reads while other requests search.
  mutable std::shared_mutex mu_;
  VectorIndexInfo info_;
  std::unique_ptr<faiss::Index> index_;  // an IndexIDMap2
  std::unique_ptr<faiss::Index> gpu_index_;
  std::shared_ptr<void> gpu_resources_;
  std::set<std::int64_t> tombstones_;
};

// `<data_dir>/vectors.faiss`.
std::string VectorIndexPath(const std::string& data_dir);

}  // namespace lumen::retrieval
