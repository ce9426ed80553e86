#include "llm/cuda/plan/backend_choice.h"

namespace lumen::llm::cuda {
namespace {

// The first usable GPU, or why there is none.
Result<BackendChoice> FindGpu(const DeviceReport& report) {
  if (!report.cuda_built) {
    return Unimplemented(
        "this build has no CUDA backend (configure with -DLUMEN_CUDA=ON where nvcc is "
        "installed)");
  }
  if (report.gpus.empty()) {
    return Unavailable("no usable GPU" + (report.note.empty() ? "" : ": " + report.note));
  }
  std::string too_old;
  for (const GpuInfo& g : report.gpus) {
    if (g.compute_major >= kMinComputeMajor) {
      return BackendChoice{.backend = Backend::kCuda,
                           .gpu = g.index,
                           .reason = "GPU " + std::to_string(g.index) + " (" + g.name +
                                     ", compute capability " + std::to_string(g.compute_major) +
                                     "." + std::to_string(g.compute_minor) + ")"};
    }
    if (!too_old.empty()) too_old += ", ";
    too_old +=
        g.name + " " + std::to_string(g.compute_major) + "." + std::to_string(g.compute_minor);
  }
  return Unavailable("no GPU of compute capability " + std::to_string(kMinComputeMajor) +
                     ".0 or newer (this build's CUDA code targets sm_90); found " + too_old);
}

}  // namespace

Result<BackendChoice> ChooseBackend(std::string_view requested, const DeviceReport& report) {
  if (requested == "cpu") {
    return BackendChoice{.backend = Backend::kCpu, .reason = "requested"};
  }
  if (requested == "cuda") {
    Result<BackendChoice> gpu = FindGpu(report);
    if (!gpu.ok()) return gpu.status().WithContext("CUDA was requested but cannot be used");
    return gpu;
  }
  if (requested == "auto") {
    Result<BackendChoice> gpu = FindGpu(report);
    if (gpu.ok()) return gpu;
    return BackendChoice{.backend = Backend::kCpu, .reason = gpu.status().message()};
  }
  return InvalidArgument("device must be cpu, cuda or auto, not \"" + std::string(requested) +
                         "\"");
}

}  // namespace lumen::llm::cuda
