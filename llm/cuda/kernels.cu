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

__device__ __forceinline__ float Fp8ToFloat(std::uint8_t code) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(code), __NV_E4M3);
  return __half2float(__half(h));
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

// ---- decode GEMV ------------------------------------------------------------------------------

struct GemvArgs {
  DeviceMatrix w[GemvSegments::kMax];  // segments: same format, columns, block width
  float* y[GemvSegments::kMax];
  int blocks_end[GemvSegments::kMax];
  int segments;
  const float* x;
  int n;           // vectors (plain form)
  int accumulate;  // y += instead of y =
  int warps_per_row;
  int rows_per_block;
  ExpertRows g;  // grouped form when g.tile_expert != nullptr
};

// One output row per `warps_per_row` warps; lanes stride over 16-byte chunks (VEC) or elements.
// Each block handles rows_per_block rows for up to V vectors; the weight row is read once.
template <WeightFormat F, int V, bool VEC>
__global__ void __launch_bounds__(256) GemvKernel(GemvArgs a) {
  __shared__ float partial[8][V];
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int row_in_block = warp / a.warps_per_row;
  const int part = warp % a.warps_per_row;
  // Which matrix this block works on (blocks_end is increasing).
  int seg = 0;
#pragma unroll
  for (int i = 0; i + 1 < GemvSegments::kMax; ++i)
    seg += i + 1 < a.segments && static_cast<int>(blockIdx.x) >= a.blocks_end[i];
  const DeviceMatrix w = seg == 0 ? a.w[0] : seg == 1 ? a.w[1] : a.w[2];
  float* const y = seg == 0 ? a.y[0] : seg == 1 ? a.y[1] : a.y[2];
  const int first_block = seg == 0 ? 0 : seg == 1 ? a.blocks_end[0] : a.blocks_end[1];
  const int r = (static_cast<int>(blockIdx.x) - first_block) * a.rows_per_block + row_in_block;

  int expert = 0;
  const float* xs[V];
  int yrow[V];
  if (a.g.tile_expert != nullptr) {
    const int tile = static_cast<int>(blockIdx.y);
    expert = a.g.tile_expert[tile];
    if (expert < 0) return;  // whole block: unused tile
#pragma unroll
    for (int v = 0; v < V; ++v) {
      const int pr = tile * a.g.tile + v;
      const int as = v < a.g.tile ? a.g.rows[pr] : -1;
      yrow[v] = as >= 0 ? pr : -1;
      const int xr = a.g.gather_k > 0 ? as / a.g.gather_k : pr;
      xs[v] = as >= 0 ? a.x + static_cast<std::size_t>(xr) * w.cols : nullptr;
    }
  } else {
#pragma unroll
    for (int v = 0; v < V; ++v) {
      yrow[v] = v < a.n ? v : -1;
      xs[v] = v < a.n ? a.x + static_cast<std::size_t>(v) * w.cols : nullptr;
    }
  }

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
    if constexpr (VEC) {
      constexpr int kElems = 16 / FormatBytes<F>();
      const int chunks = w.cols / kElems;
      const uint4* wrow = reinterpret_cast<const uint4*>(base);
#pragma unroll 4
      for (int c = part * kWarp + lane; c < chunks; c += stride) {
        const uint4 raw = __ldg(wrow + c);
        float wf[kElems];
        DecodeChunk<F>(raw, wf);
        float scale = 1.0f;
        if constexpr (F == WeightFormat::kFp8) scale = srow[(c * kElems) / w.block_cols];
#pragma unroll
        for (int v = 0; v < V; ++v) {
          if (xs[v] == nullptr) continue;
          const float4* xp = reinterpret_cast<const float4*>(xs[v] + c * kElems);
          float s = 0.0f;
#pragma unroll
          for (int q = 0; q < kElems / 4; ++q) {
            const float4 xv = __ldg(xp + q);
            s += wf[4 * q] * xv.x + wf[4 * q + 1] * xv.y + wf[4 * q + 2] * xv.z +
                 wf[4 * q + 3] * xv.w;
          }
          acc[v] += s * scale;
        }
      }
    } else {
      for (int c = part * kWarp + lane; c < w.cols; c += stride) {
        float wv = LoadWeight<F>(base, c);
        if constexpr (F == WeightFormat::kFp8) wv *= srow[c / w.block_cols];
#pragma unroll
        for (int v = 0; v < V; ++v) {
          if (xs[v] != nullptr) acc[v] += wv * xs[v][c];
        }
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
Status LaunchGemvV(const Device& dev, const GemvLaunch& L, const GemvArgs& a) {
  const dim3 grid(static_cast<unsigned>(L.grid_x), static_cast<unsigned>(L.grid_y));
  if (L.vectorized) {
    GemvKernel<F, V, true><<<grid, L.threads, 0, dev.stream>>>(a);
  } else {
    GemvKernel<F, V, false><<<grid, L.threads, 0, dev.stream>>>(a);
  }
  LUMEN_CUDA_CHECK_LAUNCH("gemv");
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
      GemmKernel<WeightFormat::kFp8><<<grid, L.threads, 0, dev.stream>>>(a);
      break;
    case WeightFormat::kBf16:
      GemmKernel<WeightFormat::kBf16><<<grid, L.threads, 0, dev.stream>>>(a);
      break;
    case WeightFormat::kF32:
      GemmKernel<WeightFormat::kF32><<<grid, L.threads, 0, dev.stream>>>(a);
      break;
  }
  LUMEN_CUDA_CHECK_LAUNCH("gemm");
  return Status::Ok();
}

// ---- element-wise and per-row kernels ---------------------------------------------------------

template <WeightFormat F>
__global__ void EmbedKernel(DeviceMatrix t, const int* ids, float* h) {
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

__global__ void RmsNormKernel(const float* x, const float* w, int dim, float eps, float* out) {
  __shared__ float scratch[32];
  const float* xr = x + static_cast<std::size_t>(blockIdx.x) * dim;
  float* o = out + static_cast<std::size_t>(blockIdx.x) * dim;
  float ss = 0.0f;
  for (int i = static_cast<int>(threadIdx.x); i < dim; i += static_cast<int>(blockDim.x))
    ss += xr[i] * xr[i];
  ss = BlockSum(ss, scratch);
  const float inv = static_cast<float>(1.0 / sqrt(static_cast<double>(ss) / dim + eps));
  for (int i = static_cast<int>(threadIdx.x); i < dim; i += static_cast<int>(blockDim.x))
    o[i] = xr[i] * inv * w[i];
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

// Block (token · kv_heads + kv head, split): each warp walks positions of the split, keeping an
// online softmax per query head of the group; warps are merged at the end.
__global__ void __launch_bounds__(128) AttentionSplitKernel(AttnArgs a) {
  extern __shared__ float smem[];
  const int hd = a.head_dim, group = a.heads / a.kv_heads;
  const int warps = static_cast<int>(blockDim.x) / kWarp;
  const int warp = static_cast<int>(threadIdx.x) / kWarp,
            lane = static_cast<int>(threadIdx.x) % kWarp;
  float* qs = smem;                                                // [group][hd]
  float* acc = qs + group * hd;                                    // [warps][group][hd]
  float* ml = acc + static_cast<std::size_t>(warps) * group * hd;  // [warps][group][2]
  const int t = static_cast<int>(blockIdx.x) / a.kv_heads;
  const int kvh = static_cast<int>(blockIdx.x) % a.kv_heads;
  const int split = static_cast<int>(blockIdx.y);
  const TokenSlot slot = a.slots[t];
  const int len = slot.pos + 1;
  const int start = split * a.chunk, end = min(start + a.chunk, len);

  for (int i = static_cast<int>(threadIdx.x); i < group * hd; i += static_cast<int>(blockDim.x)) {
    const int g = i / hd, d = i % hd;
    qs[i] = a.q[(static_cast<std::size_t>(t) * a.heads + kvh * group + g) * hd + d] * a.scale;
  }
  float* my_acc = acc + static_cast<std::size_t>(warp) * group * hd;
  for (int i = lane; i < group * hd; i += kWarp) my_acc[i] = 0.0f;
  __syncthreads();

  float m[kMaxGroup], l[kMaxGroup];
#pragma unroll
  for (int g = 0; g < kMaxGroup; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
  }
  const std::size_t layer_off = static_cast<std::size_t>(a.layer) * slot.capacity;
  for (int p = start + warp; p < end; p += warps) {
    const std::size_t off = ((layer_off + p) * a.kv_heads + kvh) * hd;
    for (int g = 0; g < group; ++g) {
      float s = 0.0f;
      for (int d = lane; d < hd; d += kWarp) s += qs[g * hd + d] * LoadKv(slot.k, off + d, a.kv);
      s = WarpSum(s);
      float corr, pw;
      OnlineSoftmaxPush(m[g], l[g], s, corr, pw);
      float* ag = my_acc + g * hd;
      for (int d = lane; d < hd; d += kWarp)
        ag[d] = ag[d] * corr + pw * LoadKv(slot.v, off + d, a.kv);
    }
  }
  if (lane == 0) {
    for (int g = 0; g < group; ++g) {
      ml[(warp * group + g) * 2] = m[g];
      ml[(warp * group + g) * 2 + 1] = l[g];
    }
  }
  __syncthreads();
  for (int i = static_cast<int>(threadIdx.x); i < group * (hd + 2);
       i += static_cast<int>(blockDim.x)) {
    const int g = i / (hd + 2), d = i % (hd + 2);
    float mx = -INFINITY;
    for (int w = 0; w < warps; ++w) mx = fmaxf(mx, ml[(w * group + g) * 2]);
    float out;
    if (d == hd) {
      out = mx;
    } else {
      float sum = 0.0f;
      for (int w = 0; w < warps; ++w) {
        const float f = OnlineSoftmaxMergeFactor(ml[(w * group + g) * 2], mx);
        if (f == 0.0f) continue;
        sum += f * (d == hd + 1 ? ml[(w * group + g) * 2 + 1]
                                : acc[(static_cast<std::size_t>(w) * group + g) * hd + d]);
      }
      out = sum;
    }
    const int h = kvh * group + g;
    a.partial[((static_cast<std::size_t>(t) * a.heads + h) * a.splits + split) * (hd + 2) + d] =
        out;
  }
}

__global__ void AttentionCombineKernel(const float* partial, int heads, int head_dim, int splits,
                                       float* out) {
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

// One warp per token.
__global__ void RouteTopKKernel(const float* logits, int experts, int k, int normalize, int* ids,
                                float* weights) {
  constexpr int kPerLane = 32;  // experts ≤ 1024
  const int t = static_cast<int>(blockIdx.x), lane = static_cast<int>(threadIdx.x);
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
}

// One block: thread e counts and fills expert e's segment; thread 0 computes the offsets.
__global__ void PlanExpertsKernel(const int* expert_ids, int assignments, int experts, int tile,
                                  int tile_capacity, int* counts, int* rows, int* slot,
                                  int* tile_expert) {
  extern __shared__ int ids[];  // assignments
  int* offsets = counts + experts;
  for (int a = static_cast<int>(threadIdx.x); a < assignments; a += static_cast<int>(blockDim.x))
    ids[a] = expert_ids[a];
  __syncthreads();
  for (int e = static_cast<int>(threadIdx.x); e < experts; e += static_cast<int>(blockDim.x))
    counts[e] = CountExpert(ids, assignments, e);
  __syncthreads();
  if (threadIdx.x == 0) {
    PrefixOffsets(counts, experts, tile, offsets);
    ClearTailTiles(offsets, experts, tile, tile_capacity, tile_expert);
  }
  __syncthreads();
  for (int e = static_cast<int>(threadIdx.x); e < experts; e += static_cast<int>(blockDim.x))
    FillSegment(ids, assignments, e, offsets, tile, rows, slot, tile_expert);
}

__global__ void SwiGluKernel(float* gate, const float* up, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

__global__ void CombineKernel(const float* y, const int* slot, const float* weights, int k,
                              int hidden, float* h) {
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
Status GemvSegmentsLaunch(const Device& dev, const DeviceMatrix* w, float* const* y, int count,
                          const float* x, int n, bool accumulate, const ExpertRows& g) {
  const bool grouped = g.tile_expert != nullptr;
  std::int64_t rows[GemvSegments::kMax] = {};
  for (int i = 0; i < count; ++i) rows[i] = w[i].rows;
  const GemvSegments s = PlanGemvSegments(rows, count, w[0].cols, w[0].format, w[0].block_cols,
                                          grouped ? 8 : n, grouped ? g.tiles : 1, dev.sm_count);
  GemvArgs a{};
  for (int i = 0; i < s.count; ++i) {
    a.w[i] = w[i];
    a.y[i] = y[i];
    a.blocks_end[i] = s.blocks_end[i];
  }
  a.segments = s.count;
  a.x = x;
  a.n = n;
  a.accumulate = accumulate ? 1 : 0;
  a.warps_per_row = s.launch.warps_per_row;
  a.rows_per_block = s.launch.rows_per_block;
  a.g = g;
  return LaunchGemv(dev, s.launch, a);
}

}  // namespace

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
                    float* y, bool decode) {
  if (decode) {
    if (g.tile != 8) return Internal("expert GEMV needs tiles of 8 rows");
    return GemvSegmentsLaunch(dev, &w, &y, 1, x, 0, false, g);
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
      EmbedKernel<WeightFormat::kFp8><<<n, 256, 0, dev.stream>>>(table, ids, h);
      break;
    case WeightFormat::kBf16:
      EmbedKernel<WeightFormat::kBf16><<<n, 256, 0, dev.stream>>>(table, ids, h);
      break;
    case WeightFormat::kF32:
      EmbedKernel<WeightFormat::kF32><<<n, 256, 0, dev.stream>>>(table, ids, h);
      break;
  }
  LUMEN_CUDA_CHECK_LAUNCH("embed");
  return Status::Ok();
}

Status RmsNorm(const Device& dev, const float* x, const float* w, int rows, int dim, float eps,
               float* out) {
  RmsNormKernel<<<rows, 256, 0, dev.stream>>>(x, w, dim, eps, out);
  LUMEN_CUDA_CHECK_LAUNCH("rmsnorm");
  return Status::Ok();
}

Status QkNormRopeStore(const Device& dev, float* q, const float* k, const float* v,
                       const float* q_norm, const float* k_norm, const double* inv_freq,
                       const TokenSlot* slots, int layer, int n, int heads, int kv_heads,
                       int head_dim, float eps, KvFormat kv) {
  QkArgs a{q, k, v, q_norm, k_norm, inv_freq, slots, layer, heads, kv_heads, head_dim, eps, kv};
  const dim3 grid(static_cast<unsigned>(n), static_cast<unsigned>(heads + kv_heads));
  QkNormRopeStoreKernel<<<grid, 128, sizeof(float) * head_dim, dev.stream>>>(a);
  LUMEN_CUDA_CHECK_LAUNCH("qk_norm_rope_store");
  return Status::Ok();
}

Status Attention(const Device& dev, const float* q, const TokenSlot* slots, int layer, int n,
                 int heads, int kv_heads, int head_dim, float scale, KvFormat kv,
                 const AttentionLaunch& plan, float* partial, float* out) {
  if (heads / kv_heads > kMaxGroup) return Unimplemented("attention groups above 16 heads");
  if (plan.shared_bytes > 48 * 1024) {
    LUMEN_CUDA_CHECK(cudaFuncSetAttribute(AttentionSplitKernel,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(plan.shared_bytes)));
  }
  AttnArgs a{q,           slots,      layer, heads, kv_heads, head_dim,
             plan.splits, plan.chunk, scale, kv,    partial};
  const dim3 grid(static_cast<unsigned>(n * kv_heads), static_cast<unsigned>(plan.splits));
  AttentionSplitKernel<<<grid, plan.threads, plan.shared_bytes, dev.stream>>>(a);
  LUMEN_CUDA_CHECK_LAUNCH("attention_split");
  const int combine_threads = std::min(head_dim, 256);
  AttentionCombineKernel<<<n * heads, combine_threads, 0, dev.stream>>>(partial, heads, head_dim,
                                                                        plan.splits, out);
  LUMEN_CUDA_CHECK_LAUNCH("attention_combine");
  return Status::Ok();
}

Status RouteTopK(const Device& dev, const float* logits, int n, int experts, int k, bool normalize,
                 int* expert_ids, float* weights) {
  if (experts > 1024 || k > 32 || k > experts)
    return Unimplemented("router: experts ≤ 1024, k ≤ 32");
  RouteTopKKernel<<<n, kWarp, 0, dev.stream>>>(logits, experts, k, normalize ? 1 : 0, expert_ids,
                                               weights);
  LUMEN_CUDA_CHECK_LAUNCH("route_topk");
  return Status::Ok();
}

Status PlanExperts(const Device& dev, const int* expert_ids, int assignments, int experts, int tile,
                   int tile_capacity, int* work, int* rows, int* slot, int* tile_expert) {
  const std::size_t shared = sizeof(int) * static_cast<std::size_t>(assignments);
  if (shared > 48 * 1024) return Unimplemented("expert plan: more than 12288 assignments");
  PlanExpertsKernel<<<1, 256, shared, dev.stream>>>(expert_ids, assignments, experts, tile,
                                                    tile_capacity, work, rows, slot, tile_expert);
  LUMEN_CUDA_CHECK_LAUNCH("plan_experts");
  return Status::Ok();
}

Status SwiGlu(const Device& dev, float* gate, const float* up, std::size_t n) {
  SwiGluKernel<<<ElementwiseBlocks(n), 256, 0, dev.stream>>>(gate, up, n);
  LUMEN_CUDA_CHECK_LAUNCH("swiglu");
  return Status::Ok();
}

Status CombineExperts(const Device& dev, const float* y, const int* slot, const float* weights,
                      int n, int k, int hidden, float* h) {
  CombineKernel<<<n, 256, 0, dev.stream>>>(y, slot, weights, k, hidden, h);
  LUMEN_CUDA_CHECK_LAUNCH("combine_experts");
  return Status::Ok();
}

Status ArgMax(const Device& dev, const float* logits, int n, int vocab, int* ids) {
  ArgMaxKernel<<<n, 1024, 0, dev.stream>>>(logits, vocab, ids);
  LUMEN_CUDA_CHECK_LAUNCH("argmax");
  return Status::Ok();
}

Status FillNaN(const Device& dev, float* p, std::size_t n) {
  FillNaNKernel<<<ElementwiseBlocks(n), 256, 0, dev.stream>>>(p, n);
  LUMEN_CUDA_CHECK_LAUNCH("fill_nan");
  return Status::Ok();
}

}  // namespace lumen::llm::cuda
