// Embedder: turns texts into fixed-size, L2-normalised float vectors, so that the inner product
// of two vectors is their cosine similarity. One interface, several implementations (the GloVe
// SIF embedder in glove_embedder.h now; a transformer sentence encoder later).
//
// Data convention (as in FAISS): a batch of n vectors of dimension d is one contiguous float
// array, component j of vector i at out[i * d + j].
//
// A text with no usable content (empty, or no known word) embeds to the zero vector: it matches
// nothing rather than everything.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace lumen::retrieval {

// Some encoders embed questions and passages differently (e.g. "query: " prefixes).
enum class EmbedRole { kQuery, kPassage };

class Embedder {
 public:
  virtual ~Embedder() = default;

  // Stable name written next to the vectors it produced ("glove-6b-100d-sif"); vectors made by
  // an embedder of another name or dimension are never mixed with these.
  virtual std::string name() const = 0;
  virtual int dimension() const = 0;

  // Embeds `texts`, replacing `out` with texts.size() * dimension() floats, each row of unit
  // length or zero. Thread-safe: const and callable from several threads at once.
  virtual Status Embed(std::span<const std::string_view> texts, EmbedRole role,
                       std::vector<float>& out) const = 0;

  // Corpus statistics, for embedders whose vectors depend on the indexed corpus (SIF word
  // frequencies and principal component). An index build calls ObserveCorpus with every passage
  // text (in batches), then FinishCorpus with a sample of them, then embeds; the statistics are
  // saved next to the index (SaveStatistics) and loaded before queries are embedded. Not
  // thread-safe with Embed. Embedders without statistics keep these no-ops.
  virtual bool uses_corpus_statistics() const { return false; }
  virtual void ResetCorpus() {}
  virtual void ObserveCorpus(std::span<const std::string_view> /*texts*/) {}
  virtual void FinishCorpus(std::span<const std::string_view> /*sample*/) {}
  virtual Status SaveStatistics(const std::string& /*path*/) const { return Status::Ok(); }
  virtual Status LoadStatistics(const std::string& /*path*/) { return Status::Ok(); }

  // Convenience for one text.
  Result<std::vector<float>> EmbedOne(std::string_view text, EmbedRole role) const {
    std::vector<float> out;
    const std::string_view one[] = {text};
    LUMEN_RETURN_IF_ERROR(Embed(one, role, out));
    return out;
  }
};

// The embedder named by configuration key index.embedder ("glove-sif"; index.sif_a). kNotFound
// when its assets are missing (the message names the file and how to fetch it),
// kInvalidArgument for an unknown name.
Result<std::unique_ptr<Embedder>> CreateEmbedder(const Config& config);

}  // namespace lumen::retrieval
