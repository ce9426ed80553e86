#include "llm/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "llm/fp8.h"
#include "llm/model_config.h"
#include "llm/safetensors.h"
#include "llm/weights.h"

namespace lumen::llm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kBlock = 128;
constexpr std::size_t kShardBytes = std::size_t{4} << 30;

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Fp8Block QuantizeFp8Blocks(const float* w, std::int64_t rows, std::int64_t cols, int br, int bc) {
  const std::int64_t sr = (rows + br - 1) / br, sc = (cols + bc - 1) / bc;
  Fp8Block out;
  out.codes.resize(static_cast<std::size_t>(rows * cols));
  out.scales.resize(static_cast<std::size_t>(sr * sc));
  for (std::int64_t bi = 0; bi < sr; ++bi) {
    for (std::int64_t bj = 0; bj < sc; ++bj) {
      const std::int64_t r0 = bi * br, r1 = std::min(rows, r0 + br);
      const std::int64_t c0 = bj * bc, c1 = std::min(cols, c0 + bc);
      float amax = 0.0f;
      for (std::int64_t r = r0; r < r1; ++r) {
        for (std::int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(w[r * cols + c]));
      }
      const float scale = amax > 0.0f ? amax / kE4M3Max : 1.0f;
      out.scales[static_cast<std::size_t>(bi * sc + bj)] = scale;
      for (std::int64_t r = r0; r < r1; ++r) {
        for (std::int64_t c = c0; c < c1; ++c) {
          out.codes[static_cast<std::size_t>(r * cols + c)] = EncodeE4M3(w[r * cols + c] / scale);
        }
      }
    }
  }
  return out;
}

bool ShouldQuantize(const std::string& name, std::size_t rank) {
  if (rank != 2 || !EndsWith(name, ".weight")) return false;
  if (name.find("embed_tokens") != std::string::npos || name.find("lm_head") != std::string::npos ||
      name.find("norm") != std::string::npos || EndsWith(name, ".mlp.gate.weight")) {
    return false;
  }
  return true;
}

Status QuantizeCheckpoint(const std::string& src, const std::string& dst) {
  const fs::path config_path = fs::path(src) / "config.json";
  std::ifstream in(config_path);
  if (!in) return NotFound("cannot read " + config_path.string());
  json config = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return Corruption(config_path.string() + ": invalid JSON");
  }
  if (config.contains("quantization_config") && !config["quantization_config"].is_null()) {
    return InvalidArgument(src + " is already quantized (config.json has quantization_config)");
  }
  Result<ModelConfig> parsed = ParseModelConfig(config);
  if (!parsed.ok()) return parsed.status().WithContext(src);
  LUMEN_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(src));

  std::error_code ec;
  fs::create_directories(dst, ec);
  if (ec) return IoError("cannot create " + dst + ": " + ec.message());
  if (fs::equivalent(src, dst, ec)) return InvalidArgument("source and destination are the same");

  std::vector<std::string> parts;              // temporary shard names, in order
  std::map<std::string, std::size_t> part_of;  // tensor -> index in parts
  std::uint64_t total = 0;
  json not_converted = json::array();
  SafetensorsWriter writer;
  auto flush = [&]() -> Status {
    if (writer.size() == 0) return Status::Ok();
    const std::string name = "part-" + std::to_string(parts.size()) + ".tmp";
    total += writer.bytes();
    LUMEN_RETURN_IF_ERROR(writer.Write((fs::path(dst) / name).string()));
    parts.push_back(name);
    writer = SafetensorsWriter();
    return Status::Ok();
  };
  for (const auto& [name, t] : checkpoint.tensors()) {
    if (t->dtype != DType::kBF16 && t->dtype != DType::kF16 && t->dtype != DType::kF32) {
      return Unimplemented("tensor \"" + name + "\" has dtype " + std::string(DTypeName(t->dtype)) +
                           " (quantize reads BF16, F16 or F32)");
    }
    if (ShouldQuantize(name, t->shape.size())) {
      const std::size_t n = static_cast<std::size_t>(t->numel());
      std::vector<float> w(n);
      for (std::size_t i = 0; i < n; ++i) {
        w[i] = ElementToFloat(t->dtype, t->data, i);
        if (!std::isfinite(w[i])) {
          return Corruption("tensor \"" + name + "\" holds a NaN or infinity at element " +
                            std::to_string(i));
        }
      }
      Fp8Block q = QuantizeFp8Blocks(w.data(), t->shape[0], t->shape[1], kBlock, kBlock);
      const std::int64_t sr = (t->shape[0] + kBlock - 1) / kBlock;
      const std::int64_t sc = (t->shape[1] + kBlock - 1) / kBlock;
      std::vector<std::uint8_t> scale_bytes(q.scales.size() * 4);
      std::memcpy(scale_bytes.data(), q.scales.data(), scale_bytes.size());
      writer.Add(name, DType::kF8E4M3, t->shape, std::move(q.codes));
      writer.Add(name + "_scale_inv", DType::kF32, {sr, sc}, std::move(scale_bytes));
      part_of[name] = part_of[name + "_scale_inv"] = parts.size();
    } else {
      writer.Add(name, t->dtype, t->shape, std::vector<std::uint8_t>(t->data, t->data + t->nbytes));
      part_of[name] = parts.size();
      if (EndsWith(name, ".weight")) not_converted.push_back(name.substr(0, name.size() - 7));
    }
    if (writer.bytes() >= kShardBytes) LUMEN_RETURN_IF_ERROR(flush());
  }
  LUMEN_RETURN_IF_ERROR(flush());

  // Name the shards as Hugging Face does, now that their number is known.
  std::map<std::string, std::string> weight_map;
  const int count = static_cast<int>(parts.size());
  std::vector<std::string> final_names;
  for (int i = 0; i < count; ++i) {
    final_names.push_back(count == 1 ? "model.safetensors" : ShardFileName(i + 1, count));
    fs::rename(fs::path(dst) / parts[static_cast<std::size_t>(i)],
               fs::path(dst) / final_names.back(), ec);
    if (ec) return IoError("cannot rename shard: " + ec.message());
  }
  fs::remove(fs::path(dst) / "model.safetensors.index.json", ec);
  if (count > 1) {
    for (const auto& [name, part] : part_of) weight_map[name] = final_names[part];
    LUMEN_RETURN_IF_ERROR(WriteSafetensorsIndex(dst, weight_map, total));
  }

  config["quantization_config"] = {{"quant_method", "fp8"},
                                   {"fmt", "e4m3"},
                                   {"activation_scheme", "dynamic"},
                                   {"weight_block_size", {kBlock, kBlock}},
                                   {"modules_to_not_convert", not_converted}};
  std::ofstream out(fs::path(dst) / "config.json", std::ios::trunc);
  out << config.dump(2) << "\n";
  out.close();
  if (!out) return IoError("cannot write config.json in " + dst);
  // Everything else small (tokenizer, generation config, chat template) comes along.
  for (const fs::directory_entry& e : fs::directory_iterator(src, ec)) {
    const std::string f = e.path().filename().string();
    if (!e.is_regular_file() || f == "config.json" || EndsWith(f, ".safetensors") ||
        f == "model.safetensors.index.json") {
      continue;
    }
    fs::copy_file(e.path(), fs::path(dst) / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError("cannot copy " + f + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace lumen::llm
