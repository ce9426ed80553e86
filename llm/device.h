// Which compute devices this build and this machine offer to the model engine.
// Thread-safe (the CUDA runtime serialises its own initialisation).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace lumen::llm {

struct GpuInfo {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::size_t memory_bytes = 0;
};

struct DeviceReport {
  bool cuda_built = false;    // this binary contains the CUDA backend
  std::vector<GpuInfo> gpus;  // GPUs the CUDA runtime can see (empty without CUDA or a driver)
  std::string note;           // why no GPU is usable, when none is ("no CUDA driver", ...)
};

// Asks the CUDA runtime (when built in) which GPUs are visible. Never fails: problems are
// described in `note`.
DeviceReport ProbeDevices();

}  // namespace lumen::llm
