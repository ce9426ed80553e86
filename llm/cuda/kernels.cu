// Kernels of the CUDA engine (see kernels.h for the layouts and contracts).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "llm/cuda/device_memory.h"
#include "llm/cuda/kernels.h"
#include "llm/cuda/plan/moe_plan.h"
#include "llm/cuda/plan/online_softmax.h"

namespace lumen::llm::cuda {
namespace {

constexpr int kWarp = 32;

__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Programmatic dependent launch (Hopper): every kernel lets the next one in the stream start
// launching at once (PdlAllowNext), and waits for the previous one to finish and its writes to
// be visible (PdlWait) before it reads or writes anything a kernel writes; only immutable data
// (weights) may be read before the wait. Both are no-ops in a kernel launched without the
// attribute (LaunchKernel with Device::pdl off).
__device__ __forceinline__ void PdlAllowNext() {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}
__device__ __forceinline__ void PdlWait() {
  asm volatile("griddepcontrol.wait;" ::: "memory");
}
__device__ __forceinline__ void PdlBegin() {
  PdlAllowNext();
  PdlWait();
}

__device__ __forceinline__ float Fp8ToFloat(std::uint8_t code) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(code), __NV_E4M3);
  return __half2float(__half(h));
}

__device__ __forceinline__ float Silu(float g) {
  return g / (1.0f + expf(-g));
}

__device__ __forceinline__ float Bf16BitsToFloat(std::uint16_t bits) {
  return __uint_as_float(static_cast<unsigned>(bits) << 16);
}

template <WeightFormat F>
__host__ __device__ constexpr int FormatBytes() {
  return F == WeightFormat::kFp8 ? 1 : F == WeightFormat::kBf16 ? 2 : 4;
}

// Element `i` of row `row` of one matrix (no scale).
template <WeightFormat F>
__device__ __forceinline__ float LoadWeight(const void* base, std::size_t i) {
  if constexpr (F == WeightFormat::kFp8) {
    return Fp8ToFloat(static_cast<const std::uint8_t*>(base)[i]);
  } else if constexpr (F == WeightFormat::kBf16) {
    return Bf16BitsToFloat(static_cast<const std::uint16_t*>(base)[i]);
  } else {
    return static_cast<const float*>(base)[i];
  }
}

// Decodes one 16-byte chunk into 16 / bytes floats.
template <WeightFormat F>
__device__ __forceinline__ void DecodeChunk(const uint4& raw, float* out) {
  if constexpr (F == WeightFormat::kFp8) {
    const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int w = 0; w < 4; ++w) {
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const __nv_fp8x2_storage_t pair =
            static_cast<__nv_fp8x2_storage_t>((words[w] >> (16 * p)) & 0xFFFFu);
        const __half2 h = __half2(__nv_cvt_fp8x2_to_halfraw2(pair, __NV_E4M3));
        const float2 f = __half22float2(h);
        out[w * 4 + p * 2] = f.x;
        out[w * 4 + p * 2 + 1] = f.y;
      }
    }
  } else if constexpr (F == WeightFormat::kBf16) {
    const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      out[2 * w] = __uint_as_float(words[w] << 16);
      out[2 * w + 1] = __uint_as_float(words[w] & 0xFFFF0000u);
    }
  } else {
    out[0] = __uint_as_float(raw.x);
    out[1] = __uint_as_float(raw.y);
    out[2] = __uint_as_float(raw.z);
    out[3] = __uint_as_float(raw.w);
  }
}

// Launches `kernel` on the device's stream, with programmatic stream serialisation when the
// device allows it (Device::pdl), and checks the launch.
template <typename... KernelArgs, typename... Args>
Status LaunchKernel(const Device& dev, const char* name, void (*kernel)(KernelArgs...), dim3 grid,
                    dim3 block, std::size_t shared, Args&&... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared;
  config.stream = dev.stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = dev.pdl ? 1 : 0;
  const cudaError_t e = cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
  if (e != cudaSuccess) return CudaError(e, name, __FILE__, __LINE__);
  return Status::Ok();
}

// ---- decode GEMV ------------------------------------------------------------------------------

struct GemvArgs {
  DeviceMatrix w[GemvSegments::kMax];  // segments: same format, columns, block width
  float* y[GemvSegments::kMax];
  int blocks_end[GemvSegments::kMax];
  int segments;
  const float* x;
  const float* x_up;  // not null: the input is silu(x) ⊙ x_up (SwiGLU, vectorized form only)
  int n;              // vectors (plain form)
  int accumulate;     // y += instead of y =
  int warps_per_row;
  int rows_per_block;
  ExpertRows g;  // grouped form when g.tile_expert != nullptr
};

// The matrix of the launch a block works on (its segments follow each other: blocks_end is
// increasing), the output that matrix writes and the block's first row in it.
struct GemvBlock {
  DeviceMatrix w;
  float* y;
  int row0;
};
__device__ __forceinline__ GemvBlock GemvBlockOf(const GemvArgs& a) {
  int seg = 0;
#pragma unroll
  for (int i = 0; i + 1 < GemvSegments::kMax; ++i)
    seg += i + 1 < a.segments && static_cast<int>(blockIdx.x) >= a.blocks_end[i];
  const int first_block = seg == 0 ? 0 : seg == 1 ? a.blocks_end[0] : a.blocks_end[1];
  return {seg == 0   ? a.w[0]
          : seg == 1 ? a.w[1]
                     : a.w[2],
          seg == 0   ? a.y[0]
          : seg == 1 ? a.y[1]
                     : a.y[2],
          (static_cast<int>(blockIdx.x) - first_block) * a.rows_per_block};
}

// The V input vectors of a block and the output row each one goes to (-1: none): vector v is
// x row v (plain form), or padded row v of the block's expert tile (grouped form: returns the
// tile's expert, -1 for an unused tile).
template <int V>
__device__ __forceinline__ int GemvVectors(const GemvArgs& a, int cols, const float* (&xs)[V],
                                           int (&yrow)[V]) {
  if (a.g.tile_expert == nullptr) {
#pragma unroll
    for (int v = 0; v < V; ++v) {
      yrow[v] = v < a.n ? v : -1;
      xs[v] = v < a.n ? a.x + static_cast<std::size_t>(v) * cols : nullptr;
    }
    return 0;
  }
  const int tile = static_cast<int>(blockIdx.y);
  const int expert = a.g.tile_expert[tile];
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const int pr = tile * a.g.tile + v;
    const int as = expert >= 0 && v < a.g.tile ? a.g.rows[pr] : -1;
    yrow[v] = as >= 0 ? pr : -1;
    const int xr = a.g.gather_k > 0 ? as / a.g.gather_k : pr;
    xs[v] = as >= 0 ? a.x + static_cast<std::size_t>(xr) * cols : nullptr;
  }
  return expert;
}

// A 16-byte load that streams past L1 (each weight byte is used once; L1 keeps the activations)
// and asks L2 for whole 256-byte sectors (rows are read front to back).
__device__ __forceinline__ uint4 LoadStreaming(const uint4* p) {
  uint4 r;
  asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
      : "l"(p));
  return r;
}

// Vectorized form. Warp (group, part) of a block computes the R rows of its group over chunks
// part·32 + lane + k·32·warps_per_row. A lane issues kDepth chunk loads of every row
// (R · kDepth 16-byte loads in flight) and the loads of their scales before the block
// copies its input vectors into shared memory; then it decodes each chunk once and reads each
// activation chunk once (from shared memory) for all the rows.
template <WeightFormat F, int V, int R>
__global__ void __launch_bounds__(256, V == 1 ? (R == 4   ? 2
                                                 : R == 2 ? 3
                                                          : 4)
                                              : 1) GemvRowsKernel(GemvArgs a) {
  constexpr int kDepth = 4, kElems = 16 / FormatBytes<F>();
  extern __shared__ float4 xsm[];  // [V][cols / 4]: the input vectors
  __shared__ float partial[8][R][V];
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int group = warp / a.warps_per_row;
  const int part = warp % a.warps_per_row;
  const GemvBlock block = GemvBlockOf(a);
  const DeviceMatrix& w = block.w;
  float* const y = block.y;
  const int r0 = block.row0 + group * R;
  // The grouped form learns its expert (which weights to read) from the previous kernels.
  const bool grouped = a.g.tile_expert != nullptr;
  PdlAllowNext();
  if (grouped) PdlWait();
  const float* xs[V];
  int yrow[V];
  const int expert = GemvVectors<V>(a, w.cols, xs, yrow);
  if (expert < 0) return;  // whole block: unused tile

  const int chunks = w.cols / kElems;
  const char* base = static_cast<const char*>(w.data) + expert * w.expert_bytes;
  const uint4* wrow[R];
  const float* srow[R];
  bool ok[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int row = r0 + r;
    ok[r] = row < w.rows;
    wrow[r] = reinterpret_cast<const uint4*>(base + static_cast<std::size_t>(ok[r] ? row : 0) *
                                                        w.cols * FormatBytes<F>());
    srow[r] = nullptr;
    if constexpr (F == WeightFormat::kFp8) {
      srow[r] = w.scales + expert * w.expert_scales +
                static_cast<std::size_t>((ok[r] ? row : 0) / w.block_rows) * w.scale_cols;
    }
  }
  const int stride = kWarp * a.warps_per_row;
  int c0 = part * kWarp + lane;
  uint4 raw[R][kDepth];
  float scale[R][kDepth];
  // Issues the loads of chunks c0 + i·stride (zeros past the row or the matrix).
  auto issue = [&](int first) {
#pragma unroll
    for (int i = 0; i < kDepth; ++i) {
      const int c = first + i * stride;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const bool in = ok[r] && c < chunks;
        raw[r][i] = in ? LoadStreaming(wrow[r] + c) : make_uint4(0, 0, 0, 0);
        scale[r][i] = 1.0f;
        if constexpr (F == WeightFormat::kFp8) {
          if (in) scale[r][i] = __ldg(srow[r] + (c * kElems) / w.block_cols);
        }
      }
    }
  };
  issue(c0);
  if (!grouped) PdlWait();
  // The input vectors into shared memory while the weight loads are in flight.
  const int quads = w.cols / 4;
#pragma unroll
  for (int v = 0; v < V; ++v) {
    if (xs[v] == nullptr) continue;
    const float4* src = reinterpret_cast<const float4*>(xs[v]);
    if (a.x_up == nullptr) {
      for (int i = static_cast<int>(threadIdx.x); i < quads; i += static_cast<int>(blockDim.x))
        xsm[v * quads + i] = __ldg(src + i);
    } else {
      const float4* up = reinterpret_cast<const float4*>(a.x_up + (xs[v] - a.x));
      for (int i = static_cast<int>(threadIdx.x); i < quads; i += static_cast<int>(blockDim.x)) {
        const float4 g = __ldg(src + i), u = __ldg(up + i);
        xsm[v * quads + i] =
            make_float4(Silu(g.x) * u.x, Silu(g.y) * u.y, Silu(g.z) * u.z, Silu(g.w) * u.w);
      }
    }
  }
  __syncthreads();

  float acc[R][V];
#pragma unroll
  for (int r = 0; r < R; ++r) {
#pragma unroll
    for (int v = 0; v < V; ++v) acc[r][v] = 0.0f;
  }
  while (c0 < chunks) {
#pragma unroll
    for (int i = 0; i < kDepth; ++i) {
      const int c = c0 + i * stride;
      if (c >= chunks) break;
      float wf[R][kElems];
#pragma unroll
      for (int r = 0; r < R; ++r) DecodeChunk<F>(raw[r][i], wf[r]);
#pragma unroll
      for (int v = 0; v < V; ++v) {
        if (xs[v] == nullptr) continue;
        float xv[kElems];
#pragma unroll
        for (int q = 0; q < kElems / 4; ++q) {
          const float4 t = xsm[v * quads + c * (kElems / 4) + q];
          xv[4 * q] = t.x;
          xv[4 * q + 1] = t.y;
          xv[4 * q + 2] = t.z;
          xv[4 * q + 3] = t.w;
        }
#pragma unroll
        for (int r = 0; r < R; ++r) {
          float s = 0.0f;
#pragma unroll
          for (int e = 0; e < kElems; ++e) s += wf[r][e] * xv[e];
          acc[r][v] += s * scale[r][i];
        }
      }
    }
    c0 += stride * kDepth;
    if (c0 < chunks) issue(c0);
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
#pragma unroll
    for (int v = 0; v < V; ++v) acc[r][v] = WarpSum(acc[r][v]);
  }
  if (lane == 0) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
#pragma unroll
      for (int v = 0; v < V; ++v) partial[warp][r][v] = acc[r][v];
    }
  }
  __syncthreads();
  if (part != 0) return;
    // Lane r·V + v of the group's first warp writes row r for vector v.
#pragma unroll
  for (int r = 0; r < R; ++r) {
#pragma unroll
    for (int v = 0; v < V; ++v) {
      if (lane != (r * V + v) % kWarp || yrow[v] < 0 || !ok[r]) continue;
      float total = 0.0f;
      for (int p = 0; p < a.warps_per_row; ++p) total += partial[group * a.warps_per_row + p][r][v];
      float* out = y + static_cast<std::size_t>(yrow[v]) * w.rows + r0 + r;
      *out = a.accumulate ? *out + total : total;
    }
  }
}

// Element form (rows whose bytes or scale blocks do not allow 16-byte chunks): one output row
// per `warps_per_row` warps, lanes stride over elements.
template <WeightFormat F, int V>
__global__ void __launch_bounds__(256) GemvKernel(GemvArgs a) {
  PdlBegin();
  __shared__ float partial[8][V];
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int row_in_block = warp / a.warps_per_row;
  const int part = warp % a.warps_per_row;
  const GemvBlock block = GemvBlockOf(a);
  const DeviceMatrix& w = block.w;
  float* const y = block.y;
  const int r = block.row0 + row_in_block;
  const float* xs[V];
  int yrow[V];
  const int expert = GemvVectors<V>(a, w.cols, xs, yrow);
  if (expert < 0) return;  // whole block: unused tile

  float acc[V];
#pragma unroll
  for (int v = 0; v < V; ++v) acc[v] = 0.0f;
  if (r < w.rows) {
    const char* base = static_cast<const char*>(w.data) + expert * w.expert_bytes +
                       static_cast<std::size_t>(r) * w.cols * FormatBytes<F>();
    const float* srow = nullptr;
    if constexpr (F == WeightFormat::kFp8) {
      srow = w.scales + expert * w.expert_scales +
             static_cast<std::size_t>(r / w.block_rows) * w.scale_cols;
    }
    const int stride = kWarp * a.warps_per_row;
    for (int c = part * kWarp + lane; c < w.cols; c += stride) {
      float wv = LoadWeight<F>(base, c);
      if constexpr (F == WeightFormat::kFp8) wv *= srow[c / w.block_cols];
#pragma unroll
      for (int v = 0; v < V; ++v) {
        if (xs[v] != nullptr) acc[v] += wv * xs[v][c];
      }
    }
  }
#pragma unroll
  for (int v = 0; v < V; ++v) acc[v] = WarpSum(acc[v]);
  if (lane == 0) {
#pragma unroll
    for (int v = 0; v < V; ++v) partial[warp][v] = acc[v];
  }
  __syncthreads();
  if (part == 0 && r < w.rows) {
#pragma unroll
    for (int v = 0; v < V; ++v) {
      if (lane != v || yrow[v] < 0) continue;
      float total = 0.0f;
      for (int p = 0; p < a.warps_per_row; ++p)
        total += partial[row_in_block * a.warps_per_row + p][v];
      float* out = y + static_cast<std::size_t>(yrow[v]) * w.rows + r;
      *out = a.accumulate ? *out + total : total;
    }
  }
}

template <WeightFormat F, int V>
Status AllowGemvShared() {
  for (auto kernel : {GemvRowsKernel<F, V, 1>, GemvRowsKernel<F, V, 2>, GemvRowsKernel<F, V, 4>}) {
    LUMEN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(GemvLaunch::kMaxSharedBytes)));
  }
  return Status::Ok();
}

template <WeightFormat F, int V>
Status LaunchGemvV(const Device& dev, const GemvLaunch& L, const GemvArgs& a) {
  const dim3 grid(static_cast<unsigned>(L.grid_x), static_cast<unsigned>(L.grid_y));
  const std::size_t shared = sizeof(float) * V * static_cast<std::size_t>(a.w[0].cols);
  if (L.vectorized) {
    if (shared > 48 * 1024 && !dev.gemv_shared_allowed) {
      return Internal("GEMV needs PrepareKernels() for inputs of " + std::to_string(shared) +
                      " bytes");
    }
    auto kernel = L.rows_per_warp == 1   ? GemvRowsKernel<F, V, 1>
                  : L.rows_per_warp == 2 ? GemvRowsKernel<F, V, 2>
                                         : GemvRowsKernel<F, V, 4>;
    LUMEN_RETURN_IF_ERROR(
        LaunchKernel(dev, "gemv", kernel, dim3(grid), dim3(L.threads), shared, a));
  } else {
    LUMEN_RETURN_IF_ERROR(
        LaunchKernel(dev, "gemv", GemvKernel<F, V>, dim3(grid), dim3(L.threads), 0, a));
  }
  return Status::Ok();
}

template <WeightFormat F>
Status LaunchGemvF(const Device& dev, const GemvLaunch& L, const GemvArgs& a) {
  switch (L.vectors) {
    case 1: return LaunchGemvV<F, 1>(dev, L, a);
    case 2: return LaunchGemvV<F, 2>(dev, L, a);
    case 4: return LaunchGemvV<F, 4>(dev, L, a);
    default: return LaunchGemvV<F, 8>(dev, L, a);
  }
}

template <WeightFormat F>
Status AllowGemvSharedF() {
  LUMEN_RETURN_IF_ERROR((AllowGemvShared<F, 1>()));
  LUMEN_RETURN_IF_ERROR((AllowGemvShared<F, 2>()));
  LUMEN_RETURN_IF_ERROR((AllowGemvShared<F, 4>()));
  return AllowGemvShared<F, 8>();
}

Status LaunchGemv(const Device& dev, const GemvLaunch& L, const GemvArgs& a) {
  switch (a.w[0].format) {
    case WeightFormat::kFp8: return LaunchGemvF<WeightFormat::kFp8>(dev, L, a);
    case WeightFormat::kBf16: return LaunchGemvF<WeightFormat::kBf16>(dev, L, a);
    case WeightFormat::kF32: return LaunchGemvF<WeightFormat::kF32>(dev, L, a);
  }
  return Internal("unknown weight format");
}

// ---- prefill GEMM (plain or grouped by expert) --------------------------------------------------

struct GemmArgs {
  DeviceMatrix w;
  const float* x;
  float* y;
  int n;  // tokens (plain form)
  int accumulate;
  ExpertRows g;  // grouped when g.tile_expert != nullptr
};

template <WeightFormat F>
__global__ void __launch_bounds__(256) GemmKernel(GemmArgs a) {
  PdlBegin();
  constexpr int TM = GemmLaunch::kTileM, TN = GemmLaunch::kTileN, TK = GemmLaunch::kTileK;
  __shared__ float as[TK][TM + 4];
  __shared__ float ws[TK][TN + 4];
  __shared__ int xrow[TM], yrow[TM];
  const DeviceMatrix& w = a.w;
  const int tid = static_cast<int>(threadIdx.x);
  const int tile = static_cast<int>(blockIdx.y);
  const int n0 = static_cast<int>(blockIdx.x) * TN;
  int expert = 0;
  if (a.g.tile_expert != nullptr) {
    expert = a.g.tile_expert[tile];
    if (expert < 0) return;
  }
  if (tid < TM) {
    const int pr = tile * TM + tid;
    if (a.g.tile_expert != nullptr) {
      const int as_ = a.g.rows[pr];
      xrow[tid] = as_ < 0 ? -1 : a.g.gather_k > 0 ? as_ / a.g.gather_k : pr;
      yrow[tid] = pr;  // padding rows are written too (from zero inputs)
    } else {
      xrow[tid] = pr < a.n ? pr : -1;
      yrow[tid] = pr < a.n ? pr : -1;
    }
  }
  const char* wbase = static_cast<const char*>(w.data) + expert * w.expert_bytes;
  const float* sbase = F == WeightFormat::kFp8 ? w.scales + expert * w.expert_scales : nullptr;
  const int ty = tid / 16, tx = tid % 16;
  float acc[4][4] = {};
  // Loader roles: row/output (tid / 4) and 8 consecutive columns ((tid % 4) * 8).
  const int lr = tid / 4, lc = (tid % 4) * 8;
  __syncthreads();
  for (int k0 = 0; k0 < w.cols; k0 += TK) {
    {
      const int xr = xrow[lr];
      const float* xp = xr >= 0 ? a.x + static_cast<std::size_t>(xr) * w.cols : nullptr;
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const int k = k0 + lc + i;
        as[lc + i][lr] = (xp != nullptr && k < w.cols) ? xp[k] : 0.0f;
      }
      const int o = n0 + lr;
      const float* srow = (F == WeightFormat::kFp8 && o < w.rows)
                              ? sbase + static_cast<std::size_t>(o / w.block_rows) * w.scale_cols
                              : nullptr;
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const int k = k0 + lc + i;
        float v = 0.0f;
        if (o < w.rows && k < w.cols) {
          v = LoadWeight<F>(wbase, static_cast<std::size_t>(o) * w.cols + k);
          if constexpr (F == WeightFormat::kFp8) v *= srow[k / w.block_cols];
        }
        ws[lc + i][lr] = v;
      }
    }
    __syncthreads();
#pragma unroll 8
    for (int k = 0; k < TK; ++k) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = as[k][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = ws[k][tx * 4 + j];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int yr = yrow[ty * 4 + i];
    if (yr < 0) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int o = n0 + tx * 4 + j;
      if (o >= w.rows) continue;
      float* out = a.y + static_cast<std::size_t>(yr) * w.rows + o;
      *out = a.accumulate ? *out + acc[i][j] : acc[i][j];
    }
  }
}

Status LaunchGemm(const Device& dev, const GemmLaunch& L, const GemmArgs& a) {
  const dim3 grid(static_cast<unsigned>(L.grid_x), static_cast<unsigned>(L.grid_y));
  switch (a.w.format) {
    case WeightFormat::kFp8:
      LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "gemm", GemmKernel<WeightFormat::kFp8>, dim3(grid),
                                         dim3(L.threads), 0, a));
      break;
    case WeightFormat::kBf16:
      LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "gemm", GemmKernel<WeightFormat::kBf16>, dim3(grid),
                                         dim3(L.threads), 0, a));
      break;
    case WeightFormat::kF32:
      LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "gemm", GemmKernel<WeightFormat::kF32>, dim3(grid),
                                         dim3(L.threads), 0, a));
      break;
  }
  return Status::Ok();
}

// ---- element-wise and per-row kernels ---------------------------------------------------------

template <WeightFormat F>
__global__ void EmbedKernel(DeviceMatrix t, const int* ids, float* h) {
  PdlBegin();
  const int tok = static_cast<int>(blockIdx.x);
  const int id = ids[tok];
  const char* base = static_cast<const char*>(t.data);
  for (int d = static_cast<int>(threadIdx.x); d < t.cols; d += static_cast<int>(blockDim.x)) {
    float v = LoadWeight<F>(base, static_cast<std::size_t>(id) * t.cols + d);
    if constexpr (F == WeightFormat::kFp8) {
      v *= t.scales[static_cast<std::size_t>(id / t.block_rows) * t.scale_cols + d / t.block_cols];
    }
    h[static_cast<std::size_t>(tok) * t.cols + d] = v;
  }
}

// Sum over a block of 256 threads (all threads get the result).
__device__ float BlockSum(float v, float* scratch) {
  v = WarpSum(v);
  const int warp = static_cast<int>(threadIdx.x) / kWarp,
            lane = static_cast<int>(threadIdx.x) % kWarp;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = static_cast<int>(blockDim.x + kWarp - 1) / kWarp;
  float s = 0.0f;
  for (int i = 0; i < warps; ++i) s += scratch[i];
  __syncthreads();
  return s;
}

// Block per row: optionally first h[row] += Σ_j weights[row·k + j] · y[slot[row·k + j]] (the
// previous MoE layer's experts mixed in; y == nullptr: nothing to mix; k ≤ 32), then
// out[row] = h[row] / sqrt(mean(h[row]²) + eps) ⊙ w. out never overlaps h. Launched with
// kNormThreads threads, so that a row of a few thousand values takes one or two loads a thread.
constexpr int kNormThreads = 1024;
__global__ void __launch_bounds__(kNormThreads)
    RmsNormKernel(float* __restrict__ h, const float* __restrict__ w, int dim, float eps,
                  float* __restrict__ out, const float* __restrict__ y,
                  const int* __restrict__ slot, const float* __restrict__ weights, int k) {
  PdlBegin();
  __shared__ float scratch[32];
  __shared__ const float* mix_row[32];
  __shared__ float mix_weight[32];
  const int row = static_cast<int>(blockIdx.x);
  float* hr = h + static_cast<std::size_t>(row) * dim;
  float* o = out + static_cast<std::size_t>(row) * dim;
  float ss = 0.0f;
  if (y != nullptr) {
    if (static_cast<int>(threadIdx.x) < k) {
      const int j = static_cast<int>(threadIdx.x);
      mix_row[j] = y + static_cast<std::size_t>(slot[row * k + j]) * dim;
      mix_weight[j] = weights[row * k + j];
    }
    __syncthreads();
    for (int i = static_cast<int>(threadIdx.x); i < dim; i += static_cast<int>(blockDim.x)) {
      float v = hr[i];
      for (int j = 0; j < k; ++j) v += mix_weight[j] * mix_row[j][i];
      hr[i] = v;
      ss += v * v;
    }
  } else {
    for (int i = static_cast<int>(threadIdx.x); i < dim; i += static_cast<int>(blockDim.x))
      ss += hr[i] * hr[i];
  }
  ss = BlockSum(ss, scratch);
  const float inv = static_cast<float>(1.0 / sqrt(static_cast<double>(ss) / dim + eps));
  for (int i = static_cast<int>(threadIdx.x); i < dim; i += static_cast<int>(blockDim.x))
    o[i] = hr[i] * inv * w[i];
}

__device__ __forceinline__ void StoreKv(void* base, std::size_t i, float v, KvFormat kv) {
  if (kv == KvFormat::kF32) {
    static_cast<float*>(base)[i] = v;
  } else {
    static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
  }
}

__device__ __forceinline__ float LoadKv(const void* base, std::size_t i, KvFormat kv) {
  return kv == KvFormat::kF32 ? static_cast<const float*>(base)[i]
                              : __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
}

struct QkArgs {
  float* q;
  const float *k, *v, *q_norm, *k_norm;
  const double* inv_freq;
  const TokenSlot* slots;
  int layer, heads, kv_heads, head_dim;
  float eps;
  KvFormat kv;
};

// Block (token, head): heads 0..heads-1 are query heads, then the kv heads.
__global__ void QkNormRopeStoreKernel(QkArgs a) {
  PdlBegin();
  extern __shared__ float y[];  // head_dim
  __shared__ float scratch[32];
  const int t = static_cast<int>(blockIdx.x), hh = static_cast<int>(blockIdx.y);
  const int hd = a.head_dim, half = hd / 2;
  const bool is_q = hh < a.heads;
  const int h = is_q ? hh : hh - a.heads;
  const float* src = is_q ? a.q + (static_cast<std::size_t>(t) * a.heads + h) * hd
                          : a.k + (static_cast<std::size_t>(t) * a.kv_heads + h) * hd;
  const float* nw = is_q ? a.q_norm : a.k_norm;
  float ss = 0.0f;
  for (int d = static_cast<int>(threadIdx.x); d < hd; d += static_cast<int>(blockDim.x))
    ss += src[d] * src[d];
  ss = BlockSum(ss, scratch);
  const float inv = static_cast<float>(1.0 / sqrt(static_cast<double>(ss) / hd + a.eps));
  for (int d = static_cast<int>(threadIdx.x); d < hd; d += static_cast<int>(blockDim.x))
    y[d] = src[d] * inv * nw[d];
  __syncthreads();
  const TokenSlot slot = a.slots[t];
  const std::size_t cache_off =
      ((static_cast<std::size_t>(a.layer) * slot.capacity + slot.pos) * a.kv_heads + h) * hd;
  for (int i = static_cast<int>(threadIdx.x); i < half; i += static_cast<int>(blockDim.x)) {
    const double angle = static_cast<double>(slot.pos) * a.inv_freq[i];
    const float c = static_cast<float>(cos(angle)), s = static_cast<float>(sin(angle));
    const float x0 = y[i], x1 = y[i + half];
    const float r0 = x0 * c - x1 * s, r1 = x1 * c + x0 * s;
    if (is_q) {
      float* dst = a.q + (static_cast<std::size_t>(t) * a.heads + h) * hd;
      dst[i] = r0;
      dst[i + half] = r1;
    } else {
      StoreKv(slot.k, cache_off + i, r0, a.kv);
      StoreKv(slot.k, cache_off + i + half, r1, a.kv);
    }
  }
  if (!is_q) {
    const float* vs = a.v + (static_cast<std::size_t>(t) * a.kv_heads + h) * hd;
    for (int d = static_cast<int>(threadIdx.x); d < hd; d += static_cast<int>(blockDim.x))
      StoreKv(slot.v, cache_off + d, vs[d], a.kv);
  }
}

// ---- attention (split over the KV length, then combined) ---------------------------------------

struct AttnArgs {
  const float* q;
  const TokenSlot* slots;
  int layer, heads, kv_heads, head_dim, splits, chunk;
  float scale;
  KvFormat kv;
  float* partial;  // [n][heads][splits][head_dim + 2]: acc..., m, l
};

constexpr int kMaxGroup = 16;

// Block (token · kv_heads + kv head, split), one warp per query head of the group: the warp
// folds the split's positions into an online softmax held in registers and writes its partial
// state. Lanes hold E consecutive dimensions (head_dim ≤ 32 · E); K and V rows are loaded
// kAhead positions at a time (the group's warps read the same rows, from L1).
template <int E>
__global__ void __launch_bounds__(512) AttentionSplitKernel(AttnArgs a) {
  PdlBegin();
  const int hd = a.head_dim, group = a.heads / a.kv_heads;
  const int g = static_cast<int>(threadIdx.x) / kWarp, lane = static_cast<int>(threadIdx.x) % kWarp;
  const int t = static_cast<int>(blockIdx.x) / a.kv_heads;
  const int kvh = static_cast<int>(blockIdx.x) % a.kv_heads;
  const int split = static_cast<int>(blockIdx.y);
  const int h = kvh * group + g;
  const TokenSlot slot = a.slots[t];
  const int len = slot.pos + 1;
  const int start = split * a.chunk, end = min(start + a.chunk, len);
  const int d0 = lane * E;

  const float* qh = a.q + (static_cast<std::size_t>(t) * a.heads + h) * hd;
  float q[E], acc[E], m = -INFINITY, l = 0.0f;
#pragma unroll
  for (int e = 0; e < E; ++e) {
    acc[e] = 0.0f;
    q[e] = d0 + e < hd ? qh[d0 + e] * a.scale : 0.0f;
  }
  const std::size_t layer_off = static_cast<std::size_t>(a.layer) * slot.capacity;
  auto load_row = [&](const void* cache, int p, float(&row)[E]) {
    const std::size_t off = ((layer_off + p) * a.kv_heads + kvh) * hd;
#pragma unroll
    for (int e = 0; e < E; ++e) row[e] = d0 + e < hd ? LoadKv(cache, off + d0 + e, a.kv) : 0.0f;
  };
  // kAhead positions at a time: their K and V rows are loaded together (one memory round trip),
  // then folded in order.
  constexpr int kAhead = 8;
  for (int p0 = start; p0 < end; p0 += kAhead) {
    float k[kAhead][E], v[kAhead][E];
#pragma unroll
    for (int j = 0; j < kAhead; ++j) {
      if (p0 + j < end) {
        load_row(slot.k, p0 + j, k[j]);
        load_row(slot.v, p0 + j, v[j]);
      }
    }
#pragma unroll
    for (int j = 0; j < kAhead; ++j) {
      if (p0 + j >= end) break;
      float s = 0.0f;
#pragma unroll
      for (int e = 0; e < E; ++e) s += q[e] * k[j][e];
      s = WarpSum(s);
      float corr, pw;
      OnlineSoftmaxPush(m, l, s, corr, pw);
#pragma unroll
      for (int e = 0; e < E; ++e) acc[e] = acc[e] * corr + pw * v[j][e];
    }
  }
  float* out =
      a.partial + ((static_cast<std::size_t>(t) * a.heads + h) * a.splits + split) * (hd + 2);
#pragma unroll
  for (int e = 0; e < E; ++e) {
    if (d0 + e < hd) out[d0 + e] = acc[e];
  }
  if (lane == 0) {
    out[hd] = m;
    out[hd + 1] = l;
  }
}

Status LaunchAttention(const Device& dev, dim3 grid, const AttentionLaunch& plan,
                       const AttnArgs& a) {
  const int e = (a.head_dim + kWarp - 1) / kWarp;
  auto go = [&](auto kernel) {
    return LaunchKernel(dev, "attention_split", kernel, grid, dim3(plan.threads), 0, a);
  };
  if (e <= 1) return go(AttentionSplitKernel<1>);
  if (e <= 2) return go(AttentionSplitKernel<2>);
  if (e <= 4) return go(AttentionSplitKernel<4>);
  return Unimplemented("attention: head_dim above 128");
}

__global__ void AttentionCombineKernel(const float* partial, int heads, int head_dim, int splits,
                                       float* out) {
  PdlBegin();
  const int th = static_cast<int>(blockIdx.x);  // token * heads + head
  const float* p = partial + static_cast<std::size_t>(th) * splits * (head_dim + 2);
  float mx = -INFINITY;
  for (int s = 0; s < splits; ++s) mx = fmaxf(mx, p[s * (head_dim + 2) + head_dim]);
  float denom = 0.0f;
  for (int s = 0; s < splits; ++s) {
    denom += OnlineSoftmaxMergeFactor(p[s * (head_dim + 2) + head_dim], mx) *
             p[s * (head_dim + 2) + head_dim + 1];
  }
  for (int d = static_cast<int>(threadIdx.x); d < head_dim; d += static_cast<int>(blockDim.x)) {
    float num = 0.0f;
    for (int s = 0; s < splits; ++s) {
      num += OnlineSoftmaxMergeFactor(p[s * (head_dim + 2) + head_dim], mx) *
             p[s * (head_dim + 2) + d];
    }
    out[static_cast<std::size_t>(th) * head_dim + d] = num / denom;
  }
}

// ---- MoE routing, planning, mixing ------------------------------------------------------------

// One warp routes token t: softmax over its router logits, top-k (ties: lower index), weights
// renormalised when `normalize`. experts ≤ 32 · kPerLane.
template <int kPerLane>
__device__ void RouteToken(const float* __restrict__ logits, int t, int experts, int k,
                           int normalize, int* __restrict__ ids, float* __restrict__ weights) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const float* row = logits + static_cast<std::size_t>(t) * experts;
  float p[kPerLane];
  float mx = -INFINITY;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + i * kWarp;
    p[i] = e < experts ? row[e] : -INFINITY;
    mx = fmaxf(mx, p[i]);
  }
  mx = WarpMax(mx);
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + i * kWarp;
    p[i] = e < experts ? expf(p[i] - mx) : 0.0f;
    sum += p[i];
  }
  sum = WarpSum(sum);
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) p[i] = p[i] / sum;
  unsigned taken = 0;
  float chosen = 0.0f;
  for (int j = 0; j < k; ++j) {
    float best = -1.0f;
    int best_e = 1 << 30;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + i * kWarp;
      if (e < experts && !(taken >> i & 1u) && p[i] > best) {
        best = p[i];
        best_e = e;
      }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oe = __shfl_xor_sync(0xffffffffu, best_e, o);
      if (ob > best || (ob == best && oe < best_e)) {
        best = ob;
        best_e = oe;
      }
    }
    if (best_e % kWarp == lane) taken |= 1u << (best_e / kWarp);
    chosen += best;
    if (lane == 0) {
      ids[t * k + j] = best_e;
      weights[t * k + j] = best;
    }
  }
  __syncwarp();
  if (normalize && lane < k) weights[t * k + lane] /= chosen;
  __syncwarp();
}

// Block per token (one warp).
template <int kPerLane>
__global__ void RouteTopKKernel(const float* __restrict__ logits, int experts, int k, int normalize,
                                int* __restrict__ ids, float* __restrict__ weights) {
  PdlBegin();
  RouteToken<kPerLane>(logits, static_cast<int>(blockIdx.x), experts, k, normalize, ids, weights);
}

// One block of kPlanThreads (≥ experts) threads: thread e counts expert e's assignments, a
// block-wide scan of the tiles per expert gives the segment offsets, and thread e fills its
// segment (llm/cuda/plan/moe_plan.h).
constexpr int kPlanThreads = 1024;
__device__ void PlanSegments(const int* __restrict__ expert_ids, int assignments, int experts,
                             int tile, int tile_capacity, int* __restrict__ rows,
                             int* __restrict__ slot, int* __restrict__ tile_expert) {
  extern __shared__ int plan_shared[];  // ids [assignments], offsets [experts + 1]
  __shared__ int warp_tiles[kPlanThreads / kWarp];
  int* ids = plan_shared;
  int* offsets = ids + assignments;
  const int e = static_cast<int>(threadIdx.x);
  const int lane = e % kWarp, warp = e / kWarp;
  for (int a = e; a < assignments; a += static_cast<int>(blockDim.x)) ids[a] = expert_ids[a];
  __syncthreads();
  const int tiles = e < experts ? (CountExpert(ids, assignments, e) + tile - 1) / tile : 0;
  int inclusive = tiles;  // scan within the warp, then over the warps' totals
#pragma unroll
  for (int o = 1; o < kWarp; o <<= 1) {
    const int v = __shfl_up_sync(0xffffffffu, inclusive, o);
    if (lane >= o) inclusive += v;
  }
  if (lane == kWarp - 1) warp_tiles[warp] = inclusive;
  __syncthreads();
  int before = 0;
  for (int w = 0; w < warp; ++w) before += warp_tiles[w];
  if (e < experts) offsets[e] = (before + inclusive - tiles) * tile;
  if (e == experts - 1) offsets[experts] = (before + inclusive) * tile;
  __syncthreads();
  for (int i = offsets[experts] / tile + e; i < tile_capacity; i += static_cast<int>(blockDim.x))
    tile_expert[i] = -1;
  if (e < experts) FillSegment(ids, assignments, e, offsets, tile, rows, slot, tile_expert);
}

__global__ void __launch_bounds__(kPlanThreads)
    PlanExpertsKernel(const int* __restrict__ expert_ids, int assignments, int experts, int tile,
                      int tile_capacity, int* __restrict__ rows, int* __restrict__ slot,
                      int* __restrict__ tile_expert) {
  PdlBegin();
  PlanSegments(expert_ids, assignments, experts, tile, tile_capacity, rows, slot, tile_expert);
}

// Decode: routing and planning in one block, a warp per token, then the plan of their
// assignments.
template <int kPerLane>
__global__ void __launch_bounds__(kPlanThreads)
    RoutePlanKernel(const float* __restrict__ logits, int n, int experts, int k, int normalize,
                    int* __restrict__ ids, float* __restrict__ weights, int tile, int tile_capacity,
                    int* __restrict__ rows, int* __restrict__ slot, int* __restrict__ tile_expert) {
  PdlBegin();
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  for (int t = warp; t < n; t += static_cast<int>(blockDim.x) / kWarp)
    RouteToken<kPerLane>(logits, t, experts, k, normalize, ids, weights);
  __syncthreads();
  PlanSegments(ids, n * k, experts, tile, tile_capacity, rows, slot, tile_expert);
}

__global__ void SwiGluKernel(float* gate, const float* up, std::size_t n) {
  PdlBegin();
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    gate[i] = Silu(gate[i]) * up[i];
  }
}

__global__ void CombineKernel(const float* __restrict__ y, const int* __restrict__ slot,
                              const float* __restrict__ weights, int k, int hidden,
                              float* __restrict__ h) {
  PdlBegin();
  const int t = static_cast<int>(blockIdx.x);
  for (int d = static_cast<int>(threadIdx.x); d < hidden; d += static_cast<int>(blockDim.x)) {
    float s = h[static_cast<std::size_t>(t) * hidden + d];
    for (int j = 0; j < k; ++j) {
      s += weights[t * k + j] * y[static_cast<std::size_t>(slot[t * k + j]) * hidden + d];
    }
    h[static_cast<std::size_t>(t) * hidden + d] = s;
  }
}

__global__ void ArgMaxKernel(const float* logits, int vocab, int* ids) {
  PdlBegin();
  __shared__ float bv[32];
  __shared__ int bi[32];
  __shared__ int bad;
  const int t = static_cast<int>(blockIdx.x);
  const float* row = logits + static_cast<std::size_t>(t) * vocab;
  if (threadIdx.x == 0) bad = 0;
  __syncthreads();
  float best = -INFINITY;
  int best_i = 1 << 30;
  bool nonfinite = false;
  for (int i = static_cast<int>(threadIdx.x); i < vocab; i += static_cast<int>(blockDim.x)) {
    const float v = row[i];
    if (!isfinite(v)) nonfinite = true;
    if (v > best || (v == best && i < best_i)) {
      best = v;
      best_i = i;
    }
  }
  if (nonfinite) bad = 1;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, o);
    const int oi = __shfl_xor_sync(0xffffffffu, best_i, o);
    if (ov > best || (ov == best && oi < best_i)) {
      best = ov;
      best_i = oi;
    }
  }
  const int warp = static_cast<int>(threadIdx.x) / kWarp,
            lane = static_cast<int>(threadIdx.x) % kWarp;
  if (lane == 0) {
    bv[warp] = best;
    bi[warp] = best_i;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    const int warps = static_cast<int>(blockDim.x) / kWarp;
    for (int w = 1; w < warps; ++w) {
      if (bv[w] > best || (bv[w] == best && bi[w] < best_i)) {
        best = bv[w];
        best_i = bi[w];
      }
    }
    ids[t] = bad ? -1 : best_i;
  }
}

__global__ void FillNaNKernel(float* p, std::size_t n) {
  PdlBegin();
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    p[i] = __int_as_float(0x7fc00000);
}

unsigned ElementwiseBlocks(std::size_t n) {
  const std::size_t b = (n + 255) / 256;
  return static_cast<unsigned>(b < 4096 ? (b == 0 ? 1 : b) : 4096);
}

// Whether matrices can share one GEMV launch.
bool SameShape(const DeviceMatrix* w, int count) {
  if (count < 1 || count > GemvSegments::kMax) return false;
  for (int i = 1; i < count; ++i) {
    if (w[i].format != w[0].format || w[i].cols != w[0].cols || w[i].block_cols != w[0].block_cols)
      return false;
  }
  return true;
}

// One GEMV launch over `count` matrices (plain form: n vectors; grouped: g's tiles of 8).
// `x_up` not null: the input is silu(x) ⊙ x_up, applied as the kernel reads x (vectorized form)
// or by the SwiGLU kernel first (element form; x is overwritten).
Status GemvSegmentsLaunch(const Device& dev, const DeviceMatrix* w, float* const* y, int count,
                          const float* x, int n, bool accumulate, const ExpertRows& g,
                          const float* x_up = nullptr) {
  const bool grouped = g.tile_expert != nullptr;
  std::int64_t rows[GemvSegments::kMax] = {};
  for (int i = 0; i < count; ++i) rows[i] = w[i].rows;
  const GemvSegments s = PlanGemvSegments(rows, count, w[0].cols, w[0].format, w[0].block_cols,
                                          grouped ? g.vectors : n, grouped ? g.tiles : 1,
                                          dev.sm_count, dev.gemv_rows_per_warp);
  if (x_up != nullptr && !s.launch.vectorized) {
    const std::size_t inputs =
        grouped ? static_cast<std::size_t>(g.tiles) * g.tile : static_cast<std::size_t>(n);
    LUMEN_RETURN_IF_ERROR(
        SwiGlu(dev, const_cast<float*>(x), x_up, inputs * static_cast<std::size_t>(w[0].cols)));
    x_up = nullptr;
  }
  GemvArgs a{};
  for (int i = 0; i < s.count; ++i) {
    a.w[i] = w[i];
    a.y[i] = y[i];
    a.blocks_end[i] = s.blocks_end[i];
  }
  a.segments = s.count;
  a.x = x;
  a.x_up = x_up;
  a.n = n;
  a.accumulate = accumulate ? 1 : 0;
  a.warps_per_row = s.launch.warps_per_row;
  a.rows_per_block = s.launch.rows_per_block;
  a.g = g;
  return LaunchGemv(dev, s.launch, a);
}

}  // namespace

Status PrepareKernels(Device& dev) {
  LUMEN_RETURN_IF_ERROR(AllowGemvSharedF<WeightFormat::kFp8>());
  LUMEN_RETURN_IF_ERROR(AllowGemvSharedF<WeightFormat::kBf16>());
  LUMEN_RETURN_IF_ERROR(AllowGemvSharedF<WeightFormat::kF32>());
  dev.gemv_shared_allowed = true;
  return Status::Ok();
}

Status Linear(const Device& dev, const DeviceMatrix& w, const float* x, int n, float* y,
              bool accumulate) {
  if (n < 1) return Status::Ok();
  if (n <= 8) return GemvSegmentsLaunch(dev, &w, &y, 1, x, n, accumulate, ExpertRows{});
  const GemmLaunch L = PlanGemm(w.rows, (n + GemmLaunch::kTileM - 1) / GemmLaunch::kTileM);
  GemmArgs a{w, x, y, n, accumulate ? 1 : 0, ExpertRows{}};
  return LaunchGemm(dev, L, a);
}

Status LinearSegments(const Device& dev, const DeviceMatrix* w, float* const* y, int count,
                      const float* x, int n) {
  if (n >= 1 && n <= 8 && SameShape(w, count)) {
    return GemvSegmentsLaunch(dev, w, y, count, x, n, false, ExpertRows{});
  }
  for (int i = 0; i < count; ++i) LUMEN_RETURN_IF_ERROR(Linear(dev, w[i], x, n, y[i], false));
  return Status::Ok();
}

Status ExpertLinear(const Device& dev, const DeviceMatrix& w, const float* x, const ExpertRows& g,
                    float* y, bool decode, const float* swiglu_up) {
  if (decode) {
    if (g.tile != 8) return Internal("expert GEMV needs tiles of 8 rows");
    return GemvSegmentsLaunch(dev, &w, &y, 1, x, 0, false, g, swiglu_up);
  }
  if (swiglu_up != nullptr) {
    LUMEN_RETURN_IF_ERROR(SwiGlu(dev, const_cast<float*>(x), swiglu_up,
                                 static_cast<std::size_t>(g.tiles) * g.tile * w.cols));
  }
  if (g.tile != GemmLaunch::kTileM) return Internal("expert GEMM needs tiles of kTileM rows");
  const GemmLaunch L = PlanGemm(w.rows, g.tiles);
  GemmArgs a{w, x, y, 0, 0, g};
  return LaunchGemm(dev, L, a);
}

Status ExpertLinearSegments(const Device& dev, const DeviceMatrix* w, float* const* y, int count,
                            const float* x, const ExpertRows& g, bool decode) {
  if (decode && SameShape(w, count)) {
    if (g.tile != 8) return Internal("expert GEMV needs tiles of 8 rows");
    return GemvSegmentsLaunch(dev, w, y, count, x, 0, false, g);
  }
  for (int i = 0; i < count; ++i) {
    LUMEN_RETURN_IF_ERROR(ExpertLinear(dev, w[i], x, g, y[i], decode));
  }
  return Status::Ok();
}

Status Embed(const Device& dev, const DeviceMatrix& table, const int* ids, int n, float* h) {
  switch (table.format) {
    case WeightFormat::kFp8:
      LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "embed", EmbedKernel<WeightFormat::kFp8>, dim3(n),
                                         dim3(256), 0, table, ids, h));
      break;
    case WeightFormat::kBf16:
      LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "embed", EmbedKernel<WeightFormat::kBf16>, dim3(n),
                                         dim3(256), 0, table, ids, h));
      break;
    case WeightFormat::kF32:
      LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "embed", EmbedKernel<WeightFormat::kF32>, dim3(n),
                                         dim3(256), 0, table, ids, h));
      break;
  }
  return Status::Ok();
}

Status RmsNorm(const Device& dev, const float* x, const float* w, int rows, int dim, float eps,
               float* out) {
  LUMEN_RETURN_IF_ERROR(
      LaunchKernel(dev, "rmsnorm", RmsNormKernel, dim3(rows), dim3(kNormThreads), 0,
                   const_cast<float*>(x), w, dim, eps, out, static_cast<const float*>(nullptr),
                   static_cast<const int*>(nullptr), static_cast<const float*>(nullptr), 0));
  return Status::Ok();
}

Status CombineRmsNorm(const Device& dev, const float* y, const int* slot, const float* weights,
                      int k, float* h, const float* w, int rows, int dim, float eps, float* out) {
  if (k > 32) return Unimplemented("mixing more than 32 experts per token");
  return LaunchKernel(dev, "combine_rmsnorm", RmsNormKernel, dim3(rows), dim3(kNormThreads), 0, h,
                      w, dim, eps, out, y, slot, weights, k);
}

Status QkNormRopeStore(const Device& dev, float* q, const float* k, const float* v,
                       const float* q_norm, const float* k_norm, const double* inv_freq,
                       const TokenSlot* slots, int layer, int n, int heads, int kv_heads,
                       int head_dim, float eps, KvFormat kv) {
  QkArgs a{q, k, v, q_norm, k_norm, inv_freq, slots, layer, heads, kv_heads, head_dim, eps, kv};
  const dim3 grid(static_cast<unsigned>(n), static_cast<unsigned>(heads + kv_heads));
  LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "qk_norm_rope_store", QkNormRopeStoreKernel, dim3(grid),
                                     dim3(128), sizeof(float) * head_dim, a));
  return Status::Ok();
}

Status Attention(const Device& dev, const float* q, const TokenSlot* slots, int layer, int n,
                 int heads, int kv_heads, int head_dim, float scale, KvFormat kv,
                 const AttentionLaunch& plan, float* partial, float* out) {
  if (heads / kv_heads > kMaxGroup) return Unimplemented("attention groups above 16 heads");
  if (head_dim > 4 * kWarp) return Unimplemented("attention: head_dim above 128");
  AttnArgs a{q,           slots,      layer, heads, kv_heads, head_dim,
             plan.splits, plan.chunk, scale, kv,    partial};
  const dim3 grid(static_cast<unsigned>(n * kv_heads), static_cast<unsigned>(plan.splits));
  if (plan.threads != heads / kv_heads * kWarp)
    return Internal("attention plan: one warp per head");
  LUMEN_RETURN_IF_ERROR(LaunchAttention(dev, grid, plan, a));
  const int combine_threads = std::min(head_dim, 256);
  LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "attention_combine", AttentionCombineKernel,
                                     dim3(n * heads), dim3(combine_threads), 0, partial, heads,
                                     head_dim, plan.splits, out));
  return Status::Ok();
}

Status RouteTopK(const Device& dev, const float* logits, int n, int experts, int k, bool normalize,
                 int* expert_ids, float* weights) {
  if (experts > 1024 || k > 32 || k > experts)
    return Unimplemented("router: experts ≤ 1024, k ≤ 32");
  const int per_lane = (experts + kWarp - 1) / kWarp;
  auto go = [&](auto kernel) {
    return LaunchKernel(dev, "route_topk", kernel, dim3(n), dim3(kWarp), 0, logits, experts, k,
                        normalize ? 1 : 0, expert_ids, weights);
  };
  if (per_lane <= 1) return go(RouteTopKKernel<1>);
  if (per_lane <= 2) return go(RouteTopKKernel<2>);
  if (per_lane <= 4) return go(RouteTopKKernel<4>);
  if (per_lane <= 8) return go(RouteTopKKernel<8>);
  if (per_lane <= 16) return go(RouteTopKKernel<16>);
  LUMEN_RETURN_IF_ERROR(go(RouteTopKKernel<32>));
  return Status::Ok();
}

Status RoutePlan(const Device& dev, const float* logits, int n, int experts, int k, bool normalize,
                 int* expert_ids, float* weights, int tile, int tile_capacity, int* rows, int* slot,
                 int* tile_expert) {
  if (experts > 1024 || k > 32 || k > experts)
    return Unimplemented("router: experts ≤ 1024, k ≤ 32");
  const std::size_t shared =
      sizeof(int) * (static_cast<std::size_t>(n) * k + static_cast<std::size_t>(experts) + 1);
  if (shared > 48 * 1024) return Unimplemented("expert plan: too many assignments");
  const int per_lane = (experts + kWarp - 1) / kWarp;
  auto go = [&](auto kernel) {
    return LaunchKernel(dev, "route_plan", kernel, dim3(1), dim3(kPlanThreads), shared, logits, n,
                        experts, k, normalize ? 1 : 0, expert_ids, weights, tile, tile_capacity,
                        rows, slot, tile_expert);
  };
  if (per_lane <= 1) return go(RoutePlanKernel<1>);
  if (per_lane <= 2) return go(RoutePlanKernel<2>);
  if (per_lane <= 4) return go(RoutePlanKernel<4>);
  if (per_lane <= 8) return go(RoutePlanKernel<8>);
  if (per_lane <= 16) return go(RoutePlanKernel<16>);
  return go(RoutePlanKernel<32>);
}

Status PlanExperts(const Device& dev, const int* expert_ids, int assignments, int experts, int tile,
                   int tile_capacity, int* rows, int* slot, int* tile_expert) {
  if (experts > kPlanThreads) return Unimplemented("expert plan: more than 1024 experts");
  const std::size_t shared =
      sizeof(int) * (static_cast<std::size_t>(assignments) + static_cast<std::size_t>(experts) + 1);
  if (shared > 48 * 1024) return Unimplemented("expert plan: too many assignments");
  return LaunchKernel(dev, "plan_experts", PlanExpertsKernel, dim3(1), dim3(kPlanThreads), shared,
                      expert_ids, assignments, experts, tile, tile_capacity, rows, slot,
                      tile_expert);
}

Status SwiGlu(const Device& dev, float* gate, const float* up, std::size_t n) {
  LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "swiglu", SwiGluKernel, dim3(ElementwiseBlocks(n)),
                                     dim3(256), 0, gate, up, n));
  return Status::Ok();
}

Status CombineExperts(const Device& dev, const float* y, const int* slot, const float* weights,
                      int n, int k, int hidden, float* h) {
  LUMEN_RETURN_IF_ERROR(LaunchKernel(dev, "combine_experts", CombineKernel, dim3(n), dim3(256), 0,
                                     y, slot, weights, k, hidden, h));
  return Status::Ok();
}

Status ArgMax(const Device& dev, const float* logits, int n, int vocab, int* ids) {
  LUMEN_RETURN_IF_ERROR(
      LaunchKernel(dev, "argmax", ArgMaxKernel, dim3(n), dim3(1024), 0, logits, vocab, ids));
  return Status::Ok();
}

Status FillNaN(const Device& dev, float* p, std::size_t n) {
  LUMEN_RETURN_IF_ERROR(
      LaunchKernel(dev, "fill_nan", FillNaNKernel, dim3(ElementwiseBlocks(n)), dim3(256), 0, p, n));
  return Status::Ok();
}

}  // namespace lumen::llm::cuda
