// libFuzzer harness: arbitrary bytes as a whole safetensors file. The parser must return a
// status (never crash, hang or over-allocate), and every view it accepts must lie inside the
// input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "llm/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> file(data, size);
  auto tensors = lumen::llm::ParseSafetensors(file);
  if (!tensors.ok()) return 0;
  for (const lumen::llm::TensorView& t : *tensors) {
    if (t.data < data || t.data + t.nbytes > data + size) std::abort();
    if (t.nbytes != static_cast<std::size_t>(t.numel()) * lumen::llm::DTypeSize(t.dtype))
      std::abort();
  }
  return 0;
}
