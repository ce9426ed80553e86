#include "llm/fp8.h"

#include <cmath>
#include <limits>

namespace lumen::llm {

float DecodeE4M3(std::uint8_t code) {
  const bool negative = (code & 0x80) != 0;
  const int exponent = (code >> 3) & 0x0F;
  const int mantissa = code & 0x07;
  if (exponent == 0x0F && mantissa == 0x07) return std::numeric_limits<float>::quiet_NaN();
  const float magnitude =
      exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -9)
                    : std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  return negative ? -magnitude : magnitude;
}

std::uint8_t EncodeE4M3(float value) {
  if (std::isnan(value)) return 0x7F;
  const std::uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
  const float a = std::fabs(value);
  if (a >= kE4M3Max) return sign | 0x7E;  // saturate (also inf)
  // Quantum of the binade holding `a`: 2^-9 for subnormals and the first normal binade.
  int e = 0;
  std::frexp(a, &e);  // a = f × 2^e, f in [0.5, 1): binade exponent is e - 1
  const int binade = e - 1 < -6 ? -6 : e - 1;
  const float quantum = std::ldexp(1.0f, binade - 3);
  const float steps = std::nearbyint(a / quantum);  // default rounding mode: ties to even
  const float rounded = steps * quantum;
  if (rounded >= kE4M3Max) return sign | 0x7E;
  // Re-derive fields from the rounded value (rounding may have carried into the next binade).
  if (rounded < std::ldexp(1.0f, -6)) {
    return sign | static_cast<std::uint8_t>(rounded / std::ldexp(1.0f, -9));
  }
  int re = 0;
  const float f = std::frexp(rounded, &re);  // rounded = f × 2^re, f in [0.5,1)
  const int exponent = re - 1 + 7;
  const int mantissa = static_cast<int>((f * 2.0f - 1.0f) * 8.0f);
  return sign | static_cast<std::uint8_t>((exponent << 3) | mantissa);
}

}  // namespace lumen::llm
