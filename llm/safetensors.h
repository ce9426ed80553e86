// Safetensors files and Hugging Face checkpoints, memory-mapped.
//
// File layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [b, e]},
// "__metadata__": {..}}, then the data buffer; offsets are relative to the buffer. Every header
// is validated before any tensor is used: length in bounds, JSON object, known dtype, shape of
// non-negative integers, offsets inside the buffer, byte size = dtype size × product of the
// shape, no two tensors overlapping.
//
// Tensor data is never copied: a TensorView points into the mapping, which lives as long as the
// SafetensorsFile (or Checkpoint) that owns it. All const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::llm {

enum class DType {
  kBool,
  kU8,
  kI8,
  kU16,
  kI16,
  kU32,
  kI32,
  kU64,
  kI64,
  kF16,
  kBF16,
  kF32,
  kF64,
  kF8E4M3,
  kF8E5M2
};

// "BF16", "F8_E4M3", ... as spelled in safetensors headers.
std::string_view DTypeName(DType dtype);
Result<DType> ParseDType(std::string_view name);
std::size_t DTypeSize(DType dtype);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  const std::uint8_t* data = nullptr;  // into the owning file's mapping
  std::size_t nbytes = 0;

  std::int64_t numel() const;
  std::string ShapeString() const;  // "[4096, 2048]"
};

// Parses and validates the header of a whole safetensors file held in `file` (header length,
// JSON, buffer). Tensor views point into `file`. Never crashes on arbitrary bytes: every problem
// is a kCorruption status naming what is wrong. Headers larger than 100 MB are refused.
Result<std::vector<TensorView>> ParseSafetensors(std::span<const std::uint8_t> file);

// A read-only memory mapping of a whole file. Move-only; unmaps on destruction.
class MappedFile {
 public:
  // `populate` reads the whole file into memory now (MAP_POPULATE), so that later accesses do
  // not fault page by page (the engine wants this for weights; header-only tools do not).
  static Result<MappedFile> Open(const std::string& path, bool populate = false);
  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// One mapped, validated safetensors file.
class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> Open(const std::string& path,
                                                       bool populate = false);

  const std::string& path() const { return path_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* Find(std::string_view name) const;  // nullptr when absent

 private:
  std::string path_;
  MappedFile map_;
  std::vector<TensorView> tensors_;
};

// A model folder's weights: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json` ({"weight_map": {"tensor": "model-00001-of-00002.safetensors"}}).
// A shard named by the index must exist, lie inside the folder and hold the tensors the index
// says it holds; a tensor name may appear only once across shards.
class Checkpoint {
 public:
  static Result<Checkpoint> Open(const std::string& dir, bool populate = false);

  const TensorView* Find(std::string_view name) const;  // nullptr when absent
  // Every tensor, by name.
  const std::map<std::string, const TensorView*, std::less<>>& tensors() const { return index_; }
  std::size_t total_bytes() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*, std::less<>> index_;
};

// Writes a safetensors file from tensors held in memory (for make-tiny and quantize). Tensors
// are written in the order added; the header is padded to a multiple of 8 bytes.
class SafetensorsWriter {
 public:
  void Add(std::string name, DType dtype, std::vector<std::int64_t> shape,
           std::vector<std::uint8_t> bytes);
  // Adds metadata "__metadata__": {"format": "pt"} plus these entries.
  void SetMetadata(std::map<std::string, std::string> metadata) { metadata_ = std::move(metadata); }
  // Checks each tensor's byte size against its shape, then writes `path`.
  Status Write(const std::string& path) const;
  // Writes the tensors into `dir` as model.safetensors (shards == 1) or as `shards` files
  // model-0000i-of-0000n.safetensors of similar size plus model.safetensors.index.json.
  Status WriteSharded(const std::string& dir, int shards) const;
  std::size_t size() const { return tensors_.size(); }
  std::size_t bytes() const;

 private:
  Status WriteRange(const std::string& path, std::size_t begin, std::size_t end) const;

  struct Pending {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Pending> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes DIR/model.safetensors.index.json: {"metadata": {"total_size": N}, "weight_map": {..}}.
Status WriteSafetensorsIndex(const std::string& dir,
                             const std::map<std::string, std::string>& weight_map,
                             std::uint64_t total_size);

// "model-00002-of-00005.safetensors".
std::string ShardFileName(int index, int count);

}  // namespace lumen::llm
