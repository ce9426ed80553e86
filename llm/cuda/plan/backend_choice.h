// Which backend runs the model: the `--device cpu|cuda|auto` decision (engine.device), made from
// what this build contains and what the CUDA runtime reports (llm/device.h). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "llm/device.h"

namespace lumen::llm::cuda {

enum class Backend { kCpu, kCuda };

struct BackendChoice {
  Backend backend = Backend::kCpu;
  int gpu = -1;        // CUDA device index when backend is kCuda
  std::string reason;  // why this backend (shown by `lumen model generate` and in logs)
};

// The GPU code of this build targets compute capability 9.0 (sm_90 + compute_90 PTX): older
// GPUs cannot run it.
inline constexpr int kMinComputeMajor = 9;

// "cpu": the CPU. "cuda": the first GPU of compute capability ≥ 9.0, else an error saying why
// (no CUDA backend in this build, no driver or GPU, GPU too old). "auto": that GPU when there is
// one, else the CPU with the reason in `reason`. Anything else is an InvalidArgument error.
Result<BackendChoice> ChooseBackend(std::string_view requested, const DeviceReport& report);

}  // namespace lumen::llm::cuda
