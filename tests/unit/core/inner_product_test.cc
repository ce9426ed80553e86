// Inner products: every instruction-set path this CPU has against a double-precision sum.
#include "core/inner_product.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lumen {
namespace {

TEST(InnerProductTest, MatchesADoublePrecisionSumForEveryLengthAndAlignment) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(400), b(400);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  for (std::size_t offset : {0, 1, 3}) {
    for (std::size_t n = 0; n <= 300; ++n) {
      double want = 0, scale = 0;
      for (std::size_t i = 0; i < n; ++i) {
        want += static_cast<double>(a[offset + i]) * b[offset + i];
        scale += std::abs(static_cast<double>(a[offset + i]) * b[offset + i]);
      }
      EXPECT_NEAR(InnerProduct(a.data() + offset, b.data() + offset, n), want, 1e-6 * scale + 1e-7)
          << "n " << n << " offset " << offset << " isa " << InnerProductIsa();
      for (const char* isa : {"scalar", "avx2", "avx512"}) {
        float got = 0;
        if (InnerProductWith(isa, a.data() + offset, b.data() + offset, n, &got)) {
          EXPECT_NEAR(got, want, 1e-6 * scale + 1e-7) << "n " << n << " isa " << isa;
        }
      }
    }
  }
  float unused = 0;
  EXPECT_TRUE(InnerProductWith("scalar", a.data(), b.data(), 4, &unused)) << "always there";
  EXPECT_FALSE(InnerProductWith("neon", a.data(), b.data(), 4, &unused));
  std::vector<float> out(7);
  InnerProducts(a.data(), b.data(), 50, out.size(), out.data());
  for (std::size_t j = 0; j < out.size(); ++j)
    EXPECT_EQ(out[j], InnerProduct(a.data(), b.data() + j * 50, 50));
}

}  // namespace
}  // namespace lumen
