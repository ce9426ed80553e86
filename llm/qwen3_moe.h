// Qwen3-MoE (Qwen3MoeForCausalLM) and dense Qwen3 (Qwen3ForCausalLM) on the CPU.
//
// Each block: x += o(attn(rope(knorm(k(rms(x)))), rope(qnorm(q(rms(x)))), v(rms(x))));
//             x += moe(rms(x)) or mlp(rms(x)).
// Attention: grouped-query heads, RMSNorm of every q and k head before NeoX rotary embedding,
// scale head_dim^-0.5. MoE: softmax router in fp32 over all experts, top-k, renormalised when
// norm_topk_prob; each chosen expert computes down(silu(gate(x)) ⊙ up(x)), mixed by the routing
// weights; no shared expert. Dense layers (mlp_only_layers, decoder_sparse_step, or the dense
// architecture) use the same SwiGLU MLP with intermediate_size.
//
// Tensor names follow the Hugging Face checkpoints: model.embed_tokens.weight,
// model.layers.N.{input_layernorm, post_attention_layernorm}.weight,
// model.layers.N.self_attn.{q,k,v,o}_proj.weight, model.layers.N.self_attn.{q,k}_norm.weight,
// model.layers.N.mlp.gate.weight (router), model.layers.N.mlp.experts.E.{gate,up,down}_proj.weight,
// model.layers.N.mlp.{gate,up,down}_proj.weight (dense), model.norm.weight, lm_head.weight
// (absent when tie_word_embeddings).
#pragma once

#include <memory>

#include "llm/causal_lm.h"
#include "llm/safetensors.h"

namespace lumen::llm {

// Builds the model over an opened checkpoint (which it takes over). Errors name the first
// missing or malformed tensor.
Result<std::unique_ptr<CausalLM>> LoadQwen3(Checkpoint checkpoint, const ModelConfig& config,
                                            const EngineOptions& options);

}  // namespace lumen::llm
