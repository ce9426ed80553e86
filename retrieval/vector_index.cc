#include "retrieval/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/Heap.h>

#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/inner_product.h"
#include "retrieval/glove_embedder.h"  // WriteFileAtomically

#if defined(LUMEN_HAVE_FAISS_GPU)
#include <faiss/gpu/GpuCloner.h>
#include <faiss/gpu/StandardGpuResources.h>
#include <faiss/gpu/utils/DeviceUtils.h>
#endif

namespace lumen::retrieval {
namespace {

using idx_t = faiss::Index::idx_t;

faiss::IndexIDMap2* IdMap(faiss::Index* index) {
  return dynamic_cast<faiss::IndexIDMap2*>(index);
}

std::string SidecarPath(const std::string& path) {
  return path + ".json";
}

// FAISS's flat inner-product storage with Lumen's SIMD inner products (core/inner_product.h:
// Debian's FAISS computes them with scalar loops). Same codes, same file format: it is an
// IndexFlatIP to FAISS's writer, cloner and HNSW code, and only the arithmetic is replaced.
class SimdFlatIP final : public faiss::IndexFlatIP {
 public:
  explicit SimdFlatIP(idx_t d) : faiss::IndexFlatIP(d) {}

  // Exact top-k by inner product, sorted best first; labels -1 past ntotal (as IndexFlat).
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override {
    if (params != nullptr || k <= 0) {  // ID selectors and the like: FAISS's own loop
      faiss::IndexFlatIP::search(n, x, k, distances, labels, params);
      return;
    }
    constexpr idx_t kBlock = 1024;
    const auto dim = static_cast<std::size_t>(d);
    const float* base = get_xb();
    std::vector<float> block(kBlock);
    for (idx_t q = 0; q < n; ++q) {
      float* best = distances + q * k;
      idx_t* ids = labels + q * k;
      faiss::minheap_heapify(k, best, ids);
      for (idx_t j0 = 0; j0 < ntotal; j0 += kBlock) {
        const idx_t count = std::min(kBlock, ntotal - j0);
        InnerProducts(x + q * d, base + j0 * d, dim, static_cast<std::size_t>(count), block.data());
        for (idx_t i = 0; i < count; ++i)
          if (block[i] > best[0]) faiss::minheap_replace_top(k, best, ids, block[i], j0 + i);
      }
      faiss::minheap_reorder(k, best, ids);
    }
  }

  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
    return new Distance(*this);
  }

 private:
  struct Distance final : faiss::FlatCodesDistanceComputer {
    explicit Distance(const SimdFlatIP& index)
        : faiss::FlatCodesDistanceComputer(index.codes.data(), index.code_size),
          dim(static_cast<std::size_t>(index.d)),
          base(index.get_xb()) {}
    void set_query(const float* x) override { query = x; }
    float distance_to_code(const std::uint8_t* code) override {
      return InnerProduct(query, reinterpret_cast<const float*>(code), dim);
    }
    float symmetric_dis(idx_t i, idx_t j) override {
      return InnerProduct(base + i * dim, base + j * dim, dim);
    }
    std::size_t dim;
    const float* base;
    const float* query = nullptr;
  };
};

// The same index with SimdFlatIP in place of a flat inner-product index, whether that is the
// whole index or an HNSW graph's storage. Other kinds (IVF, PQ, SQ...) are left as they are.
void UseSimdInnerProducts(faiss::IndexIDMap2& map) {
  auto upgrade = [](faiss::Index* index) -> faiss::Index* {
    auto* flat = dynamic_cast<faiss::IndexFlat*>(index);
    if (flat == nullptr || flat->metric_type != faiss::METRIC_INNER_PRODUCT ||
        dynamic_cast<SimdFlatIP*>(index) != nullptr)
      return nullptr;
    auto* simd = new SimdFlatIP(flat->d);
    simd->codes.swap(flat->codes);
    simd->ntotal = flat->ntotal;
    return simd;
  };
  if (!map.own_fields) return;
  if (faiss::Index* simd = upgrade(map.index)) {
    delete map.index;
    map.index = simd;
  } else if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(map.index); hnsw && hnsw->own_fields) {
    if (faiss::Index* storage = upgrade(hnsw->storage)) {
      delete hnsw->storage;
      hnsw->storage = storage;
    }
  }
}

}  // namespace

std::string VectorIndexPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "vectors.faiss").string();
}

VectorIndex::~VectorIndex() = default;

Result<std::unique_ptr<VectorIndex>> VectorIndex::Create(std::string embedder, int dimension,
                                                         std::string factory) {
  if (dimension < 1) return InvalidArgument("vector dimension must be positive");
  std::unique_ptr<faiss::Index> sub;
  try {
    sub.reset(faiss::index_factory(dimension, factory.c_str(), faiss::METRIC_INNER_PRODUCT));
  } catch (const faiss::FaissException& e) {
    return InvalidArgument("index.factory \"" + factory +
                           "\" is not a valid FAISS factory string (" + e.msg + ")");
  }
  if (dynamic_cast<faiss::IndexIDMap*>(sub.get()))
    return InvalidArgument("index.factory \"" + factory +
                           "\" must not include IDMap (Lumen adds IndexIDMap2 itself)");
  auto map = std::make_unique<faiss::IndexIDMap2>(sub.release());
  map->own_fields = true;
  UseSimdInnerProducts(*map);
  std::unique_ptr<VectorIndex> vi(new VectorIndex());
  vi->index_ = std::move(map);
  vi->info_ = {.embedder = std::move(embedder),
               .dimension = dimension,
               .factory = std::move(factory),
               .applied_seq = 0};
  return vi;
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path,
                                                       std::string_view expected_embedder,
                                                       int expected_dimension) {
  const std::string sidecar = SidecarPath(path);
  if (!std::filesystem::exists(path) || !std::filesystem::exists(sidecar))
    return NotFound("no vector index at " + path + " (build it with `lumen index`)");
  std::ifstream in(sidecar);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json meta = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object() || !meta["embedder"].is_string() ||
      !meta["dimension"].is_number_integer() || !meta["factory"].is_string() ||
      !meta["applied_seq"].is_number_integer())
    return Corruption(sidecar + ": malformed vector index sidecar (run `lumen index --rebuild`)");
  std::unique_ptr<VectorIndex> vi(new VectorIndex());
  vi->info_.embedder = meta["embedder"].get<std::string>();
  vi->info_.dimension = meta["dimension"].get<int>();
  vi->info_.factory = meta["factory"].get<std::string>();
  vi->info_.applied_seq = meta["applied_seq"].get<std::int64_t>();
  if (vi->info_.embedder != expected_embedder || vi->info_.dimension != expected_dimension)
    return InvalidArgument(
        "the vector index at " + path + " was built by embedder \"" + vi->info_.embedder +
        "\" (dimension " + std::to_string(vi->info_.dimension) +
        ") but the configured embedder is \"" + std::string(expected_embedder) + "\" (dimension " +
        std::to_string(expected_dimension) + "); run `lumen index --rebuild`");
  if (meta.contains("tombstones") && meta["tombstones"].is_array()) {
    for (const auto& t : meta["tombstones"])
      if (t.is_number_integer()) vi->tombstones_.insert(t.get<std::int64_t>());
  }
  try {
    vi->index_.reset(faiss::read_index(path.c_str()));
  } catch (const faiss::FaissException& e) {
    return Corruption(path + ": cannot read the vector index (" + e.msg +
                      "); run `lumen index --rebuild`");
  }
  if (!IdMap(vi->index_.get()) || vi->index_->d != expected_dimension)
    return Corruption(path + ": not a Lumen vector index (run `lumen index --rebuild`)");
  UseSimdInnerProducts(*IdMap(vi->index_.get()));
  return vi;
}

bool VectorIndex::NeedsTraining() const {
  return !index_->is_trained;
}

bool VectorIndex::SupportsRemoval() const {
  return dynamic_cast<faiss::IndexFlat*>(IdMap(index_.get())->index) != nullptr;
}

Status VectorIndex::Train(std::span<const float> vectors) {
  std::unique_lock lock(mu_);
  const auto d = static_cast<std::size_t>(info_.dimension);
  if (vectors.size() % d != 0) return InvalidArgument("training data is not n * dimension floats");
  try {
    index_->train(static_cast<idx_t>(vectors.size() / d), vectors.data());
  } catch (const faiss::FaissException& e) {
    return InvalidArgument("cannot train the vector index: " + e.msg);
  }
  return Status::Ok();
}

Status VectorIndex::Add(std::span<const std::int64_t> ids, std::span<const float> vectors) {
  std::unique_lock lock(mu_);
  const auto d = static_cast<std::size_t>(info_.dimension);
  if (vectors.size() != ids.size() * d)
    return InvalidArgument("Add: " + std::to_string(ids.size()) + " ids but " +
                           std::to_string(vectors.size()) + " floats (dimension " +
                           std::to_string(d) + ")");
  if (!index_->is_trained) return InvalidArgument("the vector index must be trained before Add");
  faiss::IndexIDMap2* map = IdMap(index_.get());
  std::vector<idx_t> keep_ids;
  std::vector<float> keep;
  keep_ids.reserve(ids.size());
  keep.reserve(vectors.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (map->rev_map.count(ids[i]) && !tombstones_.count(ids[i])) continue;  // idempotent
    if (tombstones_.erase(ids[i])) continue;  // a tombstoned id stays removed (ids never return)
    keep_ids.push_back(ids[i]);
    keep.insert(keep.end(), vectors.begin() + i * d, vectors.begin() + (i + 1) * d);
  }
  if (keep_ids.empty()) return Status::Ok();
  try {
    index_->add_with_ids(static_cast<idx_t>(keep_ids.size()), keep.data(), keep_ids.data());
  } catch (const faiss::FaissException& e) {
    return Internal("FAISS add failed: " + e.msg);
  }
  gpu_index_.reset();  // a GPU copy would be stale; UseDevice makes a new one
  return Status::Ok();
}

Status VectorIndex::Remove(std::span<const std::int64_t> ids) {
  std::unique_lock lock(mu_);
  faiss::IndexIDMap2* map = IdMap(index_.get());
  std::vector<idx_t> present;
  for (std::int64_t id : ids)
    if (map->rev_map.count(id)) present.push_back(id);
  if (present.empty()) return Status::Ok();
  if (SupportsRemoval()) {
    try {
      faiss::IDSelectorArray sel(present.size(), present.data());
      index_->remove_ids(sel);
    } catch (const faiss::FaissException& e) {
      return Internal("FAISS remove failed: " + e.msg);
    }
  } else {
    tombstones_.insert(present.begin(), present.end());
  }
  gpu_index_.reset();
  return Status::Ok();
}

void VectorIndex::SetSearchParameters(int ef_search, int nprobe) {
  std::unique_lock lock(mu_);
  faiss::Index* sub = IdMap(index_.get())->index;
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(sub); hnsw && ef_search > 0)
    hnsw->hnsw.efSearch = ef_search;
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(sub); ivf && nprobe > 0)
    ivf->nprobe = static_cast<std::size_t>(nprobe);
}

Result<std::vector<DenseHit>> VectorIndex::Search(std::span<const float> query, int k) const {
  std::shared_lock lock(mu_);
  if (query.size() != static_cast<std::size_t>(info_.dimension))
    return InvalidArgument("query vector has " + std::to_string(query.size()) +
                           " components, the index " + std::to_string(info_.dimension));
  std::vector<DenseHit> hits;
  if (k <= 0 || SizeLocked() == 0) return hits;
  if (std::all_of(query.begin(), query.end(), [](float x) { return x == 0.0f; })) return hits;
  const idx_t want = std::min<idx_t>(static_cast<idx_t>(k) + static_cast<idx_t>(tombstones_.size()),
                                     index_->ntotal);
  // One query is searched on the calling thread: OpenMP teams for a single query cost more in
  // wake-ups than they save (and starve under load); parallelism comes from concurrent requests.
  omp_set_num_threads(1);
  std::vector<float> scores(static_cast<std::size_t>(want));
  std::vector<idx_t> labels(static_cast<std::size_t>(want));
  try {
    const faiss::Index* idx = gpu_index_ ? gpu_index_.get() : index_.get();
    idx->search(1, query.data(), want, scores.data(), labels.data());
  } catch (const faiss::FaissException& e) {
    return Internal("FAISS search failed: " + e.msg);
  }
  for (idx_t i = 0; i < want && static_cast<int>(hits.size()) < k; ++i) {
    if (labels[i] < 0 || tombstones_.count(labels[i])) continue;
    hits.push_back({.passage_id = labels[i], .score = scores[i]});
  }
  return hits;
}

Result<std::vector<float>> VectorIndex::Reconstruct(std::int64_t id) const {
  std::shared_lock lock(mu_);
  if (!ContainsLocked(id)) return NotFound("no vector for passage " + std::to_string(id));
  std::vector<float> v(static_cast<std::size_t>(info_.dimension));
  try {
    index_->reconstruct(id, v.data());
  } catch (const faiss::FaissException& e) {
    return Unimplemented("this index kind cannot reconstruct vectors: " + e.msg);
  }
  return v;
}

bool VectorIndex::Contains(std::int64_t id) const {
  std::shared_lock lock(mu_);
  return ContainsLocked(id);
}

bool VectorIndex::ContainsLocked(std::int64_t id) const {
  return IdMap(index_.get())->rev_map.count(id) > 0 && !tombstones_.count(id);
}

std::int64_t VectorIndex::size() const {
  std::shared_lock lock(mu_);
  return SizeLocked();
}

std::int64_t VectorIndex::SizeLocked() const {
  return index_->ntotal - static_cast<std::int64_t>(tombstones_.size());
}

double VectorIndex::BytesPerVector() const {
  std::shared_lock lock(mu_);
  if (index_->ntotal == 0) return 0;
  // Serialise to measure the payload, then add the id maps' in-memory cost.
  faiss::VectorIOWriter writer;
  faiss::write_index(index_.get(), &writer);
  const double payload = static_cast<double>(writer.data.size());
  const double maps = static_cast<double>(index_->ntotal) * (8 + 32);  // id_map + rev_map node
  return (payload + maps) / static_cast<double>(index_->ntotal);
}

Status VectorIndex::Save(const std::string& path) const {
  std::shared_lock lock(mu_);
  std::string bytes;
  try {
    faiss::VectorIOWriter writer;
    faiss::write_index(index_.get(), &writer);
    bytes.assign(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
  } catch (const faiss::FaissException& e) {
    return Internal("cannot serialise the vector index: " + e.msg);
  }
  LUMEN_RETURN_IF_ERROR(WriteFileAtomically(path, bytes));
  nlohmann::json meta = {{"format", 1},
                         {"embedder", info_.embedder},
                         {"dimension", info_.dimension},
                         {"factory", info_.factory},
                         {"applied_seq", info_.applied_seq},
                         {"vectors", SizeLocked()},
                         {"tombstones", tombstones_}};
  return WriteFileAtomically(SidecarPath(path), meta.dump(2) + "\n");
}

Status VectorIndex::UseDevice(std::string_view device) {
  std::unique_lock lock(mu_);
  if (device == "cpu") {
    gpu_index_.reset();
    return Status::Ok();
  }
  if (device != "gpu" && device != "auto")
    return InvalidArgument("index.device must be auto, cpu or gpu, not \"" + std::string(device) +
                           "\"");
#if defined(LUMEN_HAVE_FAISS_GPU)
  int gpus = 0;
  try {
    gpus = faiss::gpu::getNumDevices();
  } catch (const faiss::FaissException&) {
    gpus = 0;
  }
  if (gpus == 0) {
    if (device == "gpu") return Unavailable("index.device is gpu but no GPU is present");
    return Status::Ok();
  }
  try {
    auto res = std::make_shared<faiss::gpu::StandardGpuResources>();
    gpu_index_.reset(faiss::gpu::index_cpu_to_gpu(res.get(), 0, index_.get()));
    gpu_resources_ = res;
  } catch (const faiss::FaissException& e) {
    if (device == "gpu") return Unavailable("cannot copy the vector index to the GPU: " + e.msg);
    gpu_index_.reset();
  }
  return Status::Ok();
#else
  if (device == "gpu")
    return Unavailable(
        "index.device is gpu but this Lumen was built against a CPU-only FAISS (no faiss/gpu "
        "headers at configure time)");
  return Status::Ok();
#endif
}

}  // namespace lumen::retrieval
