// bench_engine: decode and prefill speed of the CPU engine on a random FP8 model with the real
// per-layer shapes of Qwen3-30B-A3B (hidden 2048, 32 query / 4 kv heads, head_dim 128, 128
// experts top-8 of size 768, vocab 151936) but only a few layers, extrapolated to 48 layers;
// and decode bandwidth efficiency against a copy benchmark run in the same process.
//
//   bench_engine [--layers 4] [--threads N] [--prefill 512] [--decode 16] [--context 16]
//                [--dir PATH] [--isa auto]
//
// --context: tokens in the cache before the decode steps (the prompt they follow).
//
// The model is written once into --dir (default $TMPDIR/lumen-bench-qwen3-30b-a3b-shapes) and
// reused by later runs. Prints the figures and the command line that produced them.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "llm/causal_lm.h"
#include "llm/cpu/amx.h"
#include "llm/cpu/matmul.h"
#include "llm/model_info.h"
#include "llm/safetensors.h"
#include "llm/tiny_model.h"
#include "llm/weights.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace lumen;
using namespace lumen::llm;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Copy bandwidth: each thread copies its slice of a 1 GiB buffer; bytes moved = read + write.
double CopyBandwidth(ThreadPool* pool, std::size_t threads) {
  const std::size_t n = std::size_t{1} << 30;
  std::vector<char> a(n, 1), b(n, 0);
  auto copy = [&] {
    const std::size_t chunk = n / threads;
    auto part = [&](std::size_t i) {
      std::memcpy(b.data() + i * chunk, a.data() + i * chunk, chunk);
    };
    if (pool) {
      pool->ParallelFor(0, threads, part);
    } else {
      part(0);
    }
  };
  copy();  // warm up (page faults)
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const auto t = Clock::now();
    copy();
    best = std::min(best, Since(t));
  }
  return 2.0 * static_cast<double>(n) / best;
}

// Read-only bandwidth: each thread streams its slice of a 1 GiB buffer with 64-byte loads (no
// writes), software-prefetching 8 KiB ahead as the FP8 kernels do (and once without, the
// better counts). Decode only reads its weights, so this is its practical ceiling; on the
// shared vCPUs of our build machine it is only ~60 % of the copy figure (docs/BENCHMARKS.md).
__attribute__((target("avx512f"))) std::uint64_t ReadSlice512(const char* p, std::size_t n,
                                                              bool prefetch) {
  __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
  for (std::size_t i = 0; i + 256 <= n; i += 256) {
    if (prefetch) {
      _mm_prefetch(p + i + 8192, _MM_HINT_T0);
      _mm_prefetch(p + i + 8192 + 128, _MM_HINT_T0);
    }
    a = _mm512_xor_si512(a, _mm512_loadu_si512(p + i));
    b = _mm512_xor_si512(b, _mm512_loadu_si512(p + i + 64));
    c = _mm512_xor_si512(c, _mm512_loadu_si512(p + i + 128));
    d = _mm512_xor_si512(d, _mm512_loadu_si512(p + i + 192));
  }
  alignas(64) std::uint64_t out[8];
  _mm512_store_si512(out, _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d)));
  return out[0] ^ out[7];
}
__attribute__((target("avx2"))) std::uint64_t ReadSlice256(const char* p, std::size_t n,
                                                           bool prefetch) {
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  for (std::size_t i = 0; i + 128 <= n; i += 128) {
    if (prefetch) _mm_prefetch(p + i + 8192, _MM_HINT_T0);
    a = _mm256_xor_si256(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    b = _mm256_xor_si256(b, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    c = _mm256_xor_si256(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    d = _mm256_xor_si256(d, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
  return static_cast<std::uint64_t>(_mm256_extract_epi64(s, 0) ^ _mm256_extract_epi64(s, 3));
}

double ReadBandwidth(ThreadPool* pool, std::size_t threads, bool avx512) {
  const std::size_t n = std::size_t{1} << 30;
  std::vector<char> a(n, 1);
  std::atomic<std::uint64_t> sink{0};
  double best = 1e30;
  for (int r = 0; r < 6; ++r) {
    const bool prefetch = r % 2 == 1;
    const std::size_t chunk = n / threads;
    auto part = [&](std::size_t i) {
      const char* p = a.data() + i * chunk;
      sink += avx512 ? ReadSlice512(p, chunk, prefetch) : ReadSlice256(p, chunk, prefetch);
    };
    const auto t = Clock::now();
    if (pool) {
      pool->ParallelFor(0, threads, part);
    } else {
      part(0);
    }
    best = std::min(best, Since(t));
  }
  return static_cast<double>(n) / best;
}

// Peak fp32 FMA throughput with 12 independent AVX-512 (or AVX2) accumulators per thread. The
// inner loops are unrolled so that the accumulators live in registers: without it GCC keeps the
// array on the stack at -O2, and each FMA then waits on a store and a reload (the figure printed
// before this was about a third of the real peak).
__attribute__((target("avx512f,fma"))) double FmaLoop512(long iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0];
}
__attribute__((target("avx2,fma"))) double FmaLoop256(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  }
  float out[8];
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(out, s);
  return out[0];
}

double PeakFlops(ThreadPool* pool, std::size_t threads, bool avx512) {
  const long iters = 20'000'000;
  std::atomic<double> sink{0};
  auto run = [&](std::size_t) { sink = sink + (avx512 ? FmaLoop512(iters) : FmaLoop256(iters)); };
  const auto t = Clock::now();
  if (pool) {
    pool->ParallelFor(0, threads, run);
  } else {
    run(0);
  }
  const double s = Since(t);
  return static_cast<double>(threads) * iters * 12 * (avx512 ? 16 : 8) * 2 / s;
}

// Peak bf16 tile-product throughput (AMX): four independent 16x16 accumulators, each updated by
// tdpbf16ps with 16x32 by 32x16 operands held in tile registers. 0 without AMX.
__attribute__((target("amx-tile,amx-bf16"))) double AmxLoop(long iters) {
  const cpu::AmxTileConfig config;
  alignas(64) static thread_local std::uint16_t operand[512];
  alignas(64) float out[256];
  asm volatile("" ::: "memory");
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  for (long k = 0; k < iters; ++k) {
    _tile_dpbf16ps(0, 6, 4);
    _tile_dpbf16ps(1, 6, 5);
    _tile_dpbf16ps(2, 7, 4);
    _tile_dpbf16ps(3, 7, 5);
  }
  _tile_stored(0, out, 64);
  _tile_release();
  return out[0];
}

double PeakAmx(ThreadPool* pool, std::size_t threads) {
  if (!cpu::AmxSupported()) return 0;
  const long iters = 2'000'000;
  std::atomic<double> sink{0};
  auto run = [&](std::size_t) { sink = sink + AmxLoop(iters); };
  const auto t = Clock::now();
  if (pool) {
    pool->ParallelFor(0, threads, run);
  } else {
    run(0);
  }
  return static_cast<double>(threads) * iters * 4 * (16.0 * 16 * 32) * 2 / Since(t);
}

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Random 2048-column FP8 rows (no NaN codes, as in a loaded checkpoint) with 128-column scale
// blocks, and the passes of the four-row FP8 dot product over them that decode makes: the
// block-free kernel on activations with the scales multiplied in where the instruction set has
// it, the blocked kernel otherwise.
struct Fp8Rows {
  static constexpr std::size_t kCols = 2048, kBlock = 128, kBlocks = kCols / kBlock;
  std::size_t rows;
  std::vector<std::uint8_t> w;
  std::vector<float> scales, x, ax, out;

  explicit Fp8Rows(std::size_t bytes)
      : rows(bytes / kCols / 4 * 4),
        w((rows + 4) * kCols),
        scales(rows * kBlocks, 0.01f),
        x(kCols, 0.5f),
        ax(cpu::ArrangedFp8Size(kCols)),
        out(rows) {
    std::uint32_t seed = 12345;
    for (auto& c : w) {
      seed = seed * 1664525u + 1013904223u;
      c = static_cast<std::uint8_t>(seed >> 24);
      if ((c & 0x7F) == 0x7F) c = 0x38;
    }
  }
  double bytes() const { return static_cast<double>(rows * kCols); }

  void Pass(const cpu::SimdKernels& k) {
    const float* xp = x.data();
    if (k.arrange_fp8_x != nullptr) {
      k.arrange_fp8_x(x.data(), kCols, ax.data());
      xp = ax.data();
    }
    for (std::size_t r = 0; r < rows; r += 4) {
      if (k.dot_fp8_rows4_xs != nullptr) {
        k.dot_fp8_rows4_xs(&w[r * kCols], kCols, 4 * kCols, xp, kCols, &out[r]);
        continue;
      }
      const float* s4[4] = {&scales[r * kBlocks], &scales[(r + 1) * kBlocks],
                            &scales[(r + 2) * kBlocks], &scales[(r + 3) * kBlocks]};
      k.dot_fp8_rows4(&w[r * kCols], kCols, 4 * kCols, s4, kBlock, xp, kCols, &out[r]);
    }
  }
};

// The FP8 kernel of one instruction set alone on the calling thread, in process CPU time (so
// other tenants of the machine do not count): GB/s of weights over `bytes` of rows, best of
// four trials.
double Fp8KernelSpeed(const cpu::SimdKernels& k, std::size_t bytes) {
  Fp8Rows m(bytes);
  const int passes = static_cast<int>(std::max<std::size_t>(1, (std::size_t{1} << 30) / bytes));
  double best = 0;
  for (int trial = 0; trial < 4; ++trial) {
    const double t = CpuSeconds();
    for (int p = 0; p < passes; ++p) m.Pass(k);
    best = std::max(best, m.bytes() * passes / (CpuSeconds() - t));
  }
  return best;
}

// The FP8 kernel on every thread at once, each over its own 1 MiB of rows, which stays in that
// core's L2: total GB/s in wall time, best of four trials. Decode cannot multiply its FP8
// weights faster than this however fast the memory is, so it is decode's compute ceiling.
double Fp8KernelFromCacheAllThreads(ThreadPool* pool, std::size_t threads,
                                    const cpu::SimdKernels& k) {
  std::vector<std::unique_ptr<Fp8Rows>> rows(threads);
  const int passes = 1000;
  double best = 0;
  for (int trial = 0; trial < 4; ++trial) {
    auto part = [&](std::size_t i) {
      if (!rows[i]) rows[i] = std::make_unique<Fp8Rows>(std::size_t{1} << 20);
      rows[i]->Pass(k);  // warm: the rows into this core's caches
      const auto t = Clock::now();
      for (int p = 0; p < passes; ++p) rows[i]->Pass(k);
      return Since(t);
    };
    std::vector<double> seconds(threads);
    const auto run = [&](std::size_t i) { seconds[i] = part(i); };
    if (pool) {
      pool->ParallelFor(0, threads, run);
    } else {
      run(0);
    }
    const double slowest = *std::max_element(seconds.begin(), seconds.end());
    best = std::max(best, rows[0]->bytes() * passes * static_cast<double>(threads) / slowest);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 4, threads = 0, prefill = 512, decode = 16, context = 16;
  std::string dir = (fs::temp_directory_path() / "lumen-bench-qwen3-30b-a3b-shapes").string();
  std::string isa = "auto";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--layers")
      layers = std::atoi(v.c_str());
    else if (f == "--threads")
      threads = std::atoi(v.c_str());
    else if (f == "--prefill")
      prefill = std::atoi(v.c_str());
    else if (f == "--decode")
      decode = std::atoi(v.c_str());
    else if (f == "--dir")
      dir = v;
    else if (f == "--context")
      context = std::atoi(v.c_str());
    else if (f == "--isa")
      isa = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (layers < 1 || prefill < 1 || decode < 2 || context < 1) {
    std::fprintf(stderr, "--layers, --prefill, --context >= 1 and --decode >= 2\n");
    return 2;
  }
  const std::size_t nthreads = threads > 0 ? static_cast<std::size_t>(threads)
                                           : std::max(1u, std::thread::hardware_concurrency());
  std::string command = "bench_engine";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];

  TinyModelSpec spec;
  spec.arch = Architecture::kQwen3Moe;
  spec.hidden = 2048;
  spec.layers = layers;
  spec.heads = 32;
  spec.kv_heads = 4;
  spec.head_dim = 128;
  spec.moe_intermediate = 768;
  spec.intermediate = 6144;
  spec.experts = 128;
  spec.experts_per_tok = 8;
  spec.vocab = 151936;
  spec.max_position_embeddings = 40960;
  spec.fp8 = true;
  spec.block = 128;
  spec.scale_dtype = DType::kF32;
  spec.raw_fp8_codes = true;
  const std::string marker = (fs::path(dir) / ("lumen-bench-" + std::to_string(layers))).string();
  if (!fs::exists(marker)) {
    std::fprintf(stderr, "writing the benchmark model (%d layers) to %s ...\n", layers,
                 dir.c_str());
    const auto t = Clock::now();
    fs::remove_all(dir);
    if (Status s = WriteTinyModel(dir, spec); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    std::FILE* m = std::fopen(marker.c_str(), "w");
    if (m) std::fclose(m);
    std::fprintf(stderr, "  written in %.1f s\n", Since(t));
  }

  EngineOptions options{.threads = static_cast<int>(nthreads),
                        .isa = isa,
                        .kv_dtype = KvDType::kBF16,
                        .verify_weights = false};
  auto load_start = Clock::now();
  auto model = LoadCausalLM(dir, options);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const double load_s = Since(load_start);
  auto info = DescribeModel(dir);
  if (!info.ok()) return 1;

  ThreadPool pool(nthreads > 1 ? nthreads - 1 : 1);
  ThreadPool* p = nthreads > 1 ? &pool : nullptr;
  const double bandwidth = CopyBandwidth(p, nthreads);
  const bool avx512 = (*model)->backend().find("avx512") != std::string::npos ||
                      (*model)->backend().find("amx") != std::string::npos;
  const double peak = PeakFlops(p, nthreads, avx512);
  const double amx_peak = PeakAmx(p, nthreads);
  const double read_bandwidth = ReadBandwidth(p, nthreads, avx512);
  const double kernel_ceiling =
      Fp8KernelFromCacheAllThreads(p, nthreads, cpu::KernelsFor(*cpu::ParseIsa(isa)));

  // The per-token part outside the layers: lm_head (a matvec over vocab × hidden bf16).
  auto ck = Checkpoint::Open(dir);
  WeightLoader loader(*ck, {}, false);
  auto head = loader.Matrix("lm_head.weight", spec.vocab, spec.hidden);
  // The engine's kind of worker threads (llm/cpu/worker_team.h), as in the decode steps.
  cpu::WorkerTeam team(nthreads - 1);
  const cpu::CpuContext ctx{.simd = &cpu::KernelsFor(*cpu::ParseIsa(isa)), .team = &team};
  std::vector<float> x(static_cast<std::size_t>(spec.hidden), 0.01f),
      y(static_cast<std::size_t>(spec.vocab));
  cpu::MatMul(ctx, *head, x.data(), 1, y.data());
  auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) cpu::MatMul(ctx, *head, x.data(), 1, y.data());
  const double head_s = Since(t0) / 5;
  const double head_bytes = static_cast<double>(head->bytes());

  // The routed experts' matrix-vector products alone, as one decode step of a layer runs them
  // (8 gate+up pairs in one call, then 8 downs), each round on experts of another layer and
  // other expert ids so that the weights come from memory: the FP8 kernel's ceiling without
  // attention, router and the layer's other synchronisations.
  std::vector<std::vector<WeightMatrix>> experts;  // per round: 8 × {gate, up, down}
  const int rounds = 24;
  for (int r = 0; r < rounds; ++r) {
    std::vector<WeightMatrix> round;
    for (int e = 0; e < spec.experts_per_tok; ++e) {
      const std::string prefix = "model.layers." + std::to_string(r % layers) + ".mlp.experts." +
                                 std::to_string((r * 37 + e * 16 + r / layers) % spec.experts) +
                                 ".";
      for (const char* m : {"gate_proj", "up_proj", "down_proj"}) {
        const bool down = std::string(m) == "down_proj";
        auto w = loader.Matrix(prefix + m + ".weight", down ? spec.hidden : spec.moe_intermediate,
                               down ? spec.moe_intermediate : spec.hidden);
        if (!w.ok()) {
          std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
          return 1;
        }
        round.push_back(*w);
      }
    }
    experts.push_back(std::move(round));
  }
  std::vector<float> ex(static_cast<std::size_t>(spec.hidden), 0.01f),
      eg(static_cast<std::size_t>(spec.experts_per_tok * spec.moe_intermediate)), eu(eg.size()),
      ed(static_cast<std::size_t>(spec.experts_per_tok * spec.hidden));
  double expert_bytes = 0;
  t0 = Clock::now();
  for (const auto& round : experts) {
    std::vector<cpu::MatMulJob> gate_up, down;
    for (std::size_t e = 0; e < round.size() / 3; ++e) {
      const std::size_t inter = static_cast<std::size_t>(spec.moe_intermediate);
      const std::size_t hid = static_cast<std::size_t>(spec.hidden);
      gate_up.push_back({&round[3 * e], ex.data(), 1, eg.data() + e * inter});
      gate_up.push_back({&round[3 * e + 1], ex.data(), 1, eu.data() + e * inter});
      down.push_back({&round[3 * e + 2], eg.data() + e * inter, 1, ed.data() + e * hid});
      for (int m = 0; m < 3; ++m) expert_bytes += static_cast<double>(round[3 * e + m].bytes());
    }
    cpu::MatMulMany(ctx, gate_up);
    cpu::MatMulMany(ctx, down);
  }
  const double experts_s = Since(t0);

  std::vector<float> logits(static_cast<std::size_t>(spec.vocab));
  // Decode: a short prompt, then `decode` single-token steps (the first one is a warm-up).
  // After each timed step the lm_head matvec runs once alone, and the layers' time is the steps'
  // time minus those lm_head times: at 4 layers the lm_head is about half of a step and this
  // machine's memory bandwidth swings by up to 2x from one second to the next, so an lm_head time
  // taken seconds earlier (the "alone" figure above) moved the per-layer time by tens of percent.
  auto seq = (*model)->NewSequence(context + decode + 64);
  if (!seq.ok()) {
    std::fprintf(stderr, "%s\n", seq.status().ToString().c_str());
    return 1;
  }
  std::vector<int> prompt(static_cast<std::size_t>(context));
  for (int i = 0; i < context; ++i) prompt[static_cast<std::size_t>(i)] = (1000 + 37 * i) % 151000;
  if (!(*model)->Forward(**seq, prompt, logits).ok()) return 1;
  int token = 42;
  if (!(*model)->Forward(**seq, {&token, 1}, logits).ok()) return 1;
  double steps_s = 0, step_heads_s = 0;
  for (int i = 1; i < decode; ++i) {
    token = 100 + i * 7;
    t0 = Clock::now();
    if (!(*model)->Forward(**seq, {&token, 1}, logits).ok()) return 1;
    steps_s += Since(t0);
    t0 = Clock::now();
    cpu::MatMul(ctx, *head, x.data(), 1, y.data());
    step_heads_s += Since(t0);
  }
  const double step_s = steps_s / (decode - 1);
  const double step_head_s = step_heads_s / (decode - 1);
  const double layer_s = std::max(0.0, step_s - step_head_s) / layers;
  const double step48_s = step_head_s + 48 * layer_s;
  const double token_bytes = static_cast<double>(info->active_bytes);
  const double layer_bytes = (token_bytes - head_bytes) / layers;
  const double bytes48 = head_bytes + 48 * layer_bytes;

  // Prefill: `prefill` tokens in one call on a fresh sequence.
  auto pseq = (*model)->NewSequence(prefill + 1);
  std::vector<int> long_prompt(static_cast<std::size_t>(prefill));
  for (int i = 0; i < prefill; ++i) long_prompt[static_cast<std::size_t>(i)] = (i * 7919) % 151000;
  t0 = Clock::now();
  if (!(*model)->Forward(**pseq, long_prompt, logits).ok()) return 1;
  const double prefill_s = Since(t0);
  const double prefill48_s = (prefill_s - head_s) / layers * 48 + head_s;
  // Multiply-adds per prompt token per layer: active linear weights + attention over the prompt.
  const double layer_params = layer_bytes;  // FP8: one byte per weight (router bf16: 2, small)
  const double attn_flops = 4.0 * spec.heads * spec.head_dim * (prefill / 2.0);
  const double prefill_flops = prefill * layers * (2.0 * layer_params + attn_flops);

  std::printf(
      "bench_engine: Qwen3-30B-A3B per-layer shapes, FP8 E4M3 128x128 blocks, %d layers "
      "measured, extrapolated to 48\n",
      layers);
  std::printf("  backend %s, load %.2f s (mmap)\n", (*model)->backend().c_str(), load_s);
  std::printf("  copy bandwidth            %.1f GB/s (read + write, %zu threads)\n",
              bandwidth / 1e9, nthreads);
  std::printf("  read-only bandwidth       %.1f GB/s = %.0f%% of copy bandwidth (loads only)\n",
              read_bandwidth / 1e9, 100 * read_bandwidth / bandwidth);
  if (amx_peak > 0) {
    std::printf(
        "  peak AMX bf16 tiles       %.0f GFLOP/s (tdpbf16ps; prefill multiplies twice, "
        "activations as bf16 hi + lo, so half of it is its ceiling)\n",
        amx_peak / 1e9);
  }
  std::printf("  peak fp32 FMA             %.0f GFLOP/s (%s)\n", peak / 1e9,
              avx512 ? "avx512" : "avx2");
  std::printf(
      "  expert matvecs alone       %.1f GB/s = %.0f%% of copy bandwidth (%d rounds of 8)\n",
      expert_bytes / experts_s / 1e9, 100 * expert_bytes / experts_s / bandwidth, rounds);
  std::printf(
      "  lm_head matvec alone       %.1f GB/s (bf16, %.0f MB); %.1f GB/s between decode steps\n",
      head_bytes / head_s / 1e9, head_bytes / 1e6, head_bytes / step_head_s / 1e9);
  std::printf(
      "  FP8 kernel from cache      %.1f GB/s = %.0f%% of copy bandwidth (%zu threads at once, 1 "
      "MiB each; decode's compute ceiling)\n",
      kernel_ceiling / 1e9, 100 * kernel_ceiling / bandwidth, nthreads);
  for (cpu::Isa i : {cpu::Isa::kAvx2, cpu::Isa::kAvx512, cpu::Isa::kAvx512Vbmi}) {
    if (!cpu::CpuSupports(i)) continue;
    const cpu::SimdKernels& k = cpu::KernelsFor(i);
    const double cached = Fp8KernelSpeed(k, std::size_t{1} << 20);
    const double memory = Fp8KernelSpeed(k, std::size_t{1} << 30);
    std::printf(
        "  FP8 kernel alone, 1 thread %.1f GB/s from cache (1 MiB), %.1f GB/s from memory "
        "(1 GiB), CPU time (%s)\n",
        cached / 1e9, memory / 1e9, std::string(cpu::IsaName(i)).c_str());
  }
  std::printf(
      "  decode, %d layers          %.1f ms/token (%.2f tokens/s), %.0f MB read/token (weights; "
      "context %d+ tokens)\n",
      layers, step_s * 1e3, 1 / step_s, token_bytes / 1e6, context);
  std::printf("  decode, 48 layers (extr.)  %.1f ms/token = %.2f tokens/s, %.2f GB read/token\n",
              step48_s * 1e3, 1 / step48_s, bytes48 / 1e9);
  std::printf(
      "  decode bandwidth           %.1f GB/s = %.0f%% of copy bandwidth (target >= 60%%), "
      "%.0f%% of read-only bandwidth, %.0f%% of the FP8 kernel from cache\n",
      bytes48 / step48_s / 1e9, 100 * bytes48 / step48_s / bandwidth,
      100 * bytes48 / step48_s / read_bandwidth, 100 * bytes48 / step48_s / kernel_ceiling);
  std::printf(
      "  prefill %d tokens, %d layers %.2f s (%.1f tokens/s), %.0f GFLOP/s = %.0f%% of peak FMA\n",
      prefill, layers, prefill_s, prefill / prefill_s, prefill_flops / prefill_s / 1e9,
      100 * prefill_flops / prefill_s / peak);
  if (amx_peak > 0 && (*model)->backend().find("amx") != std::string::npos) {
    std::printf("  prefill on AMX             %.0f%% of half the AMX peak\n",
                100 * prefill_flops / prefill_s / (amx_peak / 2));
  }
  std::printf("  prefill, 48 layers (extr.) %.1f s = %.1f tokens/s\n", prefill48_s,
              prefill / prefill48_s);
  std::printf("  command: %s\n", command.c_str());
  return 0;
}
