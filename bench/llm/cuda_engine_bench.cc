// bench_cuda_engine: the CUDA engine on a random FP8 model with the real per-layer shapes of
// Qwen3-30B-A3B (as bench_engine, the CPU benchmark): decode tokens/s at batch 1 and 8, prefill
// tokens/s at 512 tokens, extrapolated from --layers (default 4) to 48 layers; and decode
// bandwidth as a fraction of the device-to-device copy bandwidth measured in the same run.
//
//   bench_cuda_engine [--layers 4] [--dir PATH] [--decode 64] [--prefill 512] [--pdl 1]
//                     [--profile 1]
//
// --pdl 0: kernels launched without programmatic dependent launch (for comparison).
// --profile 1: only one warmed-up decode step at batch 1 and one at batch 8, each between
// cudaProfilerStart and cudaProfilerStop, for a profiler started with profiling off
// (`ncu --profile-from-start off`): the per-kernel view of a decode step.
//
// The model is written into --dir when it has no config.json (the CUDA parity test writes the
// same model). Prints the figures and the command line; never a figure it did not measure.
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "llm/causal_lm.h"
#include "llm/cuda/device_memory.h"
#include "llm/cuda/kernels.h"
#include "llm/cuda/plan/backend_choice.h"
#include "llm/cuda/qwen3_cuda.h"
#include "llm/device.h"
#include "llm/model_info.h"
#include "llm/tiny_model.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace lumen;
using namespace lumen::llm;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int Fail(const Status& s) {
  std::fprintf(stderr, "bench_cuda_engine: %s\n", s.ToString().c_str());
  return 1;
}

// Device-to-device copy of 1 GiB, best of 10; bytes moved = read + write.
Result<double> CopyBandwidth() {
  const std::size_t n = std::size_t{1} << 30;
  cuda::DeviceBuffer a, b;
  LUMEN_RETURN_IF_ERROR(a.Allocate(n));
  LUMEN_RETURN_IF_ERROR(b.Allocate(n));
  LUMEN_CUDA_CHECK(cudaMemset(a.get(), 1, n));
  cudaEvent_t start, stop;
  LUMEN_CUDA_CHECK(cudaEventCreate(&start));
  LUMEN_CUDA_CHECK(cudaEventCreate(&stop));
  float best_ms = 1e30f;
  for (int r = 0; r < 11; ++r) {
    LUMEN_CUDA_CHECK(cudaEventRecord(start));
    LUMEN_CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), n, cudaMemcpyDeviceToDevice));
    LUMEN_CUDA_CHECK(cudaEventRecord(stop));
    LUMEN_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    LUMEN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (r > 0) best_ms = std::min(best_ms, ms);  // the first is a warm-up
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return 2.0 * static_cast<double>(n) / (best_ms * 1e-3);
}

// The lm_head alone (bf16 vocab × hidden GEMV, one vector): the per-token part outside the
// layers, subtracted before extrapolating the layers to 48.
Result<double> HeadSeconds(int vocab, int hidden, int sm_count) {
  cuda::DeviceBuffer w, x, y;
  const std::size_t wbytes = static_cast<std::size_t>(vocab) * hidden * 2;
  LUMEN_RETURN_IF_ERROR(w.Allocate(wbytes));
  LUMEN_RETURN_IF_ERROR(x.Allocate(static_cast<std::size_t>(hidden) * 4));
  LUMEN_RETURN_IF_ERROR(y.Allocate(static_cast<std::size_t>(vocab) * 4));
  LUMEN_CUDA_CHECK(cudaMemset(w.get(), 0x3c, wbytes));
  LUMEN_CUDA_CHECK(cudaMemset(x.get(), 0, static_cast<std::size_t>(hidden) * 4));
  cuda::DeviceMatrix m;
  m.format = cuda::WeightFormat::kBf16;
  m.data = w.get();
  m.rows = vocab;
  m.cols = hidden;
  m.expert_bytes = wbytes;
  cuda::Device dev{.sm_count = sm_count, .stream = nullptr};
  LUMEN_RETURN_IF_ERROR(cuda::PrepareKernels(dev));
  LUMEN_RETURN_IF_ERROR(cuda::Linear(dev, m, x.as<float>(), 1, y.as<float>(), false));
  LUMEN_CUDA_CHECK(cudaDeviceSynchronize());
  const int reps = 20;
  const auto t = Clock::now();
  for (int i = 0; i < reps; ++i)
    LUMEN_RETURN_IF_ERROR(cuda::Linear(dev, m, x.as<float>(), 1, y.as<float>(), false));
  LUMEN_CUDA_CHECK(cudaDeviceSynchronize());
  return Since(t) / reps;
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 4, decode = 64, prefill = 512, profile = 0, pdl = 1;
  std::string dir = (fs::temp_directory_path() / "lumen-cuda-bench-qwen3-30b-a3b-shapes").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--layers") {
      layers = std::atoi(v.c_str());
    } else if (f == "--decode") {
      decode = std::atoi(v.c_str());
    } else if (f == "--prefill") {
      prefill = std::atoi(v.c_str());
    } else if (f == "--pdl") {
      pdl = std::atoi(v.c_str());
    } else if (f == "--profile") {
      profile = std::atoi(v.c_str());
    } else if (f == "--dir") {
      dir = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (layers < 1 || decode < 2 || prefill < 9) {
    std::fprintf(stderr, "--layers >= 1, --decode >= 2, --prefill >= 9\n");
    return 2;
  }
  std::string command = "bench_cuda_engine";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];

  auto choice = cuda::ChooseBackend("cuda", ProbeDevices());
  if (!choice.ok()) return Fail(choice.status());

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
  spec.raw_fp8_codes = true;
  auto existing = LoadModelConfig(dir);
  if (!existing.ok() || existing->num_layers != layers) {
    std::fprintf(stderr, "writing the benchmark model (%d layers) to %s ...\n", layers,
                 dir.c_str());
    fs::remove_all(dir);
    const auto t = Clock::now();
    if (Status s = WriteTinyModel(dir, spec); !s.ok()) return Fail(s);
    std::fprintf(stderr, "  written in %.1f s\n", Since(t));
  }
  const EngineOptions options{.threads = 0,
                              .isa = "auto",
                              .kv_dtype = KvDType::kBF16,
                              .verify_weights = false,
                              .device = "cuda",
                              .cuda_pdl = pdl != 0};
  auto t0 = Clock::now();
  auto model = cuda::LoadCudaCausalLM(dir, options, choice->gpu);
  if (!model.ok()) return Fail(model.status());
  const double load_s = Since(t0);
  auto info = DescribeModel(dir);
  if (!info.ok()) return Fail(info.status());
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, choice->gpu);

  cuda::CudaCausalLM& m = **model;
  const int vocab = spec.vocab;
  std::vector<float> logits(static_cast<std::size_t>(vocab));

  // Decode at batch B: B sequences after a 16-token prompt each; the first step (graph capture)
  // is a warm-up.
  auto decode_step_s = [&](int B) -> Result<double> {
    std::vector<std::unique_ptr<SequenceState>> seqs;
    std::vector<SequenceState*> ptrs;
    std::vector<int> tokens(static_cast<std::size_t>(B)), next(tokens.size());
    for (int b = 0; b < B; ++b) {
      LUMEN_ASSIGN_OR_RETURN(auto s, m.NewSequence(16 + decode + 2));
      std::vector<int> prompt(16);
      for (int i = 0; i < 16; ++i) prompt[static_cast<std::size_t>(i)] = 1000 + 37 * i + 101 * b;
      LUMEN_RETURN_IF_ERROR(m.Forward(*s, prompt, logits));
      tokens[static_cast<std::size_t>(b)] = 42 + b;
      ptrs.push_back(s.get());
      seqs.push_back(std::move(s));
    }
    LUMEN_RETURN_IF_ERROR(m.DecodeGreedy(ptrs, tokens, next));
    if (profile != 0) {
      tokens = next;
      LUMEN_CUDA_CHECK(cudaProfilerStart());
      const Status s = m.DecodeGreedy(ptrs, tokens, next);
      LUMEN_CUDA_CHECK(cudaProfilerStop());
      LUMEN_RETURN_IF_ERROR(s);
      return 0.0;
    }
    const auto t = Clock::now();
    for (int i = 1; i < decode; ++i) {
      tokens = next;
      LUMEN_RETURN_IF_ERROR(m.DecodeGreedy(ptrs, tokens, next));
    }
    return Since(t) / (decode - 1);
  };
  auto step1 = decode_step_s(1);
  if (!step1.ok()) return Fail(step1.status());
  auto step8 = decode_step_s(8);
  if (!step8.ok()) return Fail(step8.status());
  if (profile != 0) {
    std::printf("bench_cuda_engine: profiled one decode step at batch 1 and one at batch 8\n");
    return 0;
  }
  auto bandwidth = CopyBandwidth();
  if (!bandwidth.ok()) return Fail(bandwidth.status());
  auto head_s = HeadSeconds(spec.vocab, spec.hidden, prop.multiProcessorCount);
  if (!head_s.ok()) return Fail(head_s.status());
  const double head_bytes = static_cast<double>(spec.vocab) * spec.hidden * 2;

  // Prefill: one warm-up pass, then `prefill` tokens on a fresh sequence.
  std::vector<int> prompt(static_cast<std::size_t>(prefill));
  for (int i = 0; i < prefill; ++i) prompt[static_cast<std::size_t>(i)] = (i * 7919) % 151000;
  double prefill_s = 0;
  for (int r = 0; r < 2; ++r) {
    auto seq = m.NewSequence(prefill + 1);
    if (!seq.ok()) return Fail(seq.status());
    t0 = Clock::now();
    if (Status s = m.Forward(**seq, prompt, logits); !s.ok()) return Fail(s);
    prefill_s = Since(t0);
  }

  const double token_bytes = static_cast<double>(info->active_bytes);
  const double layer_bytes = (token_bytes - head_bytes) / layers;
  const double bytes48 = head_bytes + 48 * layer_bytes;
  auto extrapolate = [&](double step) {
    return *head_s + 48 * std::max(0.0, step - *head_s) / layers;
  };
  const double step1_48 = extrapolate(*step1), step8_48 = extrapolate(*step8);
  const double prefill48 = extrapolate(prefill_s);
  const double bw = *bandwidth;

  std::printf(
      "bench_cuda_engine: Qwen3-30B-A3B per-layer shapes, FP8 E4M3 128x128 blocks, %d layers "
      "measured, extrapolated to 48\n",
      layers);
  std::printf("  device %s (%d SMs), backend %s, load %.1f s\n", prop.name,
              prop.multiProcessorCount, m.backend().c_str(), load_s);
  std::printf(
      "  | figure                                | %2d layers measured | 48 layers (extr.) |\n",
      layers);
  std::printf(
      "  |---------------------------------------|--------------------|-------------------|\n");
  std::printf("  | D2D copy bandwidth (read + write)     | %12.0f GB/s    |                   |\n",
              bw / 1e9);
  std::printf("  | lm_head GEMV (bf16, %5.0f MB)          | %12.3f ms      |                   |\n",
              head_bytes / 1e6, *head_s * 1e3);
  std::printf("  | decode batch 1, tokens/s              | %15.1f    | %14.1f    |\n", 1 / *step1,
              1 / step1_48);
  std::printf("  | decode batch 8, tokens/s (all seqs)   | %15.1f    | %14.1f    |\n", 8 / *step8,
              8 / step8_48);
  std::printf("  | prefill %4d tokens, tokens/s         | %15.1f    | %14.1f    |\n", prefill,
              prefill / prefill_s, prefill / prefill48);
  std::printf("  | bytes read per decoded token          | %12.0f MB      | %11.2f GB     |\n",
              token_bytes / 1e6, bytes48 / 1e9);
  std::printf("  | decode batch 1 bandwidth              | %12.0f GB/s    | %11.0f GB/s   |\n",
              token_bytes / *step1 / 1e9, bytes48 / step1_48 / 1e9);
  std::printf("  | ... as a fraction of copy bandwidth   | %15.0f %%   | %14.0f %%   |\n",
              100 * token_bytes / *step1 / bw, 100 * bytes48 / step1_48 / bw);
  std::printf("  target (issue 7): decode batch 1 >= 50%% of measured bandwidth\n");
  std::printf("  command: %s\n", command.c_str());
  return 0;
}
