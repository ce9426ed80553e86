// exp(x) for the SIMD softmax kernels (simd_avx2.cc, simd_avx512.cc): x = n·ln2 + r with
// n = round(x / ln2) and |r| <= ln2/2 (ln2 split in two parts so that r is exact), e^r by the
// Cephes single-precision polynomial (within 2 ulp), times 2^n. Internal to llm/cpu.
#pragma once

namespace lumen::llm::cpu::exp_poly {

inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;      // ln 2 rounded to 10 bits: n·kLn2Hi is exact
inline constexpr float kLn2Lo = -2.12194440e-4f;   // ln 2 − kLn2Hi
inline constexpr float kMax = 88.3762626647949f;   // above: e^x overflows float
inline constexpr float kMin = -87.3365447505531f;  // below: e^x is no longer a normal float; 0
// e^r ≈ 1 + r + r²·(c[0]·r⁵ + c[1]·r⁴ + ... + c[5])
inline constexpr float kPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                   4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

}  // namespace lumen::llm::cpu::exp_poly
