#include "llm/weights.h"

#include <cmath>
#include <cstring>

#include "llm/fp8.h"

namespace lumen::llm {

float Bf16ToFloat(std::uint16_t bits) {
  const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::uint16_t FloatToBf16(float value) {
  std::uint32_t u;
  std::memcpy(&u, &value, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

float F16ToFloat(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  const int exponent = (h >> 10) & 0x1F;
  const std::uint32_t mantissa = h & 0x3FFu;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa ? std::nanf("") : INFINITY;
  } else {
    magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 1024.0f, exponent - 15);
  }
  float out = magnitude;
  if (sign) out = -out;
  return out;
}

float ElementToFloat(DType dtype, const std::uint8_t* data, std::size_t i) {
  switch (dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, data + 4 * i, 4);
      return f;
    }
    case DType::kBF16: {
      std::uint16_t b;
      std::memcpy(&b, data + 2 * i, 2);
      return Bf16ToFloat(b);
    }
    case DType::kF16: {
      std::uint16_t b;
      std::memcpy(&b, data + 2 * i, 2);
      return F16ToFloat(b);
    }
    case DType::kF8E4M3: return DecodeE4M3(data[i]);
    default: return NAN;
  }
}

namespace {

bool IsFloat(DType d) {
  return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16 || d == DType::kF8E4M3;
}

// Index of the first non-finite element, or -1.
std::int64_t FirstNonFinite(const TensorView& t) {
  const std::size_t n = static_cast<std::size_t>(t.numel());
  switch (t.dtype) {
    case DType::kF8E4M3:
      for (std::size_t i = 0; i < n; ++i) {
        if ((t.data[i] & 0x7F) == 0x7F) return static_cast<std::int64_t>(i);
      }
      return -1;
    case DType::kBF16:
    case DType::kF16: {
      const std::uint16_t mask = t.dtype == DType::kBF16 ? 0x7F80 : 0x7C00;
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t b;
        std::memcpy(&b, t.data + 2 * i, 2);
        if ((b & mask) == mask) return static_cast<std::int64_t>(i);
      }
      return -1;
    }
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t b;
        std::memcpy(&b, t.data + 4 * i, 4);
        if ((b & 0x7F800000u) == 0x7F800000u) return static_cast<std::int64_t>(i);
      }
      return -1;
    default: return -1;
  }
}

std::string Shape2(std::int64_t r, std::int64_t c) {
  return "[" + std::to_string(r) + ", " + std::to_string(c) + "]";
}

}  // namespace

Result<const TensorView*> WeightLoader::Find(const std::string& name) const {
  const TensorView* t = checkpoint_.Find(name);
  if (t == nullptr) return NotFound("missing tensor \"" + name + "\"");
  if (!IsFloat(t->dtype)) {
    return Unimplemented("tensor \"" + name + "\" has unsupported dtype " +
                         std::string(DTypeName(t->dtype)) + " (expected F8_E4M3, BF16, F16, F32)");
  }
  if (verify_finite_) {
    if (const std::int64_t bad = FirstNonFinite(*t); bad >= 0) {
      return Corruption("tensor \"" + name + "\" holds a NaN or infinity at element " +
                        std::to_string(bad));
    }
  }
  return t;
}

Result<WeightMatrix> WeightLoader::Matrix(const std::string& name, std::int64_t rows,
                                          std::int64_t cols) {
  LUMEN_ASSIGN_OR_RETURN(const TensorView* t, Find(name));
  if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols) {
    return InvalidArgument("tensor \"" + name + "\" has shape " + t->ShapeString() + ", expected " +
                           Shape2(rows, cols));
  }
  WeightMatrix w{.name = name, .dtype = t->dtype, .rows = rows, .cols = cols, .data = t->data};
  bytes_mapped_ += t->nbytes;
  if (t->dtype != DType::kF8E4M3) return w;

  const std::string scale_name = name + "_scale_inv";
  const TensorView* s = checkpoint_.Find(scale_name);
  if (s == nullptr) {
    return NotFound("FP8 tensor \"" + name + "\" has no block scales \"" + scale_name + "\"");
  }
  const std::int64_t br = quant_.block_rows, bc = quant_.block_cols;
  const std::int64_t srows = (rows + br - 1) / br, scols = (cols + bc - 1) / bc;
  if (s->dtype != DType::kF32 && s->dtype != DType::kBF16 && s->dtype != DType::kF16) {
    return Unimplemented("scales \"" + scale_name + "\" have unsupported dtype " +
                         std::string(DTypeName(s->dtype)));
  }
  if (s->shape.size() != 2 || s->shape[0] != srows || s->shape[1] != scols) {
    return InvalidArgument("scales \"" + scale_name + "\" have shape " + s->ShapeString() +
                           ", expected " + Shape2(srows, scols) + " for " + Shape2(rows, cols) +
                           " in blocks of " + Shape2(br, bc));
  }
  std::vector<float>& grid = scale_grids_.emplace_back(static_cast<std::size_t>(srows * scols));
  for (std::size_t i = 0; i < grid.size(); ++i) {
    grid[i] = ElementToFloat(s->dtype, s->data, i);
    if (!std::isfinite(grid[i])) {
      return Corruption("scales \"" + scale_name + "\" hold a NaN or infinity at element " +
                        std::to_string(i));
    }
  }
  w.scales = grid.data();
  w.block_rows = br;
  w.block_cols = bc;
  w.scale_cols = scols;
  bytes_mapped_ += s->nbytes;
  return w;
}

Result<std::vector<float>> WeightLoader::Vector(const std::string& name, std::int64_t n) {
  LUMEN_ASSIGN_OR_RETURN(const TensorView* t, Find(name));
  if (t->shape.size() != 1 || t->shape[0] != n) {
    return InvalidArgument("tensor \"" + name + "\" has shape " + t->ShapeString() +
                           ", expected [" + std::to_string(n) + "]");
  }
  if (t->dtype == DType::kF8E4M3) {
    return Unimplemented("vector \"" + name + "\" is F8_E4M3 (norms must be BF16/F16/F32)");
  }
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = ElementToFloat(t->dtype, t->data, i);
  bytes_mapped_ += t->nbytes;
  return v;
}

}  // namespace lumen::llm
