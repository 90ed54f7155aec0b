// Reductions against naive loops over (outer, r, inner) shapes covering inner == 1 rows,
// inner > 1 column accumulation (incl. more columns than one tile), r == 1, r == 0, and a
// long r that takes the chunked, parallel path; plus reduce_with_index ties and NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/backend.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

struct Shape {
  int64_t outer, r, inner;
};

const std::vector<Shape> kShapes = {
    {1, 1, 1},   {1, 10, 1},  {7, 13, 1},     {3, 1, 5},     {1, 6, 4},      {2, 5, 3},
    {4, 9, 300}, {64, 33, 1}, {1, 200000, 1}, {2, 3, 40000}, {1, 140000, 2}, {3, 1, 1},
};

double naive(ReduceOp op, const std::vector<double>& x, const Shape& s, int64_t o, int64_t i) {
  double acc = op == ReduceOp::Prod  ? 1.0
               : op == ReduceOp::Max ? -INFINITY
               : op == ReduceOp::Min ? INFINITY
                                     : 0.0;
  for (int64_t j = 0; j < s.r; ++j) {
    const double v = x[(o * s.r + j) * s.inner + i];
    switch (op) {
      case ReduceOp::Sum:
      case ReduceOp::Mean:
        acc += v;
        break;
      case ReduceOp::Prod:
        acc *= v;
        break;
      case ReduceOp::Max:
        acc = std::max(acc, v);
        break;
      case ReduceOp::Min:
        acc = std::min(acc, v);
        break;
    }
  }
  return op == ReduceOp::Mean ? acc / double(s.r) : acc;
}

TEST(Reduce, AllOpsAllShapes) {
  for (const Shape& s : kShapes) {
    const int64_t n = s.outer * s.r * s.inner;
    // Values near 1 keep long products finite and meaningful.
    const std::vector<double> xd = testing::random_vector<double>(n, 11, 0.999, 1.001);
    const std::vector<float> xf(xd.begin(), xd.end());
    const std::vector<double> xr(xf.begin(), xf.end());
    for (ReduceOp op :
         {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min}) {
      std::vector<double> od(s.outer * s.inner);
      std::vector<float> of(s.outer * s.inner);
      cpu::cpu_backend.reduce(op, kFloat64, xd.data(), od.data(), s.outer, s.r, s.inner);
      cpu::cpu_backend.reduce(op, kFloat32, xf.data(), of.data(), s.outer, s.r, s.inner);
      for (int64_t o = 0; o < s.outer; ++o) {
        for (int64_t i = 0; i < s.inner; ++i) {
          const double want = naive(op, xd, s, o, i);
          const double wantf = naive(op, xr, s, o, i);
          ASSERT_NEAR(od[o * s.inner + i], want, 1e-12 * (1 + std::fabs(want)))
              << "op " << int(op) << " shape " << s.outer << "," << s.r << "," << s.inner;
          // float32 accumulates in double: only the final rounding to float remains.
          ASSERT_NEAR(of[o * s.inner + i], wantf, 1e-7 * (1 + std::fabs(wantf)))
              << "f32 op " << int(op) << " shape " << s.outer << "," << s.r << "," << s.inner;
        }
      }
    }
  }
}

// A float32 sum whose float accumulation would visibly drift: 1e6 copies of 0.1f.
TEST(Reduce, Float32SumAccumulatesInDouble) {
  const int64_t n = 1000000;
  const std::vector<float> x(n, 0.1f);
  float out = 0;
  cpu::cpu_backend.reduce(ReduceOp::Sum, kFloat32, x.data(), &out, 1, n, 1);
  EXPECT_EQ(out, static_cast<float>(double(0.1f) * n));
}

TEST(Reduce, EmptyReduction) {
  double out[2] = {7, 7};
  cpu::cpu_backend.reduce(ReduceOp::Sum, kFloat64, nullptr, out, 2, 0, 1);
  EXPECT_EQ(out[0], 0.0);
  cpu::cpu_backend.reduce(ReduceOp::Prod, kFloat64, nullptr, out, 2, 0, 1);
  EXPECT_EQ(out[1], 1.0);
  cpu::cpu_backend.reduce(ReduceOp::Mean, kFloat64, nullptr, out, 1, 0, 2);
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(Reduce, MaxMinPropagateNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> x = {1, nan, 3, 4, 5, 6};  // (1, 3, 2) and (1, 6, 1)
  double out[2];
  cpu::cpu_backend.reduce(ReduceOp::Max, kFloat64, x.data(), out, 1, 6, 1);
  EXPECT_TRUE(std::isnan(out[0]));
  cpu::cpu_backend.reduce(ReduceOp::Min, kFloat64, x.data(), out, 1, 3, 2);
  EXPECT_EQ(out[0], 1.0);
  EXPECT_TRUE(std::isnan(out[1]));
}

// A row of nothing but -inf has max -inf at index 0, whatever a vectorised reduction starts
// its lanes at (OpenMP lets clang start them at the lowest finite value).
TEST(Reduce, MaxMinOfInfiniteRows) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t r : {1, 7, 100, 200000}) {
    const std::vector<float> lows(static_cast<size_t>(r), -inf), highs(static_cast<size_t>(r), inf);
    float v = 0;
    int64_t idx = -1;
    cpu::cpu_backend.reduce(ReduceOp::Max, kFloat32, lows.data(), &v, 1, r, 1);
    EXPECT_EQ(v, -inf) << r;
    cpu::cpu_backend.reduce(ReduceOp::Min, kFloat32, highs.data(), &v, 1, r, 1);
    EXPECT_EQ(v, inf) << r;
    cpu::cpu_backend.reduce_with_index(ReduceOp::Max, kFloat32, lows.data(), &v, &idx, 1, r, 1);
    EXPECT_EQ(v, -inf) << r;
    EXPECT_EQ(idx, 0) << r;
    cpu::cpu_backend.reduce_with_index(ReduceOp::Min, kFloat32, highs.data(), &v, &idx, 1, r, 1);
    EXPECT_EQ(v, inf) << r;
    EXPECT_EQ(idx, 0) << r;
  }
  // The lowest finite value itself is still the max of a row that holds it.
  const std::vector<float> mixed = {-inf, std::numeric_limits<float>::lowest(), -inf};
  float v = 0;
  int64_t idx = -1;
  cpu::cpu_backend.reduce_with_index(ReduceOp::Max, kFloat32, mixed.data(), &v, &idx, 1, 3, 1);
  EXPECT_EQ(v, std::numeric_limits<float>::lowest());
  EXPECT_EQ(idx, 1);
}

TEST(Reduce, Int64) {
  const std::vector<int64_t> x = {3, -1, 4, 1, -5, 9};  // (2, 3, 1)
  int64_t out[2];
  cpu::cpu_backend.reduce(ReduceOp::Sum, kInt64, x.data(), out, 2, 3, 1);
  EXPECT_EQ(out[0], 6);
  EXPECT_EQ(out[1], 5);
  cpu::cpu_backend.reduce(ReduceOp::Max, kInt64, x.data(), out, 1, 3,
                          2);  // columns {3,4,-5}, {-1,1,9}
  EXPECT_EQ(out[0], 4);
  EXPECT_EQ(out[1], 9);
  cpu::cpu_backend.reduce(ReduceOp::Prod, kInt64, x.data(), out, 2, 3, 1);
  EXPECT_EQ(out[0], -12);
  EXPECT_EQ(out[1], -45);
  EXPECT_THROW(cpu::cpu_backend.reduce(ReduceOp::Mean, kInt64, x.data(), out, 2, 3, 1), DTypeError);
  bool b[2] = {true, false};
  EXPECT_THROW(cpu::cpu_backend.reduce(ReduceOp::Sum, kBool, b, out, 1, 2, 1), DTypeError);
}

// Naive argmax/argmin: first index of the extreme, or of the first NaN.
template <class T>
void naive_index(bool mx, const std::vector<T>& x, const Shape& s, int64_t o, int64_t i, T* val,
                 int64_t* idx) {
  int64_t best = 0;
  for (int64_t j = 0; j < s.r; ++j) {
    const T v = x[(o * s.r + j) * s.inner + i];
    const T b = x[(o * s.r + best) * s.inner + i];
    if (std::isnan(double(v))) {
      best = j;
      break;
    }
    if (mx ? v > b : v < b) best = j;
  }
  *idx = best;
  *val = x[(o * s.r + best) * s.inner + i];
}

TEST(ReduceWithIndex, MatchesNaiveWithTiesAndNaN) {
  for (const Shape& s : kShapes) {
    const int64_t n = s.outer * s.r * s.inner;
    std::vector<double> x(n);
    // Few distinct values: plenty of ties.
    for (int64_t k = 0; k < n; ++k) x[k] = double((k * 7919) % 5);
    if (n > 40) x[n / 3] = NAN;
    if (n > 40) x[n / 2] = NAN;
    for (bool mx : {true, false}) {
      std::vector<double> vals(s.outer * s.inner);
      std::vector<int64_t> idx(s.outer * s.inner);
      cpu::cpu_backend.reduce_with_index(mx ? ReduceOp::Max : ReduceOp::Min, kFloat64, x.data(),
                                         vals.data(), idx.data(), s.outer, s.r, s.inner);
      for (int64_t o = 0; o < s.outer; ++o) {
        for (int64_t i = 0; i < s.inner; ++i) {
          double v;
          int64_t j;
          naive_index(mx, x, s, o, i, &v, &j);
          ASSERT_EQ(idx[o * s.inner + i], j) << s.outer << "," << s.r << "," << s.inner;
          if (std::isnan(v)) {
            ASSERT_TRUE(std::isnan(vals[o * s.inner + i]));
          } else {
            ASSERT_EQ(vals[o * s.inner + i], v);
          }
        }
      }
    }
  }
}

TEST(ReduceWithIndex, FirstOnTiesNaNWinsNullValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {2, 5, 5, 1, 1, 5};
  int64_t idx;
  cpu::cpu_backend.reduce_with_index(ReduceOp::Max, kFloat32, x.data(), nullptr, &idx, 1, 6, 1);
  EXPECT_EQ(idx, 1);
  cpu::cpu_backend.reduce_with_index(ReduceOp::Min, kFloat32, x.data(), nullptr, &idx, 1, 6, 1);
  EXPECT_EQ(idx, 3);
  const std::vector<float> y = {2, nan, 7, nan};
  float v;
  cpu::cpu_backend.reduce_with_index(ReduceOp::Max, kFloat32, y.data(), &v, &idx, 1, 4, 1);
  EXPECT_EQ(idx, 1);
  EXPECT_TRUE(std::isnan(v));
  cpu::cpu_backend.reduce_with_index(ReduceOp::Min, kFloat32, y.data(), &v, &idx, 1, 4, 1);
  EXPECT_EQ(idx, 1);
  // Columns: (1, 4, 1) read as (1, 2, 2): column 0 = {2, 7}, column 1 = {nan, nan}.
  int64_t idx2[2];
  cpu::cpu_backend.reduce_with_index(ReduceOp::Max, kFloat32, y.data(), nullptr, idx2, 1, 2, 2);
  EXPECT_EQ(idx2[0], 1);
  EXPECT_EQ(idx2[1], 0);
  const std::vector<int64_t> xi = {4, 9, 9, -3};
  int64_t vi;
  cpu::cpu_backend.reduce_with_index(ReduceOp::Max, kInt64, xi.data(), &vi, &idx, 1, 4, 1);
  EXPECT_EQ(vi, 9);
  EXPECT_EQ(idx, 1);
  EXPECT_THROW(
      cpu::cpu_backend.reduce_with_index(ReduceOp::Sum, kFloat32, x.data(), nullptr, &idx, 1, 6, 1),
      DTypeError);
}

}  // namespace
}  // namespace ember::kernels
