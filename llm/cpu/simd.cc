#include "llm/cpu/simd.h"

#include <algorithm>
#include <array>
#include <cmath>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <cstring>

#include "llm/cpu/amx.h"
#include "llm/fp8.h"
#include "llm/weights.h"

namespace lumen::llm::cpu {

// Defined in simd_avx2.cc and simd_avx512.cc (compiled with per-function target attributes, so
// the rest of the program runs on any x86-64).
const SimdKernels& Avx2Kernels();
const SimdKernels& Avx512Kernels();
const SimdKernels& Avx512VbmiKernels();

namespace {

#if defined(__x86_64__)
// F16C (half <-> float conversion) from CPUID leaf 1, ECX bit 29 (clang has no
// __builtin_cpu_supports("f16c")).
bool HasF16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
#endif

const std::array<float, 256>& E4M3Table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = DecodeE4M3(static_cast<std::uint8_t>(i));
    return t;
  }();
  return table;
}

float Dot(const float* a, const float* b, std::size_t n) {
  float s = 0.0f;
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void Axpy(float a, const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void DecodeFp8(const std::uint8_t* src, float scale, std::size_t n, float* dst) {
  const auto& t = E4M3Table();
  for (std::size_t i = 0; i < n; ++i) dst[i] = t[src[i]] * scale;
}

void DecodeBf16(const std::uint16_t* src, std::size_t n, float* dst) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(src[i]);
}

void DecodeF16(const std::uint16_t* src, std::size_t n, float* dst) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = F16ToFloat(src[i]);
}

void DotFp8Rows4(const std::uint8_t* w, std::size_t stride, std::size_t /*ahead*/,
                 const float* const scales[4], std::size_t block, const float* x, std::size_t n,
                 float out[4]) {
  const auto& t = E4M3Table();
  for (int r = 0; r < 4; ++r) {
    const std::uint8_t* row = w + r * stride;
    float total = 0.0f;
    for (std::size_t j0 = 0; j0 < n; j0 += block) {
      const std::size_t j1 = j0 + block < n ? j0 + block : n;
      float s = 0.0f;
      for (std::size_t j = j0; j < j1; ++j) s += t[row[j]] * x[j];
      total += s * scales[r][j0 / block];
    }
    out[r] = total;
  }
}

void DotBf16Rows4(const std::uint16_t* w, std::size_t stride, std::size_t /*ahead*/, const float* x,
                  std::size_t n, float out[4]) {
  for (int r = 0; r < 4; ++r) {
    const std::uint16_t* row = w + r * stride;
    float s = 0.0f;
    for (std::size_t j = 0; j < n; ++j) s += Bf16ToFloat(row[j]) * x[j];
    out[r] = s;
  }
}

void DotF32Rows4x2(const float* w, std::size_t stride, const float* x, std::size_t x_stride,
                   std::size_t n, float out[8]) {
  for (int r = 0; r < 4; ++r) {
    out[r * 2] = Dot(w + r * stride, x, n);
    out[r * 2 + 1] = Dot(w + r * stride, x + x_stride, n);
  }
}

void AxpyBf16Rows(const float* a, const std::uint16_t* w, std::size_t stride, std::size_t rows,
                  std::size_t n, float* y) {
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < n; ++j) y[j] += a[r] * Bf16ToFloat(w[r * stride + j]);
  }
}

void Softmax(float* x, std::size_t n, float scale) {
  float max = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) max = std::max(max, x[i] *= scale);
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += x[i] = std::exp(x[i] - max);
  const float inv = 1.0f / sum;
  for (std::size_t i = 0; i < n; ++i) x[i] *= inv;
}

const SimdKernels kScalar = {Isa::kScalar, Dot,     Axpy,        DecodeFp8,    DecodeBf16,
                             DecodeF16,    nullptr, DotFp8Rows4, DotBf16Rows4, DotF32Rows4x2,
                             AxpyBf16Rows, Softmax, nullptr,     nullptr,      nullptr};

}  // namespace

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx512Vbmi: return "avx512vbmi";
    case Isa::kAmx: return "amx";
  }
  return "?";
}

bool CpuSupports(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasF16c();
    case Isa::kAvx512:
      return CpuSupports(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    case Isa::kAvx512Vbmi: return CpuSupports(Isa::kAvx512) && __builtin_cpu_supports("avx512vbmi");
    case Isa::kAmx: return CpuSupports(Isa::kAvx512Vbmi) && AmxSupported();
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

Isa BestIsa() {
  if (CpuSupports(Isa::kAmx)) return Isa::kAmx;
  if (CpuSupports(Isa::kAvx512Vbmi)) return Isa::kAvx512Vbmi;
  if (CpuSupports(Isa::kAvx512)) return Isa::kAvx512;
  if (CpuSupports(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

Result<Isa> ParseIsa(std::string_view name) {
  Isa isa;
  if (name == "auto") return BestIsa();
  if (name == "scalar") {
    isa = Isa::kScalar;
  } else if (name == "avx2") {
    isa = Isa::kAvx2;
  } else if (name == "avx512") {
    isa = Isa::kAvx512;
  } else if (name == "avx512vbmi") {
    isa = Isa::kAvx512Vbmi;
  } else if (name == "amx") {
    isa = Isa::kAmx;
  } else {
    return InvalidArgument("unknown instruction set \"" + std::string(name) +
                           "\" (auto, amx, avx512vbmi, avx512, avx2 or scalar)");
  }
  if (!CpuSupports(isa)) {
    return InvalidArgument("this CPU does not support " + std::string(name));
  }
  return isa;
}

const SimdKernels& KernelsFor(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::kAmx) {
    static const SimdKernels amx = [] {
      SimdKernels k = Avx512VbmiKernels();
      k.isa = Isa::kAmx;
      return k;
    }();
    return amx;
  }
  if (isa == Isa::kAvx512Vbmi) return Avx512VbmiKernels();
  if (isa == Isa::kAvx512) return Avx512Kernels();
  if (isa == Isa::kAvx2) return Avx2Kernels();
#endif
  return kScalar;
}

}  // namespace lumen::llm::cpu
