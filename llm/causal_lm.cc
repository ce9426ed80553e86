#include "llm/causal_lm.h"

#include "llm/cuda/plan/backend_choice.h"
#include "llm/device.h"
#include "llm/qwen3_moe.h"
#include "llm/safetensors.h"
#ifdef LUMEN_HAVE_CUDA
#include "llm/cuda/qwen3_cuda.h"
#endif

namespace lumen::llm {

Status CausalLM::CheckForward(const SequenceState& seq, std::span<const int> tokens,
                              std::span<float> logits) const {
  const ModelConfig& c = config();
  if (tokens.empty()) return InvalidArgument("no tokens to process");
  if (logits.size() != static_cast<std::size_t>(c.vocab_size)) {
    return InvalidArgument("logits buffer has " + std::to_string(logits.size()) +
                           " entries, the vocabulary " + std::to_string(c.vocab_size));
  }
  for (int id : tokens) {
    if (id < 0 || id >= c.vocab_size) {
      return InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                             std::to_string(c.vocab_size) + ")");
    }
  }
  if (tokens.size() > static_cast<std::size_t>(seq.capacity() - seq.length())) {
    return ResourceExhausted("context full: " + std::to_string(seq.length()) + " + " +
                             std::to_string(tokens.size()) + " tokens exceed the context of " +
                             std::to_string(seq.capacity()));
  }
  return Status::Ok();
}

Result<std::unique_ptr<CausalLM>> LoadCausalLM(const std::string& dir,
                                               const EngineOptions& options) {
  cuda::BackendChoice backend;
  if (options.device != "cpu") {  // probing starts the CUDA runtime: only when asked to
    LUMEN_ASSIGN_OR_RETURN(backend, cuda::ChooseBackend(options.device, ProbeDevices()));
  }
  LUMEN_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir));
#ifdef LUMEN_HAVE_CUDA
  if (backend.backend == cuda::Backend::kCuda) {
    LUMEN_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(dir, /*populate=*/false));
    Result<std::unique_ptr<cuda::CudaCausalLM>> m =
        cuda::LoadQwen3Cuda(std::move(checkpoint), config, options, backend.gpu);
    if (!m.ok()) return m.status().WithContext(dir);
    return std::unique_ptr<CausalLM>(std::move(*m));
  }
#endif
  LUMEN_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(dir, /*populate=*/true));
  switch (config.arch) {
    case Architecture::kQwen3Moe:
    case Architecture::kQwen3: {
      Result<std::unique_ptr<CausalLM>> m = LoadQwen3(std::move(checkpoint), config, options);
      if (!m.ok()) return m.status().WithContext(dir);
      return m;
    }
  }
  return Unimplemented("no implementation for this architecture");
}

}  // namespace lumen::llm
