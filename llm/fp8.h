// FP8 E4M3 ("e4m3fn", as in the OCP FP8 spec and torch.float8_e4m3fn): 1 sign bit, 4 exponent
// bits (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN; largest finite ±448;
// subnormals m × 2^-9. Block-scaled checkpoints store weights in this format (see weights.h).
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>

namespace lumen::llm {

// The value of an E4M3 code (NaN for 0x7F and 0xFF).
float DecodeE4M3(std::uint8_t code);

// The E4M3 code nearest to `value`, ties to even; values beyond ±448 (including ±inf) saturate
// to ±448; NaN becomes 0x7F. The sign of zero is kept.
std::uint8_t EncodeE4M3(float value);

// True for the two NaN codes.
inline bool IsE4M3NaN(std::uint8_t code) {
  return (code & 0x7F) == 0x7F;
}

inline constexpr float kE4M3Max = 448.0f;

}  // namespace lumen::llm
