// lumen model info | quantize | make-tiny | generate | logits: the model engine's tools.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/model.h"
#include "llm/causal_lm.h"
#include "llm/chat_template.h"
#include "llm/cuda/plan/backend_choice.h"
#include "llm/device.h"
#include "llm/generator.h"
#include "llm/kv_cache.h"
#include "llm/model_info.h"
#include "llm/quantize.h"
#include "llm/tiny_model.h"
#include "llm/tokenizer.h"

namespace lumen::cli {
namespace {

// The model folder: the one positional argument, else engine.model_dir.
Result<std::string> ModelDir(const CommandContext& ctx, const Config& config) {
  const auto& args = ctx.flags.positionals();
  if (args.size() > 1)
    return InvalidArgument("expected one model folder, got " + std::to_string(args.size()));
  std::string dir = args.empty() ? config.GetString("engine.model_dir") : args[0];
  if (dir.empty()) return InvalidArgument("no model folder (give DIR or set engine.model_dir)");
  return Config::ExpandHome(dir);
}

Result<llm::EngineOptions> EngineOptionsFrom(const CommandContext& ctx, const Config& config) {
  llm::EngineOptions o;
  LUMEN_ASSIGN_OR_RETURN(long long threads,
                         ctx.flags.GetInt("threads", config.GetInt("engine.threads")));
  if (threads < 0 || threads > 1024) return InvalidArgument("--threads must be between 0 and 1024");
  o.threads = static_cast<int>(threads);
  o.isa = ctx.flags.Get("isa", config.GetString("engine.isa"));
  const std::string kv = config.GetString("engine.kv_cache_dtype");
  if (kv == "bf16") {
    o.kv_dtype = llm::KvDType::kBF16;
  } else if (kv == "f32") {
    o.kv_dtype = llm::KvDType::kF32;
  } else {
    return config.ValueError("engine.kv_cache_dtype", "expected \"bf16\" or \"f32\"");
  }
  o.verify_weights = config.GetBool("engine.verify_weights");
  o.device = ctx.flags.Get("device", config.GetString("engine.device"));
  if (o.device != "cpu" && o.device != "cuda" && o.device != "auto") {
    return InvalidArgument("--device must be cpu, cuda or auto, not \"" + o.device + "\"");
  }
  return o;
}

Result<double> GetDouble(const Flags& flags, std::string_view name, double fallback) {
  if (!flags.Has(name)) return fallback;
  const std::string v = flags.Get(name);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d)) {
    return InvalidArgument("flag --" + std::string(name) + ": expected a number, got \"" + v +
                           "\"");
  }
  return d;
}

// "1,2,3" -> ids.
Result<std::vector<int>> ParseIdList(const std::string& text) {
  std::vector<int> ids;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    int v = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size()) {
      return InvalidArgument("--ids: \"" + item + "\" is not a token id (expected e.g. 1,2,3)");
    }
    ids.push_back(v);
    start = comma + 1;
  }
  return ids;
}

// Token ids of the prompt: --ids, or --prompt through the folder's tokenizer (and chat template
// with --chat). `stop_ids` gains the chat template's end-of-turn token.
Result<std::vector<int>> PromptIds(const CommandContext& ctx, const std::string& dir,
                                   std::unique_ptr<llm::Tokenizer>& tokenizer,
                                   std::vector<int>& stop_ids) {
  const bool has_ids = ctx.flags.Has("ids"), has_prompt = ctx.flags.Has("prompt");
  if (has_ids == has_prompt)
    return InvalidArgument("give exactly one of --prompt TEXT or --ids 1,2,3");
  if (has_ids) {
    if (ctx.flags.Has("chat")) return InvalidArgument("--chat applies to --prompt only");
    return ParseIdList(ctx.flags.Get("ids"));
  }
  Result<llm::Tokenizer> tok = llm::Tokenizer::Load(dir);
  if (!tok.ok()) return tok.status().WithContext("loading the tokenizer (or use --ids)");
  tokenizer = std::make_unique<llm::Tokenizer>(std::move(*tok));
  std::string text = ctx.flags.Get("prompt");
  if (ctx.flags.Has("chat")) {
    LUMEN_ASSIGN_OR_RETURN(llm::ChatTemplate chat, llm::ChatTemplate::Load(dir));
    const std::vector<llm::ChatMessage> messages = {{.role = "user", .content = text}};
    LUMEN_ASSIGN_OR_RETURN(text,
                           chat.Render(messages, {.add_generation_prompt = true,
                                                  .enable_thinking = !ctx.flags.Has("no-think")}));
    if (const int eot = tokenizer->TokenId(chat.eos_token()); eot >= 0) stop_ids.push_back(eot);
  }
  std::vector<int32_t> ids = tokenizer->Encode(text);
  if (ids.empty()) return InvalidArgument("the prompt is empty");
  return std::vector<int>(ids.begin(), ids.end());
}

std::string Human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f %s", bytes, units[u]);
  return buf;
}

std::string Count(double n) {
  char buf[32];
  if (n >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.2fB", n / 1e9);
  } else if (n >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", n / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", n);
  }
  return buf;
}

int Info(CommandContext& ctx) {
  const std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  Result<std::string> dir = ModelDir(ctx, *config);
  if (!dir.ok()) return Fail(kExitUsage, "model info: " + dir.status().message());
  Result<llm::ModelInfo> info = llm::DescribeModel(*dir);
  if (!info.ok()) return Fail(kExitFailure, info.status().ToString());
  const llm::ModelConfig& c = info->config;
  const std::int64_t context =
      std::min<std::int64_t>(config->GetInt("engine.context_length"), c.max_position_embeddings);
  int moe_layers = 0;
  for (int l = 0; l < c.num_layers; ++l)
    moe_layers += c.arch == llm::Architecture::kQwen3Moe && c.IsMoeLayer(l);
  std::cout << "architecture      " << llm::ArchitectureName(c.arch) << "\n"
            << "layers            " << c.num_layers << " (" << moe_layers
            << " mixture-of-experts)\n"
            << "hidden size       " << c.hidden_size << "\n"
            << "attention         " << c.num_heads << " query heads, " << c.num_kv_heads
            << " kv heads, head_dim " << c.head_dim << "\n";
  if (moe_layers > 0) {
    std::cout << "experts           " << c.num_experts << " per layer, top "
              << c.num_experts_per_tok << (c.norm_topk_prob ? " (renormalised)" : "")
              << ", expert size " << c.moe_intermediate_size << "\n";
  }
  std::cout << "vocabulary        " << c.vocab_size << "\n"
            << "max context       " << c.max_position_embeddings << "\n"
            << "parameters        " << Count(static_cast<double>(info->total_params)) << " total, "
            << Count(static_cast<double>(info->active_params)) << " active per token\n"
            << "dtypes           ";
  for (const auto& [dtype, n] : info->params_by_dtype)
    std::cout << " " << dtype << " " << Count(static_cast<double>(n));
  std::cout << "\n";
  if (c.quant.fp8) {
    std::cout << "quantization      fp8 e4m3, blocks " << c.quant.block_rows << "x"
              << c.quant.block_cols << "\n";
  }
  const double kv = static_cast<double>(info->kv_bytes_per_token) * static_cast<double>(context);
  std::cout << "weights           " << Human(static_cast<double>(info->weight_bytes)) << " in "
            << info->tensors << " tensors (memory-mapped), "
            << Human(static_cast<double>(info->active_bytes)) << " read per decoded token\n"
            << "KV cache (bf16)   " << Human(static_cast<double>(info->kv_bytes_per_token))
            << " per token, " << Human(kv) << " for " << context << " tokens\n"
            << "memory needed     about " << Human(static_cast<double>(info->weight_bytes) + kv)
            << " (weights + KV cache at engine.context_length)\n";
  return kExitOk;
}

int Quantize(CommandContext& ctx) {
  const auto& args = ctx.flags.positionals();
  if (args.size() != 2) return Fail(kExitUsage, "model quantize: expected SRC and DST folders");
  if (!ctx.LoadConfig()) return kExitUsage;
  const Status s = llm::QuantizeCheckpoint(args[0], args[1]);
  if (!s.ok()) return Fail(kExitFailure, "model quantize: " + s.ToString());
  std::cerr << "wrote FP8 checkpoint to " << args[1] << "\n";
  return kExitOk;
}

int MakeTiny(CommandContext& ctx) {
  const auto& args = ctx.flags.positionals();
  if (args.size() != 1) return Fail(kExitUsage, "model make-tiny: expected one DST folder");
  if (!ctx.LoadConfig()) return kExitUsage;
  llm::TinyModelSpec spec;
  const std::string arch = ctx.flags.Get("arch", "qwen3_moe");
  if (arch == "qwen3_moe") {
    spec.arch = llm::Architecture::kQwen3Moe;
  } else if (arch == "qwen3") {
    spec.arch = llm::Architecture::kQwen3;
  } else {
    return Fail(kExitUsage, "model make-tiny: --arch must be qwen3_moe or qwen3");
  }
  Result<long long> seed = ctx.flags.GetInt("seed", 1);
  if (!seed.ok() || *seed < 0)
    return Fail(kExitUsage, "model make-tiny: --seed must be an integer >= 0");
  spec.seed = static_cast<std::uint64_t>(*seed);
  spec.fp8 = ctx.flags.Has("fp8");
  if (ctx.flags.Has("no-tokenizer")) {
    Result<long long> vocab = ctx.flags.GetInt("vocab", 1024);
    if (!vocab.ok() || *vocab < 2 || *vocab > 1000000) {
      return Fail(kExitUsage, "model make-tiny: --vocab must be between 2 and 1000000");
    }
    spec.vocab = static_cast<int>(*vocab);
  } else {
    if (ctx.flags.Has("vocab"))
      return Fail(kExitUsage, "model make-tiny: --vocab needs --no-tokenizer");
    Result<std::string> tok = llm::CachedQwen3TokenizerDir();
    if (!tok.ok()) {
      return Fail(kExitFailure, "model make-tiny: " + tok.status().message() +
                                    " (or pass --no-tokenizer for a model driven by --ids)");
    }
    spec.tokenizer_dir = *tok;
    spec.tie_embeddings = true;  // one 151936 x 64 table instead of two (about 20 MB in all)
  }
  const Status s = llm::WriteTinyModel(args[0], spec);
  if (!s.ok()) return Fail(kExitFailure, "model make-tiny: " + s.ToString());
  std::cerr << "wrote a tiny random " << arch << (spec.fp8 ? " FP8" : " BF16") << " model to "
            << args[0] << "\n";
  return kExitOk;
}

struct Loaded {
  std::unique_ptr<llm::CausalLM> model;
  std::vector<int> prompt;
  std::unique_ptr<llm::Tokenizer> tokenizer;
  std::vector<int> stop_ids;
};

// Shared by generate and logits: configuration, prompt ids, the model. Returns an exit code on
// failure (already reported).
std::optional<int> LoadForRun(CommandContext& ctx, const char* sub, std::optional<Config>& config,
                              Loaded& out) {
  config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  const std::string name = std::string("model ") + sub + ": ";
  Result<std::string> dir = ModelDir(ctx, *config);
  if (!dir.ok()) return Fail(kExitUsage, name + dir.status().message());
  Result<llm::EngineOptions> options = EngineOptionsFrom(ctx, *config);
  if (!options.ok()) return Fail(kExitUsage, name + options.status().message());
  Result<std::vector<int>> prompt = PromptIds(ctx, *dir, out.tokenizer, out.stop_ids);
  if (!prompt.ok()) {
    const bool usage = prompt.status().code() == StatusCode::kInvalidArgument;
    return Fail(usage ? kExitUsage : kExitFailure, name + prompt.status().message());
  }
  out.prompt = std::move(*prompt);
  if (options->device == "auto") {  // say why the CPU was chosen, when it was
    Result<llm::cuda::BackendChoice> choice =
        llm::cuda::ChooseBackend(options->device, llm::ProbeDevices());
    if (choice.ok() && choice->backend == llm::cuda::Backend::kCpu) {
      std::cerr << "lumen: --device auto: running on the CPU (" << choice->reason << ")\n";
    }
  }
  Result<std::unique_ptr<llm::CausalLM>> model = llm::LoadCausalLM(*dir, *options);
  if (!model.ok()) {
    const bool usage = model.status().code() == StatusCode::kInvalidArgument &&
                       model.status().message().find("instruction set") != std::string::npos;
    return Fail(usage ? kExitUsage : kExitFailure, name + model.status().ToString());
  }
  out.model = std::move(*model);
  return std::nullopt;
}

int Logits(CommandContext& ctx) {
  std::optional<Config> config;
  Loaded run;
  if (auto rc = LoadForRun(ctx, "logits", config, run)) return *rc;
  const llm::ModelConfig& c = run.model->config();
  const std::int64_t context =
      std::min<std::int64_t>(config->GetInt("engine.context_length"), c.max_position_embeddings);
  if (static_cast<std::int64_t>(run.prompt.size()) > context) {
    return Fail(kExitUsage, "model logits: the prompt has " + std::to_string(run.prompt.size()) +
                                " tokens, more than the context of " + std::to_string(context));
  }
  Result<std::unique_ptr<llm::SequenceState>> seq =
      run.model->NewSequence(static_cast<int>(run.prompt.size()));
  if (!seq.ok()) return Fail(kExitFailure, "model logits: " + seq.status().message());
  std::vector<float> logits(static_cast<std::size_t>(c.vocab_size));
  const Status s = run.model->Forward(**seq, run.prompt, logits);
  if (!s.ok()) {
    return Fail(s.code() == StatusCode::kInternal ? kExitFailure : kExitUsage,
                "model logits: " + s.message());
  }
  std::string out = "[";
  char buf[32];
  for (std::size_t i = 0; i < logits.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? "," : "", static_cast<double>(logits[i]));
    out += buf;
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int GenerateCmd(CommandContext& ctx) {
  std::optional<Config> config;
  Loaded run;
  if (auto rc = LoadForRun(ctx, "generate", config, run)) return *rc;
  const std::string dir = ModelDir(ctx, *config).value();
  Result<llm::GenerationConfig> gen = llm::LoadGenerationConfig(dir);
  if (!gen.ok()) return Fail(kExitFailure, "model generate: " + gen.status().ToString());

  llm::GenerationOptions o;
  // Sampling defaults come from generation_config.json (greedy when it does not sample);
  // flags override.
  llm::SamplingParams& p = o.sampling;
  if (gen->do_sample.value_or(gen->temperature.has_value())) {
    p.temperature = gen->temperature.value_or(1.0);
    p.top_k = gen->top_k.value_or(0);
    p.top_p = gen->top_p.value_or(1.0);
    p.min_p = gen->min_p.value_or(0.0);
  }
  p.repetition_penalty = gen->repetition_penalty.value_or(1.0);
  Result<double> temperature = GetDouble(ctx.flags, "temperature", p.temperature);
  Result<double> top_p = GetDouble(ctx.flags, "top-p", p.top_p);
  Result<double> min_p = GetDouble(ctx.flags, "min-p", p.min_p);
  Result<double> penalty = GetDouble(ctx.flags, "repetition-penalty", p.repetition_penalty);
  Result<long long> top_k = ctx.flags.GetInt("top-k", p.top_k);
  Result<long long> seed = ctx.flags.GetInt("seed", 0);
  Result<long long> max_tokens =
      ctx.flags.GetInt("max-tokens", config->GetInt("engine.max_tokens"));
  for (const Status& s : {temperature.status(), top_p.status(), min_p.status(), penalty.status(),
                          top_k.status(), seed.status(), max_tokens.status()}) {
    if (!s.ok()) return Fail(kExitUsage, "model generate: " + s.message());
  }
  p.temperature = *temperature;
  p.top_p = *top_p;
  p.min_p = *min_p;
  p.repetition_penalty = *penalty;
  p.top_k = static_cast<int>(std::clamp<long long>(*top_k, -1, 1 << 30));
  p.seed = static_cast<std::uint64_t>(*seed);
  if (*max_tokens < 1 || *max_tokens > (1 << 24)) {
    return Fail(kExitUsage, "model generate: --max-tokens must be at least 1");
  }
  if (const Status s = p.Validate(); !s.ok())
    return Fail(kExitUsage, "model generate: " + s.message());
  o.max_tokens = static_cast<int>(*max_tokens);
  o.context_length = static_cast<int>(
      std::clamp<std::int64_t>(config->GetInt("engine.context_length"), 1, 1 << 24));
  o.stop_ids = gen->eos_token_ids;
  o.stop_ids.insert(o.stop_ids.end(), run.stop_ids.begin(), run.stop_ids.end());

  std::unique_ptr<llm::Tokenizer::StreamDecoder> decoder;
  if (run.tokenizer) decoder = std::make_unique<llm::Tokenizer::StreamDecoder>(*run.tokenizer);
  auto on_token = [&](int id) {
    const std::string text = decoder ? decoder->Next(id) : std::to_string(id) + " ";
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  Result<llm::GenerationResult> r = llm::Generate(*run.model, run.prompt, o, on_token);
  if (decoder) {
    const std::string rest = decoder->Finish();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
  }
  std::fputs("\n", stdout);
  std::fflush(stdout);
  if (!r.ok()) {
    const bool usage = r.status().code() == StatusCode::kInvalidArgument;
    return Fail(usage ? kExitUsage : kExitFailure, "model generate: " + r.status().message());
  }
  std::fprintf(stderr,
               "prefill: %d tokens in %.3f s (%.1f tokens/s); decode: %zu tokens in %.3f s (%.2f "
               "tokens/s); stop: %s; backend %s\n",
               r->prompt_tokens, r->prefill_seconds, r->prefill_tokens_per_second(),
               r->tokens.size(), r->decode_seconds, r->decode_tokens_per_second(),
               r->stop_reason.c_str(), run.model->backend().c_str());
  return kExitOk;
}

const std::vector<FlagSpec> kRunFlags = {
    {"prompt", "TEXT", "prompt text (tokenized with the folder's tokenizer)"},
    {"ids", "1,2,3", "prompt as token ids instead of text"},
    {"chat", "", "wrap --prompt in the model's chat template as one user turn"},
    {"no-think", "", "with --chat: ask Qwen3 to answer without reasoning"},
    {"threads", "N", "worker threads (config engine.threads; 0 = all cores)"},
    {"isa", "NAME", "auto, amx, avx512vbmi, avx512, avx2 or scalar (config engine.isa)"},
    {"device", "NAME", "cpu, cuda or auto (config engine.device)"},
};

}  // namespace

std::vector<Subcommand> ModelEngineSubcommands() {
  std::vector<FlagSpec> generate_flags = kRunFlags;
  for (FlagSpec f : std::vector<FlagSpec>{
           {"max-tokens", "N", "most tokens to generate (config engine.max_tokens)"},
           {"temperature", "T", "0 = greedy (default: generation_config.json)"},
           {"top-k", "K", "keep the K most likely tokens (0 = off)"},
           {"top-p", "P", "nucleus sampling mass (1 = off)"},
           {"min-p", "P", "drop tokens below P x the best token's probability"},
           {"repetition-penalty", "R", "> 1 discourages repeating tokens"},
           {"seed", "S", "random seed for sampling (default 0)"}}) {
    generate_flags.push_back(f);
  }
  return {
      {.name = "info",
       .summary = "Describe a model folder: architecture, experts, parameters, dtypes, memory",
       .arguments = "[DIR]",
       .run = Info},
      {.name = "quantize",
       .summary = "Convert a BF16/F16/F32 checkpoint to block-scaled FP8 (E4M3, 128x128)",
       .arguments = "SRC DST",
       .run = Quantize},
      {.name = "make-tiny",
       .summary = "Write a tiny random model (for tests and demos)",
       .arguments = "DST",
       .flags = {{"arch", "NAME", "qwen3_moe (default) or qwen3"},
                 {"seed", "N", "random seed (default 1)"},
                 {"fp8", "", "FP8 block-scaled linear layers (default BF16)"},
                 {"no-tokenizer", "", "skip the Qwen3 tokenizer (the model then takes --ids only)"},
                 {"vocab", "N", "vocabulary size with --no-tokenizer (default 1024)"}},
       .run = MakeTiny},
      {.name = "generate",
       .summary = "Generate text: streams tokens to stdout, speed to stderr",
       .arguments = "[DIR]",
       .flags = generate_flags,
       .run = GenerateCmd},
      {.name = "logits",
       .summary = "Print the last position's next-token logits as a JSON array",
       .arguments = "[DIR]",
       .flags = kRunFlags,
       .run = Logits},
  };
}

}  // namespace lumen::cli
