// Philox against the Random123 known-answer vectors, the bit -> number helpers at their
// extremes, and the CPU random fills: the element -> (counter, lane) scheme, reproducibility
// for one (seed, offset), distribution moments over 1e5 draws, and ranges.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/philox.h>
#include <ember/kernels/cpu/backend.h>

namespace ember::kernels {
namespace {

void expect_block(const Philox4& got, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  EXPECT_EQ(got.v[0], a);
  EXPECT_EQ(got.v[1], b);
  EXPECT_EQ(got.v[2], c);
  EXPECT_EQ(got.v[3], d);
}

TEST(Philox, KnownAnswerVectors) {
  // Random123's kat_vectors for philox4x32_10; counter words and key words in order.
  expect_block(philox4x32_10(Philox4{{0, 0, 0, 0}}, 0, 0), 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu,
               0x9b00dbd8u);
  expect_block(philox4x32_10(Philox4{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
                             0xffffffffu, 0xffffffffu),
               0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu);
  expect_block(philox4x32_10(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
                             0xa4093822u, 0x299f31d0u),
               0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u);
}

// ember's packing: counter -> {lo, hi, word2, 0}, seed -> {lo, hi}.
TEST(Philox, PackingOfCounterAndSeed) {
  const uint64_t c = 0x0123456789abcdefull, s = 0xfedcba9876543210ull;
  const Philox4 a = philox4x32(c, s);
  const Philox4 b =
      philox4x32_10(Philox4{{0x89abcdefu, 0x01234567u, 0, 0}}, 0x76543210u, 0xfedcba98u);
  for (int l = 0; l < 4; ++l) EXPECT_EQ(a.v[l], b.v[l]);
  const Philox4 a1 = philox4x32(c, s, 1);
  const Philox4 b1 =
      philox4x32_10(Philox4{{0x89abcdefu, 0x01234567u, 1, 0}}, 0x76543210u, 0xfedcba98u);
  for (int l = 0; l < 4; ++l) EXPECT_EQ(a1.v[l], b1.v[l]);
  expect_block(philox4x32(0, 0), 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u);
}

TEST(Philox, BitsToNumbers) {
  EXPECT_EQ(uniform_float(0), 0.0f);
  EXPECT_LT(uniform_float(0xffffffffu), 1.0f);
  EXPECT_EQ(uniform_float(0xffffffffu), 1.0f - 1.0f / 16777216.0f);
  EXPECT_EQ(uniform_float(0x80000000u), 0.5f);
  EXPECT_EQ(uniform_double(0, 0), 0.0);
  EXPECT_LT(uniform_double(0xffffffffu, 0xffffffffu), 1.0);
  EXPECT_EQ(uniform_double(0xffffffffu, 0xffffffffu), 1.0 - std::ldexp(1.0, -53));
  EXPECT_EQ(uniform_double(0x80000000u, 0), 0.5);
  // Folding keeps the interval half-open where low + u * range rounds up to high.
  EXPECT_EQ(scale_uniform(uniform_float(0xffffffffu), 1.0f, 2.0f), 1.0f);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = rng(), r = i % 2 ? rng() : rng() >> 40;
    const auto want = static_cast<uint64_t>((static_cast<unsigned __int128>(x) * r) >> 64);
    ASSERT_EQ(mulhi64(x, r), want);
  }
  EXPECT_EQ(mulhi64(~0ull, ~0ull), ~0ull - 1);
}

TEST(Random, UniformFollowsTheCounterScheme) {
  const uint64_t seed = 1234, offset = 40;
  const int64_t n = 1003;  // not a multiple of 4: the tail block is partly used
  std::vector<float> f(n);
  std::vector<double> d(n);
  cpu::cpu_backend.uniform(kFloat32, f.data(), n, seed, offset, -2.0, 3.0);
  cpu::cpu_backend.uniform(kFloat64, d.data(), n, seed, offset, 0.0, 1.0);
  for (int64_t i = 0; i < n; ++i) {
    const Philox4 hi = philox4x32(offset + i / 4, seed, 0);
    const Philox4 lo = philox4x32(offset + i / 4, seed, 1);
    const float u = static_cast<float>(hi.v[i % 4] >> 8) * 0x1p-24f;
    ASSERT_EQ(f[i], -2.0f + u * 5.0f) << i;
    const uint64_t bits = (uint64_t(hi.v[i % 4]) << 32) | lo.v[i % 4];
    ASSERT_EQ(d[i], double(bits >> 11) * 0x1p-53) << i;
  }
}

TEST(Random, ReproducibleAndOffsetShiftsTheStream) {
  const int64_t n = 100000;  // several parallel chunks
  std::vector<float> a(n), b(n), c(n);
  cpu::cpu_backend.uniform(kFloat32, a.data(), n, 7, 0, 0.0, 1.0);
  cpu::cpu_backend.uniform(kFloat32, b.data(), n, 7, 0, 0.0, 1.0);
  EXPECT_EQ(a, b);
  // One counter further is four elements further.
  cpu::cpu_backend.uniform(kFloat32, c.data(), n, 7, 1, 0.0, 1.0);
  EXPECT_NE(a, c);
  for (int64_t i = 0; i + 4 < n; ++i) ASSERT_EQ(c[i], a[i + 4]);
  // Another seed: a different stream.
  cpu::cpu_backend.uniform(kFloat32, c.data(), n, 8, 0, 0.0, 1.0);
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) same += a[i] == c[i];
  EXPECT_LT(same, 100);
  std::vector<double> na(n), nb(n);
  cpu::cpu_backend.normal(kFloat64, na.data(), n, 9, 5, 0.0, 1.0);
  cpu::cpu_backend.normal(kFloat64, nb.data(), n, 9, 5, 0.0, 1.0);
  EXPECT_EQ(na, nb);
  cpu::cpu_backend.normal(kFloat64, nb.data(), n, 9, 6, 0.0, 1.0);
  EXPECT_NE(na, nb);
}

template <class T>
void moments(const std::vector<T>& v, double* mean, double* stddev) {
  double s = 0, s2 = 0;
  for (T x : v) s += double(x);
  *mean = s / double(v.size());
  for (T x : v) s2 += (double(x) - *mean) * (double(x) - *mean);
  *stddev = std::sqrt(s2 / double(v.size() - 1));
}

TEST(Random, UniformRangeAndMoments) {
  const int64_t n = 100000;
  std::vector<float> f(n);
  std::vector<double> d(n);
  cpu::cpu_backend.uniform(kFloat32, f.data(), n, 42, 0, 0.0, 1.0);
  cpu::cpu_backend.uniform(kFloat64, d.data(), n, 42, 0, -3.0, 5.0);
  double m, s;
  moments(f, &m, &s);
  EXPECT_NEAR(m, 0.5, 0.005);  // sd of the mean: 0.29 / sqrt(1e5) = 0.0009
  EXPECT_NEAR(s, std::sqrt(1.0 / 12.0), 0.005);
  for (float x : f) ASSERT_TRUE(x >= 0.0f && x < 1.0f);
  moments(d, &m, &s);
  EXPECT_NEAR(m, 1.0, 0.04);
  EXPECT_NEAR(s, 8.0 / std::sqrt(12.0), 0.04);
  for (double x : d) ASSERT_TRUE(x >= -3.0 && x < 5.0);
}

TEST(Random, NormalMoments) {
  const int64_t n = 100000;
  std::vector<float> f(n);
  std::vector<double> d(n);
  cpu::cpu_backend.normal(kFloat32, f.data(), n, 3, 0, 0.0, 1.0);
  cpu::cpu_backend.normal(kFloat64, d.data(), n, 3, 0, 2.0, 0.5);
  double m, s;
  moments(f, &m, &s);
  EXPECT_NEAR(m, 0.0, 0.015);  // sd of the mean: 0.003
  EXPECT_NEAR(s, 1.0, 0.015);
  moments(d, &m, &s);
  EXPECT_NEAR(m, 2.0, 0.008);
  EXPECT_NEAR(s, 0.5, 0.008);
  // Tails exist but are sane: about 0.27% beyond 3 sigma.
  int64_t beyond3 = 0;
  for (float x : f) {
    ASSERT_TRUE(std::isfinite(x));
    beyond3 += std::fabs(x) > 3.0f;
  }
  EXPECT_GT(beyond3, 150);
  EXPECT_LT(beyond3, 400);
}

TEST(Random, RandintRange) {
  const int64_t n = 100000;
  std::vector<int64_t> v(n);
  cpu::cpu_backend.randint(v.data(), n, 5, 0, -3, 4);
  std::vector<int64_t> counts(7, 0);
  for (int64_t x : v) {
    ASSERT_GE(x, -3);
    ASSERT_LT(x, 4);
    ++counts[x + 3];
  }
  for (int64_t c : counts) EXPECT_NEAR(double(c), n / 7.0, 600.0);  // ~5 sigma
  // Full int64 span: no overflow in the range computation.
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  cpu::cpu_backend.randint(v.data(), 1000, 5, 0, lo, hi);
  std::set<int64_t> distinct(v.begin(), v.begin() + 1000);
  EXPECT_GT(distinct.size(), 990u);
  int64_t negatives = 0;
  for (int64_t i = 0; i < 1000; ++i) negatives += v[i] < 0;
  EXPECT_GT(negatives, 400);
  EXPECT_LT(negatives, 600);
  std::vector<int64_t> one(10);
  cpu::cpu_backend.randint(one.data(), 10, 5, 0, 9, 10);
  for (int64_t x : one) EXPECT_EQ(x, 9);
  EXPECT_THROW(cpu::cpu_backend.randint(one.data(), 10, 5, 0, 3, 3), ValueError);
  bool b[4];
  EXPECT_THROW(cpu::cpu_backend.uniform(kBool, b, 4, 1, 0, 0, 1), DTypeError);
}

}  // namespace
}  // namespace ember::kernels
