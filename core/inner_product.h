// Inner products of float vectors with runtime SIMD dispatch (AVX-512, AVX2 + FMA, scalar).
// Shared by the vector index and the model engine's kernel tables (llm/cpu/simd_*.cc).
//
// Why Lumen has its own: Debian's libfaiss (1.7.3) is built for the x86-64 baseline, so its
// distance functions are the scalar reference loops (`fvec_inner_product_ref` was half of all
// query time at 1M passages). The vector index plugs these into FAISS through its
// distance-computer and search interfaces (retrieval/vector_index.cc); FAISS keeps the index
// structures, their training, and the file format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lumen {

// Σ a[i]·b[i] for i < n.
float InnerProduct(const float* a, const float* b, std::size_t n);

// out[j] = InnerProduct(query, base + j·d, d) for j < count.
void InnerProducts(const float* query, const float* base, std::size_t d, std::size_t count,
                   float* out);

// The instruction set the dispatch chose: "avx512", "avx2" or "scalar".
std::string_view InnerProductIsa();

// Σ a[i]·b[i] computed with the named instruction set ("avx512", "avx2", "scalar"), for tests
// of every path; false (nothing written) when this CPU or build does not have it.
bool InnerProductWith(std::string_view isa, const float* a, const float* b, std::size_t n,
                      float* out);

// The per-ISA kernels themselves, for dispatch tables that choose for themselves. Each needs
// its instruction set (AVX2 + FMA; AVX-512 F) at run time; only declared on x86-64.
#if defined(__x86_64__)
float InnerProductAvx2(const float* a, const float* b, std::size_t n);
float InnerProductAvx512(const float* a, const float* b, std::size_t n);
#endif

}  // namespace lumen
