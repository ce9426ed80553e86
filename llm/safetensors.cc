#include "llm/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace lumen::llm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;
constexpr std::size_t kMaxRank = 8;

struct DTypeEntry {
  DType dtype;
  std::string_view name;
  std::size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
    {DType::kU16, "U16", 2},   {DType::kI16, "I16", 2},        {DType::kU32, "U32", 4},
    {DType::kI32, "I32", 4},   {DType::kU64, "U64", 8},        {DType::kI64, "I64", 8},
    {DType::kF16, "F16", 2},   {DType::kBF16, "BF16", 2},      {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};

Status Bad(const std::string& what) {
  return Corruption("safetensors: " + what);
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.dtype == dtype) return e.name;
  }
  return "?";
}

Result<DType> ParseDType(std::string_view name) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.name == name) return e.dtype;
  }
  return InvalidArgument("unknown dtype \"" + std::string(name) + "\"");
}

std::size_t DTypeSize(DType dtype) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.dtype == dtype) return e.size;
  }
  return 0;
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string TensorView::ShapeString() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<std::vector<TensorView>> ParseSafetensors(std::span<const std::uint8_t> file) {
  if (file.size() < 8) return Bad("file is " + std::to_string(file.size()) + " bytes, too short");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[static_cast<std::size_t>(i)];
  if (n > kMaxHeaderBytes) return Bad("header length " + std::to_string(n) + " exceeds 100 MB");
  if (n > file.size() - 8) {
    return Bad("header length " + std::to_string(n) + " runs past the end of the " +
               std::to_string(file.size()) + "-byte file (truncated?)");
  }
  const char* begin = reinterpret_cast<const char*>(file.data() + 8);
  json header = json::parse(begin, begin + n, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return Bad("header is not valid JSON");
  if (!header.is_object()) return Bad("header is not a JSON object");

  const std::uint8_t* buffer = file.data() + 8 + n;
  const std::uint64_t buffer_size = file.size() - 8 - n;
  std::vector<TensorView> tensors;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return Bad("__metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) return Bad("__metadata__ value \"" + k + "\" is not a string");
      }
      continue;
    }
    const std::string where = "tensor \"" + name + "\": ";
    if (!entry.is_object()) return Bad(where + "entry is not an object");
    const auto dt = entry.find("dtype");
    const auto sh = entry.find("shape");
    const auto off = entry.find("data_offsets");
    if (dt == entry.end() || !dt->is_string()) return Bad(where + "missing string \"dtype\"");
    if (sh == entry.end() || !sh->is_array()) return Bad(where + "missing array \"shape\"");
    if (off == entry.end() || !off->is_array() || off->size() != 2) {
      return Bad(where + "\"data_offsets\" must be [begin, end]");
    }
    Result<DType> dtype = ParseDType(dt->get<std::string>());
    if (!dtype.ok()) return Bad(where + dtype.status().message());
    TensorView t;
    t.name = name;
    t.dtype = *dtype;
    if (sh->size() > kMaxRank) return Bad(where + "rank " + std::to_string(sh->size()) + " > 8");
    // Element count with overflow checks: each dimension and the product must stay below 2^62.
    std::uint64_t count = 1;
    for (const json& d : *sh) {
      if (!d.is_number_unsigned()) return Bad(where + "shape must hold non-negative integers");
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v != 0 && count > (std::uint64_t{1} << 62) / v) return Bad(where + "shape overflows");
      count *= v;
      t.shape.push_back(static_cast<std::int64_t>(v));
    }
    for (const json& o : *off) {
      if (!o.is_number_unsigned()) return Bad(where + "data_offsets must be non-negative integers");
    }
    const std::uint64_t b = (*off)[0].get<std::uint64_t>();
    const std::uint64_t e = (*off)[1].get<std::uint64_t>();
    if (b > e) return Bad(where + "data_offsets begin > end");
    if (e > buffer_size) {
      return Bad(where + "data ends at byte " + std::to_string(e) + " of a " +
                 std::to_string(buffer_size) + "-byte buffer (truncated file?)");
    }
    const std::uint64_t expected = count * DTypeSize(t.dtype);
    if (e - b != expected) {
      return Bad(where + std::to_string(e - b) + " bytes for " + std::string(DTypeName(t.dtype)) +
                 " " + t.ShapeString() + ", expected " + std::to_string(expected));
    }
    t.data = buffer + b;
    t.nbytes = static_cast<std::size_t>(e - b);
    tensors.push_back(std::move(t));
  }
  // No two tensors may share bytes.
  std::vector<const TensorView*> by_offset;
  for (const TensorView& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const TensorView* prev = by_offset[i - 1];
    if (prev->data + prev->nbytes > by_offset[i]->data) {
      return Bad("tensors \"" + prev->name + "\" and \"" + by_offset[i]->name + "\" overlap");
    }
  }
  return tensors;
}

// ---- MappedFile -------------------------------------------------------------------------------

Result<MappedFile> MappedFile::Open(const std::string& path, bool populate) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("cannot stat " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(path + " is not a regular file");
  }
  MappedFile m;
  m.size_ = static_cast<std::size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p =
        ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return IoError("cannot map " + path + ": " + std::strerror(err));
    }
    m.data_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

MappedFile::MappedFile(MappedFile&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

// ---- SafetensorsFile ---------------------------------------------------------------------------

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path,
                                                               bool populate) {
  auto f = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  f->path_ = path;
  LUMEN_ASSIGN_OR_RETURN(f->map_, MappedFile::Open(path, populate));
  Result<std::vector<TensorView>> tensors = ParseSafetensors(f->map_.bytes());
  if (!tensors.ok()) return tensors.status().WithContext(path);
  f->tensors_ = std::move(*tensors);
  return f;
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  for (const TensorView& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// ---- Checkpoint --------------------------------------------------------------------------------

Result<Checkpoint> Checkpoint::Open(const std::string& dir, bool populate) {
  Checkpoint c;
  const fs::path root(dir);
  const fs::path index_path = root / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(index_path, ec)) {
    std::ifstream in(index_path);
    json index = json::parse(in, nullptr, /*allow_exceptions=*/false);
    const std::string where = index_path.string() + ": ";
    if (index.is_discarded() || !index.is_object()) return Corruption(where + "not a JSON object");
    const auto map = index.find("weight_map");
    if (map == index.end() || !map->is_object()) return Corruption(where + "no \"weight_map\"");
    std::map<std::string, std::vector<std::string>> by_file;
    for (auto& [tensor, file] : map->items()) {
      if (!file.is_string()) return Corruption(where + "weight_map values must be file names");
      const std::string f = file.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..") {
        return Corruption(where + "shard name \"" + f + "\" is not a plain file name");
      }
      by_file[f].push_back(tensor);
    }
    if (by_file.empty()) return Corruption(where + "weight_map is empty");
    for (const auto& [file, names] : by_file) {
      LUMEN_ASSIGN_OR_RETURN(auto shard, SafetensorsFile::Open((root / file).string(), populate));
      for (const std::string& name : names) {
        if (shard->Find(name) == nullptr) {
          return Corruption(where + "tensor \"" + name + "\" is not in " + file);
        }
      }
      c.files_.push_back(std::move(shard));
    }
  } else {
    const fs::path single = root / "model.safetensors";
    if (!fs::exists(single, ec)) {
      return NotFound(dir + ": no model.safetensors or model.safetensors.index.json");
    }
    LUMEN_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(single.string(), populate));
    c.files_.push_back(std::move(file));
  }
  for (const auto& f : c.files_) {
    for (const TensorView& t : f->tensors()) {
      if (!c.index_.emplace(t.name, &t).second) {
        return Corruption(dir + ": tensor \"" + t.name + "\" appears in more than one shard");
      }
    }
  }
  return c;
}

const TensorView* Checkpoint::Find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::size_t Checkpoint::total_bytes() const {
  std::size_t n = 0;
  for (const auto& [name, t] : index_) n += t->nbytes;
  return n;
}

// ---- SafetensorsWriter -------------------------------------------------------------------------

void SafetensorsWriter::Add(std::string name, DType dtype, std::vector<std::int64_t> shape,
                            std::vector<std::uint8_t> bytes) {
  tensors_.push_back({std::move(name), dtype, std::move(shape), std::move(bytes)});
}

Status SafetensorsWriter::Write(const std::string& path) const {
  return WriteRange(path, 0, tensors_.size());
}

std::size_t SafetensorsWriter::bytes() const {
  std::size_t n = 0;
  for (const Pending& t : tensors_) n += t.bytes.size();
  return n;
}

std::string ShardFileName(int index, int count) {
  char name[64];
  std::snprintf(name, sizeof(name), "model-%05d-of-%05d.safetensors", index, count);
  return name;
}

Status WriteSafetensorsIndex(const std::string& dir,
                             const std::map<std::string, std::string>& weight_map,
                             std::uint64_t total_size) {
  json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
  const std::string path = (fs::path(dir) / "model.safetensors.index.json").string();
  std::ofstream out(path, std::ios::trunc);
  out << index.dump(2) << "\n";
  out.close();
  if (!out) return IoError("cannot write " + path);
  return Status::Ok();
}

Status SafetensorsWriter::WriteSharded(const std::string& dir, int shards) const {
  if (shards <= 1) return Write((fs::path(dir) / "model.safetensors").string());
  const std::size_t total = bytes();
  std::map<std::string, std::string> weight_map;
  std::size_t begin = 0, written = 0;
  for (int s = 1; s <= shards; ++s) {
    // Shard s ends once the bytes written reach s/shards of the total (the last takes the rest).
    std::size_t end = begin;
    const std::size_t target =
        total * static_cast<std::size_t>(s) / static_cast<std::size_t>(shards);
    while (end < tensors_.size() && (s == shards || written < target || end == begin)) {
      written += tensors_[end].bytes.size();
      ++end;
    }
    const std::string name = ShardFileName(s, shards);
    LUMEN_RETURN_IF_ERROR(WriteRange((fs::path(dir) / name).string(), begin, end));
    for (std::size_t i = begin; i < end; ++i) weight_map[tensors_[i].name] = name;
    begin = end;
  }
  return WriteSafetensorsIndex(dir, weight_map, total);
}

Status SafetensorsWriter::WriteRange(const std::string& path, std::size_t first,
                                     std::size_t last) const {
  json header = json::object();
  json meta = json::object();
  meta["format"] = "pt";
  for (const auto& [k, v] : metadata_) meta[k] = v;
  header["__metadata__"] = meta;
  std::uint64_t offset = 0;
  for (std::size_t i = first; i < last; ++i) {
    const Pending& t = tensors_[i];
    std::uint64_t count = 1;
    for (std::int64_t d : t.shape) count *= static_cast<std::uint64_t>(d);
    if (count * DTypeSize(t.dtype) != t.bytes.size()) {
      return InvalidArgument("tensor \"" + t.name + "\": " + std::to_string(t.bytes.size()) +
                             " bytes do not match its shape");
    }
    if (header.contains(t.name)) return InvalidArgument("tensor \"" + t.name + "\" added twice");
    header[t.name] = {{"dtype", std::string(DTypeName(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot write " + path);
  std::uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(text.size() >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (std::size_t i = first; i < last; ++i) {
    out.write(reinterpret_cast<const char*>(tensors_[i].bytes.data()),
              static_cast<std::streamsize>(tensors_[i].bytes.size()));
  }
  out.close();
  if (!out) return IoError("error writing " + path);
  return Status::Ok();
}

}  // namespace lumen::llm
