// CUDA side of llm/device.h: lists the GPUs the runtime can see.
#include <cuda_runtime.h>

#include "llm/device.h"

namespace lumen::llm {

DeviceReport ProbeDevices() {
  DeviceReport r;
  r.cuda_built = true;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    r.note = std::string("CUDA runtime reports no usable GPU: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later probes start clean
    return r;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    r.gpus.push_back(GpuInfo{i, prop.name, prop.major, prop.minor, prop.totalGlobalMem});
  }
  if (r.gpus.empty()) r.note = "CUDA runtime sees no GPU";
  return r;
}

}  // namespace lumen::llm
