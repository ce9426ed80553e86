#include "core/inner_product.h"

#if defined(__x86_64__)
#include "core/x86_intrinsics.h"
#endif

namespace lumen {
namespace {

float DotScalar(const float* a, const float* b, std::size_t n) {
  // Four partial sums: the compiler vectorises this with the baseline SSE2 it may assume.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float InnerProductAvx2(const float* a, const float* b,
                                                           std::size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  float r = _mm_cvtss_f32(s);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

__attribute__((target("avx512f"))) float InnerProductAvx512(const float* a, const float* b,
                                                            std::size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i + 16 <= n; i += 16)
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
#endif

namespace {

using DotFn = float (*)(const float*, const float*, std::size_t);

struct Dispatch {
  DotFn dot;
  std::string_view isa;
};

// The kernel of the named instruction set, or null when this CPU (or build) lacks it.
DotFn Kernel(std::string_view isa) {
  if (isa == "scalar") return DotScalar;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (isa == "avx512" && __builtin_cpu_supports("avx512f")) return InnerProductAvx512;
  if (isa == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return InnerProductAvx2;
#endif
  return nullptr;
}

Dispatch Choose() {
  for (std::string_view isa : {"avx512", "avx2"})
    if (DotFn dot = Kernel(isa)) return {dot, isa};
  return {DotScalar, "scalar"};
}

const Dispatch& Chosen() {
  static const Dispatch d = Choose();
  return d;
}

}  // namespace

float InnerProduct(const float* a, const float* b, std::size_t n) {
  return Chosen().dot(a, b, n);
}

void InnerProducts(const float* query, const float* base, std::size_t d, std::size_t count,
                   float* out) {
  const DotFn dot = Chosen().dot;
  for (std::size_t j = 0; j < count; ++j) out[j] = dot(query, base + j * d, d);
}

std::string_view InnerProductIsa() {
  return Chosen().isa;
}

bool InnerProductWith(std::string_view isa, const float* a, const float* b, std::size_t n,
                      float* out) {
  const DotFn dot = Kernel(isa);
  if (dot == nullptr) return false;
  *out = dot(a, b, n);
  return true;
}

}  // namespace lumen
