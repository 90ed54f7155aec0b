// Binary, binary_scalar and where kernels against a naive per-element reference, on every
// loop shape the kernels specialise: same-shape contiguous, last-dim broadcast ([B, N] +
// [N]), leading broadcast, a transposed operand (general strided), a scalar operand, size-1
// and 0-d spaces, and spaces big enough to be split over threads mid-row.
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

using testing::coords_of;
using testing::make_layout;
using testing::numel;
using testing::offset_at;

template <class T>
double ref_op(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add:
      return double(a + b);
    case BinaryOp::Sub:
      return double(a - b);
    case BinaryOp::Mul:
      return double(a * b);
    case BinaryOp::Div:
      return double(a) / double(b);
    case BinaryOp::Pow:
      return std::pow(double(a), double(b));
    case BinaryOp::Maximum:
      return std::isnan(double(a)) || std::isnan(double(b)) ? NAN : double(std::max(a, b));
    case BinaryOp::Minimum:
      return std::isnan(double(a)) || std::isnan(double(b)) ? NAN : double(std::min(a, b));
    case BinaryOp::Eq:
      return a == b;
    case BinaryOp::Ne:
      return a != b;
    case BinaryOp::Lt:
      return a < b;
    case BinaryOp::Le:
      return a <= b;
    case BinaryOp::Gt:
      return a > b;
    case BinaryOp::Ge:
      return a >= b;
  }
  return 0;
}

struct Case {
  Layout a, b;
  int64_t a_elems, b_elems;  // storage sizes
};

std::vector<Case> cases() {
  return {
      {make_layout({5, 7}), make_layout({5, 7}), 35, 35},                   // same shape
      {make_layout({4, 6}), make_layout({4, 6}, {0, 1}), 24, 6},            // [B,N]+[N]
      {make_layout({4, 6}, {0, 1}), make_layout({4, 6}), 6, 24},            // [N]+[B,N]
      {make_layout({4, 6}), make_layout({4, 6}, {1, 0}), 24, 4},            // [B,N]+[B,1]
      {make_layout({4, 6}, {1, 4}), make_layout({4, 6}), 24, 24},           // a transposed
      {make_layout({3, 4, 5}), make_layout({3, 4, 5}, {0, 5, 1}), 60, 20},  // middle bcast
      {make_layout({3, 4, 5}, {1, 15, 3}), make_layout({3, 4, 5}, {20, 0, 1}), 60, 60},
      {make_layout({6, 5}), make_layout({6, 5}, {0, 0}), 30, 1},                   // scalar
      {make_layout({1, 9, 1}), make_layout({1, 9, 1}, {0, 1, 0}), 9, 9},           // size-1 dims
      {make_layout({}), make_layout({}), 1, 1},                                    // 0-d
      {make_layout({4, 6}, {12, 2}), make_layout({4, 6}, {0, 1}), 48, 6},          // a sliced
      {make_layout({300, 257}), make_layout({300, 257}, {0, 1}), 300 * 257, 257},  // threads
      {make_layout({257, 300}, {1, 257}), make_layout({257, 300}), 257 * 300, 257 * 300},
  };
}

template <class T>
void check_binary(BinaryOp op, DType dt, const Case& c, double lo, double hi) {
  std::vector<T> a = testing::random_vector<T>(static_cast<size_t>(c.a_elems), 1, lo, hi);
  std::vector<T> b = testing::random_vector<T>(static_cast<size_t>(c.b_elems), 2, lo, hi);
  if (c.a_elems > 3 && c.b_elems > 3) b[3] = a[3];  // give comparisons an equal pair
  const int64_t n = numel(c.a);
  const bool cmp = is_comparison(op);
  std::vector<T> out(static_cast<size_t>(n));
  std::vector<uint8_t> outb(static_cast<size_t>(n));  // bool output, byte-addressed
  cpu::cpu_backend.binary(op, dt, c.a, a.data(), c.b, b.data(),
                          cmp ? (void*)outb.data() : (void*)out.data());
  for (int64_t p = 0; p < n; ++p) {
    const auto co = coords_of(c.a, p);
    const double want = ref_op<T>(op, a[offset_at(c.a, co)], b[offset_at(c.b, co)]);
    const double got = cmp ? double(outb[p]) : double(out[p]);
    if (std::is_same_v<T, float> && !cmp) {
      ASSERT_NEAR(got, want, 1e-6 * (1 + std::fabs(want))) << "op " << int(op) << " p " << p;
    } else {
      ASSERT_EQ(got, want) << "op " << int(op) << " p " << p;
    }
  }
}

TEST(Binary, AllOpsAllPathsFloat64) {
  for (const Case& c : cases()) {
    for (int oi = 0; oi <= static_cast<int>(BinaryOp::Ge); ++oi) {
      const auto op = static_cast<BinaryOp>(oi);
      const bool positive = op == BinaryOp::Pow || op == BinaryOp::Div;
      check_binary<double>(op, kFloat64, c, positive ? 0.5 : -3.0, 3.0);
    }
  }
}

TEST(Binary, Float32) {
  for (const Case& c : cases()) {
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow,
                        BinaryOp::Maximum, BinaryOp::Lt, BinaryOp::Eq}) {
      check_binary<float>(op, kFloat32, c, 0.5, 3.0);
    }
  }
}

TEST(Binary, Int64) {
  for (const Case& c : cases()) {
    for (BinaryOp op :
         {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Maximum, BinaryOp::Minimum,
          BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Ge}) {
      check_binary<int64_t>(op, kInt64, c, -50.0, 50.0);
    }
  }
}

TEST(Binary, BoolComparisons) {
  const bool a[4] = {false, false, true, true};
  const bool b[4] = {false, true, false, true};
  bool out[4];
  const Layout l = make_layout({4});
  cpu::cpu_backend.binary(BinaryOp::Eq, kBool, l, a, l, b, out);
  EXPECT_EQ(std::vector<bool>(out, out + 4), (std::vector<bool>{true, false, false, true}));
  cpu::cpu_backend.binary(BinaryOp::Lt, kBool, l, a, l, b, out);
  EXPECT_EQ(std::vector<bool>(out, out + 4), (std::vector<bool>{false, true, false, false}));
}

TEST(Binary, MaximumMinimumPropagateNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double a[4] = {nan, 1.0, 2.0, nan};
  const double b[4] = {1.0, nan, 3.0, nan};
  double out[4];
  const Layout l = make_layout({4});
  for (BinaryOp op : {BinaryOp::Maximum, BinaryOp::Minimum}) {
    cpu::cpu_backend.binary(op, kFloat64, l, a, l, b, out);
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_TRUE(std::isnan(out[1]));
    EXPECT_EQ(out[2], op == BinaryOp::Maximum ? 3.0 : 2.0);
    EXPECT_TRUE(std::isnan(out[3]));
  }
}

TEST(Binary, ScalarBothOrders) {
  const int64_t n = 70000;  // crosses the parallel grain
  std::vector<double> x = testing::random_vector<double>(n, 3, 0.5, 2.0);
  std::vector<double> out(n);
  std::vector<uint8_t> outb(n);
  for (int oi = 0; oi <= static_cast<int>(BinaryOp::Ge); ++oi) {
    const auto op = static_cast<BinaryOp>(oi);
    for (bool first : {false, true}) {
      const double s = 1.25;
      void* o = is_comparison(op) ? (void*)outb.data() : (void*)out.data();
      cpu::cpu_backend.binary_scalar(op, kFloat64, x.data(), s, first, o, n);
      for (int64_t i = 0; i < n; i += 997) {
        const double want = first ? ref_op<double>(op, s, x[i]) : ref_op<double>(op, x[i], s);
        const double got = is_comparison(op) ? double(outb[i]) : out[i];
        ASSERT_EQ(got, want) << "op " << oi << " first " << first;
      }
    }
  }
  const std::vector<int64_t> xi = {-3, 0, 4};
  std::vector<int64_t> oi(3);
  cpu::cpu_backend.binary_scalar(BinaryOp::Sub, kInt64, xi.data(), 2.0, true, oi.data(), 3);
  EXPECT_EQ(oi, (std::vector<int64_t>{5, 2, -2}));
  float xf = 3.0f, of = 0;
  cpu::cpu_backend.binary_scalar(BinaryOp::Div, kFloat32, &xf, 2.0, false, &of, 1);
  EXPECT_EQ(of, 1.5f);
}

TEST(Binary, UnsupportedThrows) {
  const Layout l = make_layout({1});
  int64_t i = 1, o = 0;
  bool b = true, ob = false;
  EXPECT_THROW(cpu::cpu_backend.binary(BinaryOp::Div, kInt64, l, &i, l, &i, &o), DTypeError);
  EXPECT_THROW(cpu::cpu_backend.binary(BinaryOp::Pow, kInt64, l, &i, l, &i, &o), DTypeError);
  EXPECT_THROW(cpu::cpu_backend.binary(BinaryOp::Add, kBool, l, &b, l, &b, &ob), DTypeError);
  EXPECT_THROW(cpu::cpu_backend.binary_scalar(BinaryOp::Div, kInt64, &i, 2.0, false, &o, 1),
               DTypeError);
}

template <class T>
void check_where(DType dt, const Layout& cl, const Layout& al, const Layout& bl, int64_t ce,
                 int64_t ae, int64_t be) {
  std::vector<uint8_t> cbytes(static_cast<size_t>(ce));
  for (int64_t i = 0; i < ce; ++i) cbytes[i] = (i * 7 + 3) % 3 == 0;
  std::vector<T> a(static_cast<size_t>(ae)), b(static_cast<size_t>(be));
  for (int64_t i = 0; i < ae; ++i) a[i] = static_cast<T>(i % 5 + 1);
  for (int64_t i = 0; i < be; ++i) b[i] = static_cast<T>(-(i % 3));
  const int64_t n = numel(al);
  std::vector<T> out(static_cast<size_t>(n));
  cpu::cpu_backend.where(dt, cl, reinterpret_cast<const bool*>(cbytes.data()), al, a.data(), bl,
                         b.data(), out.data());
  for (int64_t p = 0; p < n; ++p) {
    const auto co = coords_of(al, p);
    const T want = cbytes[offset_at(cl, co)] ? a[offset_at(al, co)] : b[offset_at(bl, co)];
    ASSERT_EQ(out[p], want) << "p " << p;
  }
}

TEST(Where, AllPathsAndDtypes) {
  const Layout c = make_layout({6, 8});
  check_where<double>(kFloat64, c, c, c, 48, 48, 48);
  check_where<float>(kFloat32, c, c, c, 48, 48, 48);
  check_where<int64_t>(kInt64, c, c, c, 48, 48, 48);
  check_where<uint8_t>(kBool, c, c, c, 48, 48, 48);
  // Broadcast condition row, scalar b, transposed a.
  check_where<float>(kFloat32, make_layout({6, 8}, {0, 1}), make_layout({6, 8}, {1, 6}),
                     make_layout({6, 8}, {0, 0}), 8, 48, 1);
  // Large, broadcast along the last dim, split over threads.
  check_where<double>(kFloat64, make_layout({200, 301}), make_layout({200, 301}, {1, 0}),
                      make_layout({200, 301}, {0, 1}), 200 * 301, 200, 301);
}

}  // namespace
}  // namespace ember::kernels
