// lumen version: the version, and what this build and machine offer (CUDA, GPUs).
#include <iostream>

#include "apps/commands.h"
#include "llm/device.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  if (!ctx.flags.positionals().empty()) return Fail(kExitUsage, "version takes no arguments");
  std::cout << "lumen " << LUMEN_VERSION << "\n";
  std::cout << "compiler: " << __VERSION__ << ", C++ " << __cplusplus << "\n";
  const llm::DeviceReport devices = llm::ProbeDevices();
  std::cout << "cuda backend: " << (devices.cuda_built ? "built (sm_90 + PTX)" : "not built")
            << "\n";
  for (const llm::GpuInfo& g : devices.gpus) {
    std::cout << "gpu " << g.index << ": " << g.name << " (sm_" << g.compute_major
              << g.compute_minor << ", " << (g.memory_bytes >> 20) << " MiB)\n";
  }
  if (devices.gpus.empty()) std::cout << "gpus: none (" << devices.note << ")\n";
  return kExitOk;
}

}  // namespace

Command VersionCommand() {
  return {.name = "version",
          .summary = "Print the version and the compute devices this build can use",
          .arguments = "",
          .details = "",
          .flags = {},
          .run = Run};
}

}  // namespace lumen::cli
