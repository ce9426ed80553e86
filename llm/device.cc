#include "llm/device.h"

#ifndef LUMEN_HAVE_CUDA
namespace lumen::llm {

DeviceReport ProbeDevices() {
  DeviceReport r;
  r.note =
      "this build has no CUDA backend (configure with -DLUMEN_CUDA=ON where nvcc is installed)";
  return r;
}

}  // namespace lumen::llm
#endif
