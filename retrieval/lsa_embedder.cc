#include "retrieval/lsa_embedder.h"

#include <libstemmer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "retrieval/binary_file.h"
#include "retrieval/glove_embedder.h"
#include "retrieval/store.h"

namespace lumen::retrieval {
namespace {

constexpr char kLsaMagic[8] = {'L', 'U', 'M', 'L', 'S', 'A', '0', '1'};
constexpr std::uint64_t kMaxTerms = 10'000'000;
constexpr std::uint64_t kMaxTermBytes = 4096;

// A tall matrix (rows x cols, row-major) of doubles.
struct Dense {
  std::size_t rows = 0, cols = 0;
  std::vector<double> a;
  Dense(std::size_t r, std::size_t c) : rows(r), cols(c), a(r * c, 0.0) {}
  double* row(std::size_t i) { return &a[i * cols]; }
  const double* row(std::size_t i) const { return &a[i * cols]; }
};

// A sparse matrix by rows: the sample's TF-IDF rows.
struct SparseRows {
  std::size_t cols = 0;
  std::vector<std::size_t> begin{0};  // row i is [begin[i], begin[i + 1])
  std::vector<std::int32_t> col;
  std::vector<double> value;
  std::size_t rows() const { return begin.size() - 1; }
};

// Y = A X (A: n x m sparse, X: m x l).
Dense Times(const SparseRows& a, const Dense& x) {
  Dense y(a.rows(), x.cols);
  for (std::size_t i = 0; i < a.rows(); ++i) {
    double* out = y.row(i);
    for (std::size_t p = a.begin[i]; p < a.begin[i + 1]; ++p) {
      const double v = a.value[p];
      const double* in = x.row(static_cast<std::size_t>(a.col[p]));
      for (std::size_t c = 0; c < x.cols; ++c) out[c] += v * in[c];
    }
  }
  return y;
}

// Z = A^T Y (A: n x m sparse, Y: n x l).
Dense TransposeTimes(const SparseRows& a, const Dense& y) {
  Dense z(a.cols, y.cols);
  for (std::size_t i = 0; i < a.rows(); ++i) {
    const double* in = y.row(i);
    for (std::size_t p = a.begin[i]; p < a.begin[i + 1]; ++p) {
      const double v = a.value[p];
      double* out = z.row(static_cast<std::size_t>(a.col[p]));
      for (std::size_t c = 0; c < y.cols; ++c) out[c] += v * in[c];
    }
  }
  return z;
}

// Orthonormalises the columns in place (modified Gram-Schmidt, `passes` times: twice is accurate
// to rounding, once is enough between power iterations; on a
// column-major copy so each column is contiguous). A column that is (numerically) in the span of
// the previous ones becomes zero.
void Orthonormalise(Dense& m, int passes) {
  const std::size_t n = m.rows;
  std::vector<double> cols(m.a.size());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < m.cols; ++c) cols[c * n + i] = m.row(i)[c];
  for (int pass = 0; pass < passes; ++pass) {
    for (std::size_t c = 0; c < m.cols; ++c) {
      double* x = &cols[c * n];
      for (std::size_t p = 0; p < c; ++p) {
        const double* q = &cols[p * n];
        double dot = 0;
        for (std::size_t i = 0; i < n; ++i) dot += x[i] * q[i];
        for (std::size_t i = 0; i < n; ++i) x[i] -= dot * q[i];
      }
      double norm = 0;
      for (std::size_t i = 0; i < n; ++i) norm += x[i] * x[i];
      norm = std::sqrt(norm);
      for (std::size_t i = 0; i < n; ++i) x[i] = norm > 1e-12 ? x[i] / norm : 0;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < m.cols; ++c) m.row(i)[c] = cols[c * n + i];
}

// Eigen-decomposition of a small symmetric matrix (cyclic Jacobi rotations): on return `s` is
// diagonal (the eigenvalues) and the columns of `v` are the eigenvectors.
void JacobiEigen(std::vector<double>& s, std::vector<double>& v, std::size_t n) {
  v.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        total += s[i * n + j] * s[i * n + j];
        if (i != j) off += s[i * n + j] * s[i * n + j];
      }
    if (off <= 1e-22 * total || off == 0) return;
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = s[p * n + q];
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (s[q * n + q] - s[p * n + p]) / (2 * apq);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), sn = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // columns p and q
          const double skp = s[k * n + p], skq = s[k * n + q];
          s[k * n + p] = c * skp - sn * skq;
          s[k * n + q] = sn * skp + c * skq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // rows p and q
          const double spk = s[p * n + k], sqk = s[q * n + k];
          s[p * n + k] = c * spk - sn * sqk;
          s[q * n + k] = sn * spk + c * sqk;
        }
        for (std::size_t k = 0; k < n; ++k) {
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - sn * vkq;
          v[k * n + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
}

// Scales `v` (dimension d) to unit length, or to zero when it is (numerically) zero.
void Normalise(float* v, std::size_t d) {
  double norm = 0;
  for (std::size_t j = 0; j < d; ++j) norm += static_cast<double>(v[j]) * v[j];
  if (norm < 1e-24) {
    std::fill(v, v + d, 0.0f);
    return;
  }
  const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (std::size_t j = 0; j < d; ++j) v[j] *= inv;
}

}  // namespace

// ---- LsaStatistics -----------------------------------------------------------------------------

Status LsaStatistics::Save(const std::string& path) const {
  std::string out;
  out.append(kLsaMagic, sizeof(kLsaMagic));
  PutRaw(out, static_cast<std::uint32_t>(dimension));
  PutRaw(out, documents);
  PutRaw(out, static_cast<std::uint64_t>(terms.size()));
  for (std::size_t i = 0; i < terms.size(); ++i) {
    PutRaw(out, static_cast<std::uint32_t>(terms[i].size()));
    out.append(terms[i]);
    PutRaw(out, df[i]);
  }
  out.append(reinterpret_cast<const char*>(vectors.data()), vectors.size() * sizeof(float));
  return WriteFileAtomically(path, out);
}

Result<LsaStatistics> LsaStatistics::Load(const std::string& path, int dimension) {
  std::string bytes;
  LUMEN_RETURN_IF_ERROR(ReadWholeFile(path, bytes));
  BinaryReader r(bytes);
  std::string_view magic, blob;
  std::uint32_t dim = 0;
  std::uint64_t nterms = 0;
  LsaStatistics s;
  if (!r.Bytes(sizeof(kLsaMagic), magic) || magic != std::string_view(kLsaMagic, 8) ||
      !r.Get(dim) || !r.Get(s.documents) || !r.Get(nterms))
    return Corruption(path + ": not a Lumen LSA statistics file");
  if (static_cast<int>(dim) != dimension)
    return InvalidArgument(path + ": LSA statistics of dimension " + std::to_string(dim) +
                           ", not " + std::to_string(dimension));
  if (nterms > kMaxTerms) return Corruption(path + ": implausible term count");
  s.dimension = dimension;
  s.terms.reserve(nterms);
  s.df.reserve(nterms);
  for (std::uint64_t i = 0; i < nterms; ++i) {
    std::uint32_t len = 0, df = 0;
    if (!r.Get(len) || len > kMaxTermBytes || !r.Bytes(len, blob) || !r.Get(df))
      return Corruption(path + ": truncated term list");
    s.terms.emplace_back(blob);
    s.df.push_back(df);
  }
  const std::size_t floats = nterms * static_cast<std::size_t>(dimension);
  if (!r.Bytes(floats * sizeof(float), blob) || !r.done())
    return Corruption(path + ": truncated term vectors");
  s.vectors.resize(floats);
  std::memcpy(s.vectors.data(), blob.data(), blob.size());
  for (float x : s.vectors)
    if (!std::isfinite(x)) return Corruption(path + ": non-finite term vector");
  return s;
}

// ---- LsaEmbedder -------------------------------------------------------------------------------

LsaEmbedder::LsaEmbedder() : LsaEmbedder(Options{}) {}

LsaEmbedder::LsaEmbedder(Options options)
    : options_(options), stemmer_(sb_stemmer_new("porter", nullptr), &sb_stemmer_delete) {
  options_.dimension = std::max(1, options_.dimension);
  stats_.dimension = options_.dimension;
}

LsaEmbedder::~LsaEmbedder() = default;

std::unordered_map<std::string, int> LsaEmbedder::TermCounts(std::string_view text) const {
  std::unordered_map<std::string, int> counts;
  std::lock_guard lock(stem_mu_);
  for (const std::string& w : SplitWords(text)) {
    if (IsStopWord(w)) continue;
    const sb_symbol* s =
        stemmer_ ? sb_stemmer_stem(stemmer_.get(), reinterpret_cast<const sb_symbol*>(w.data()),
                                   static_cast<int>(w.size()))
                 : nullptr;
    if (s == nullptr) {
      ++counts[w];
    } else {
      ++counts[std::string(reinterpret_cast<const char*>(s),
                           static_cast<std::size_t>(sb_stemmer_length(stemmer_.get())))];
    }
  }
  return counts;
}

void LsaEmbedder::ResetCorpus() {
  corpus_df_.clear();
  stats_ = LsaStatistics{};
  stats_.dimension = options_.dimension;
  singular_values_.clear();
  IndexTerms();
}

void LsaEmbedder::ObserveCorpus(std::span<const std::string_view> texts) {
  for (std::string_view t : texts) {
    for (const auto& [term, n] : TermCounts(t)) ++corpus_df_[term];
    ++stats_.documents;
  }
}

void LsaEmbedder::FinishCorpus(std::span<const std::string_view> all) {
  const std::span<const std::string_view> sample =
      all.subspan(0, std::min(all.size(), options_.sample));
  // Vocabulary: the stems of the sample, most frequent (in the sample) first.
  std::vector<std::unordered_map<std::string, int>> rows;
  rows.reserve(sample.size());
  std::unordered_map<std::string, std::uint32_t> sample_df;
  for (std::string_view t : sample) {
    rows.push_back(TermCounts(t));
    for (const auto& [term, n] : rows.back()) ++sample_df[term];
  }
  std::vector<std::pair<std::uint32_t, std::string>> by_df;
  for (const auto& [term, n] : sample_df) by_df.emplace_back(n, term);
  std::sort(by_df.begin(), by_df.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (by_df.size() > options_.max_terms) by_df.resize(options_.max_terms);
  stats_.terms.clear();
  stats_.df.clear();
  if (stats_.documents == 0) stats_.documents = sample.size();  // fitted without ObserveCorpus
  const auto documents = static_cast<std::uint32_t>(std::max<std::uint64_t>(stats_.documents, 1));
  for (const auto& [n, term] : by_df) {
    auto it = corpus_df_.find(term);
    stats_.terms.push_back(term);
    // A sample term the corpus pass did not see (statistics fitted without ObserveCorpus) takes
    // its sample frequency.
    stats_.df.push_back(std::min(documents, it == corpus_df_.end() ? n : it->second));
  }
  corpus_df_.clear();
  IndexTerms();

  // The sample's TF-IDF matrix, rows L2-normalised.
  SparseRows a;
  a.cols = stats_.terms.size();
  for (const auto& counts : rows) {
    double norm = 0;
    const std::size_t from = a.col.size();
    for (const auto& [term, n] : counts) {
      auto it = row_of_.find(term);
      if (it == row_of_.end()) continue;
      const double w = (1 + std::log(static_cast<double>(n))) * idf_[it->second];
      if (w <= 0) continue;
      a.col.push_back(it->second);
      a.value.push_back(w);
      norm += w * w;
    }
    norm = std::sqrt(norm);
    for (std::size_t p = from; p < a.value.size(); ++p) a.value[p] /= norm;
    a.begin.push_back(a.col.size());
  }
  rows.clear();

  const auto k = static_cast<std::size_t>(options_.dimension);
  const std::size_t l = std::min<std::size_t>(k + 10, std::max<std::size_t>(a.cols, 1));
  stats_.vectors.assign(a.cols * k, 0.0f);
  if (a.rows() == 0 || a.cols == 0) return;
  // Randomised SVD: a Gaussian sketch of the column space, refined by power iterations.
  Dense omega(a.cols, l);
  std::mt19937_64 rng(options_.seed);
  std::normal_distribution<double> gauss;
  for (double& x : omega.a) x = gauss(rng);
  Dense y = Times(a, omega);
  Orthonormalise(y, 1);
  for (int it = 0; it < options_.power_iterations; ++it) {
    Dense z = TransposeTimes(a, y);
    Orthonormalise(z, 1);
    y = Times(a, z);
    Orthonormalise(y, it + 1 == options_.power_iterations ? 2 : 1);
  }
  if (options_.power_iterations <= 0) Orthonormalise(y, 2);
  // B^T = A^T Q (terms x l); B B^T = (A^T Q)^T (A^T Q) = W diag(sigma^2) W^T.
  const Dense bt = TransposeTimes(a, y);
  std::vector<double> gram(l * l, 0.0), w;
  for (std::size_t t = 0; t < bt.rows; ++t) {
    const double* r = bt.row(t);
    for (std::size_t i = 0; i < l; ++i)
      for (std::size_t j = 0; j < l; ++j) gram[i * l + j] += r[i] * r[j];
  }
  JacobiEigen(gram, w, l);
  std::vector<std::size_t> order(l);
  for (std::size_t i = 0; i < l; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y2) { return gram[x * l + x] > gram[y2 * l + y2]; });
  // Right singular vectors: V = B^T W diag(1 / sigma), the top k of them.
  for (std::size_t c = 0; c < std::min(k, l); ++c) {
    const std::size_t e = order[c];
    const double sigma = std::sqrt(std::max(0.0, gram[e * l + e]));
    singular_values_.push_back(sigma);
    if (sigma < 1e-9) continue;
    for (std::size_t t = 0; t < bt.rows; ++t) {
      double v = 0;
      for (std::size_t i = 0; i < l; ++i) v += bt.row(t)[i] * w[i * l + e];
      stats_.vectors[t * k + c] = static_cast<float>(v / sigma);
    }
  }
}

void LsaEmbedder::IndexTerms() {
  row_of_.clear();
  idf_.assign(stats_.terms.size(), 0.0f);
  const double n = static_cast<double>(std::max<std::uint64_t>(stats_.documents, 1));
  for (std::size_t i = 0; i < stats_.terms.size(); ++i) {
    row_of_.emplace(stats_.terms[i], static_cast<std::int32_t>(i));
    idf_[i] = static_cast<float>(std::log(n / std::max<double>(stats_.df[i], 1)));
  }
}

Status LsaEmbedder::LoadStatistics(const std::string& path) {
  LUMEN_ASSIGN_OR_RETURN(LsaStatistics s, LsaStatistics::Load(path, options_.dimension));
  stats_ = std::move(s);
  singular_values_.clear();
  IndexTerms();
  return Status::Ok();
}

Status LsaEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole /*role*/,
                          std::vector<float>& out) const {
  const auto d = static_cast<std::size_t>(options_.dimension);
  out.assign(texts.size() * d, 0.0f);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    float* v = &out[i * d];
    for (const auto& [term, n] : TermCounts(texts[i])) {
      auto it = row_of_.find(term);
      if (it == row_of_.end()) continue;
      const auto w = static_cast<float>((1 + std::log(static_cast<double>(n))) * idf_[it->second]);
      const float* t = &stats_.vectors[static_cast<std::size_t>(it->second) * d];
      for (std::size_t j = 0; j < d; ++j) v[j] += w * t[j];
    }
    Normalise(v, d);
  }
  return Status::Ok();
}

// ---- JointEmbedder -----------------------------------------------------------------------------

JointEmbedder::JointEmbedder(std::unique_ptr<Embedder> first, std::unique_ptr<Embedder> second,
                             double second_weight)
    : first_(std::move(first)), second_(std::move(second)), weight_(std::max(0.0, second_weight)) {}

std::string JointEmbedder::name() const {
  char w[32];
  std::snprintf(w, sizeof(w), "%g", weight_);
  return first_->name() + "+" + second_->name() + "@" + w;
}

Status JointEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole role,
                            std::vector<float>& out) const {
  std::vector<float> a, b;
  LUMEN_RETURN_IF_ERROR(first_->Embed(texts, role, a));
  LUMEN_RETURN_IF_ERROR(second_->Embed(texts, role, b));
  const auto da = static_cast<std::size_t>(first_->dimension());
  const auto db = static_cast<std::size_t>(second_->dimension());
  const auto sa = static_cast<float>(std::sqrt(1 / (1 + weight_)));
  const auto sb = static_cast<float>(std::sqrt(weight_ / (1 + weight_)));
  out.assign(texts.size() * (da + db), 0.0f);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    float* v = &out[i * (da + db)];
    for (std::size_t j = 0; j < da; ++j) v[j] = sa * a[i * da + j];
    for (std::size_t j = 0; j < db; ++j) v[da + j] = sb * b[i * db + j];
    Normalise(v, da + db);
  }
  return Status::Ok();
}

bool JointEmbedder::uses_corpus_statistics() const {
  return first_->uses_corpus_statistics() || second_->uses_corpus_statistics();
}
void JointEmbedder::ResetCorpus() {
  first_->ResetCorpus();
  second_->ResetCorpus();
}
void JointEmbedder::ObserveCorpus(std::span<const std::string_view> texts) {
  first_->ObserveCorpus(texts);
  second_->ObserveCorpus(texts);
}
void JointEmbedder::FinishCorpus(std::span<const std::string_view> sample) {
  first_->FinishCorpus(sample);
  second_->FinishCorpus(sample);
}
Status JointEmbedder::SaveStatistics(const std::string& path) const {
  LUMEN_RETURN_IF_ERROR(first_->SaveStatistics(path));
  return second_->SaveStatistics(path + ".2");
}
Status JointEmbedder::LoadStatistics(const std::string& path) {
  LUMEN_RETURN_IF_ERROR(first_->LoadStatistics(path));
  return second_->LoadStatistics(path + ".2");
}

}  // namespace lumen::retrieval
