// Shapes and scalars from users or files whose arithmetic passes int64: each is an ember::Error
// naming the shape or value, never a wrapped count (a buffer smaller than the shape claims) or
// an undefined float -> int64 conversion. The limits are hand-computed powers of two.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <ember/ember.h>

#include "expect_error.h"

using namespace ember;
using ember_test::expect_error;

namespace {

constexpr int64_t k2e40 = int64_t{1} << 40;
constexpr int64_t k2e62 = int64_t{1} << 62;

}  // namespace

TEST(ShapeArithmetic, NumelCountsZeroDimsAndRefusesOverflow) {
  EXPECT_EQ(Shape({k2e40, k2e40, 0}).numel(), 0);  // overflows before the zero: still 0
  EXPECT_EQ(Shape({0, k2e40, k2e40}).numel(), 0);
  EXPECT_EQ(Shape({k2e62, 1}).numel(), k2e62);
  expect_error<ShapeError>([] { (void)Shape({k2e40, k2e40}).numel(); }, {"[1099511627776, "});
  // Wraps to exactly 4 in uint64: a check by comparison alone would pass it.
  expect_error<ShapeError>([] { (void)Shape({k2e62 + 1, 4}).numel(); }, {"int64"});
}

TEST(ShapeArithmetic, StridesAndBytesAreChecked) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), Shape({12, 4, 1}));
  EXPECT_EQ(contiguous_strides({k2e62, 1}), Shape({1, 1}));
  // No elements, but the first stride would be 2^80.
  expect_error<ShapeError>(
      [] {
        contiguous_strides({0, k2e40, k2e40});
      },
      {"[0, 1099511627776, 1099511627776]", "strides"});
  EXPECT_EQ(shape_problem({2, 3}, 8), "");
  EXPECT_NE(shape_problem({2, -3}, 8).find("negative size -3"), std::string::npos);
  EXPECT_NE(shape_problem({0, k2e40, k2e40}, 4).find("strides"), std::string::npos);
  EXPECT_NE(shape_problem({k2e62 + 1, 4}, 1).find("elements"), std::string::npos);
  // 2^62 elements fit; 2^62 * 4 bytes do not.
  EXPECT_NE(shape_problem({k2e62}, 4).find("bytes"), std::string::npos);
  EXPECT_EQ(shape_problem({k2e62}, 1), "");
}

TEST(ShapeArithmetic, FactoriesRefuseShapesPastInt64) {
  expect_error<ShapeError>([] { empty({k2e62 + 1, 4}); }, {"[4611686018427387905, 4]"});
  expect_error<ShapeError>([] { zeros({k2e40, k2e40}); }, {"int64"});
  expect_error<ShapeError>([] { empty({k2e62}); }, {"bytes"});  // 2^62 floats = 2^64 bytes
  expect_error<ShapeError>([] { ones({0, k2e40, k2e40}); }, {"strides"});
  expect_error<ShapeError>([] { full({k2e62, 4}, 1.0); }, {"int64"});
  // A legal empty shape still works.
  EXPECT_EQ(empty({0, 5}).numel(), 0);
}

TEST(ShapeArithmetic, FromBlobChecksTheExtent) {
  float x[4] = {1, 2, 3, 4};
  expect_error<ShapeError>([&] { from_blob(x, {k2e62 + 1, 4}, kFloat32); }, {"int64"});
  expect_error<ShapeError>(
      [&] {
        from_blob(x, {2, 2}, {k2e62, 1}, kFloat32);
      },
      {"from_blob", "strides"});
  EXPECT_EQ(from_blob(x, {2, 2}, kFloat32).sum().item<float>(), 10.0f);
}

TEST(ShapeArithmetic, ViewsRefuseWrappedShapes) {
  Tensor t = ones({4});
  // (2^62 + 1) * 4 wraps to 4: the view must not see a 4-element shape.
  expect_error<ShapeError>([&] { t.view({k2e62 + 1, 4}); }, {"view", "int64"});
  expect_error<ShapeError>([&] { t.reshape({k2e62 + 1, 4}); }, {"reshape", "int64"});
  expect_error<ShapeError>([&] { t.reshape({k2e40, k2e40, -1}); }, {"reshape", "int64"});
  expect_error<ShapeError>([] { ones({1, 1}).expand({k2e40, k2e40}); }, {"expand", "int64"});
  EXPECT_EQ(t.view({2, -1}).sizes(), Shape({2, 2}));
  EXPECT_EQ(ones({1, 3}).expand({k2e40, 3}).size(0), k2e40);  // a large broadcast view is fine
}

TEST(ShapeArithmetic, ArangeRangeChecksItsLength) {
  expect_error<ShapeError>([] { arange(0, 1e30, 1, kFloat32); }, {"arange", "int64"});
  expect_error<ShapeError>([] { arange(-1e308, 1e308, 1e-300, kFloat64); }, {"arange"});
  expect_error<ValueError>([] { arange(0, 1, std::nan(""), kFloat32); }, {"arange"});
  expect_error<ValueError>([] { arange(1e19, 1e19 + 1e5, 1e4, kInt64); }, {"arange", "int64"});
  EXPECT_EQ(arange(0, 1e6, 2.5e5, kFloat32).numel(), 4);
}

TEST(ShapeArithmetic, IntegerScalarsAreRangeChecked) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  expect_error<ValueError>([&] { full({2}, nan, kInt64); }, {"full", "nan"});
  expect_error<ValueError>([&] { full({2}, 1e19, kInt64); }, {"full", "1e+19", "int64"});
  expect_error<ValueError>([&] { full({2}, -inf, kInt64); }, {"full", "inf"});
  expect_error<ValueError>(
      [&] {
        Tensor i = zeros({2}, kInt64);
        i.fill_(0x1p63);
      },
      {"fill_", "int64"});
  expect_error<ValueError>(
      [&] {
        Tensor i = zeros({2}, kInt64);
        i.add_(1e30);
      },
      {"add_", "int64"});
  expect_error<ValueError>([&] { arange(3) * 1e20; }, {"int64"});
  expect_error<ValueError>([&] { masked_fill(arange(3), ones({3}, kBool), 1e20); },
                           {"masked_fill", "int64"});
  // -2^63 is the one power of two int64 holds exactly.
  EXPECT_EQ(full({1}, -0x1p63, kInt64).item<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(std::isnan(full({1}, nan, kFloat32).item<float>()));  // floats take NaN
  EXPECT_TRUE(full({1}, nan, kBool).item<bool>());                  // NaN != 0
}

TEST(ShapeArithmetic, FloatToInt64ConversionIsDefinedForEveryValue) {
  // What a GPU's cvt.rzi.s64 gives: truncation, saturation, NaN -> 0.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = from_vector<double>({nan, inf, -inf, 1e30, -1e30, 2.9, -2.9, 0x1p62});
  const std::vector<int64_t> got = x.to(kInt64).to_vector<int64_t>();
  const int64_t max = std::numeric_limits<int64_t>::max(),
                min = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(got, (std::vector<int64_t>{0, max, min, max, min, 2, -2, k2e62}));
  const std::vector<int64_t> from_float =
      from_vector<float>({std::nanf(""), 3e19f, -3e19f, -7.5f}).to(kInt64).to_vector<int64_t>();
  EXPECT_EQ(from_float, (std::vector<int64_t>{0, max, min, -7}));
}
