// Unary kernels: forward values at hand-picked points, every derivative against central
// finite differences in double, the kink conventions PyTorch fixes (relu'(0) = 0, ...),
// float32 against float64 on a tensor large enough to take the parallel path, and int64.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/backend.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

double fwd(UnaryOp op, double x, UnaryParams p = {}) {
  double y = 0;
  cpu::cpu_backend.unary(op, kFloat64, &x, &y, 1, p);
  return y;
}

double bwd(UnaryOp op, double x, double gy, UnaryParams p = {}) {
  double y = fwd(op, x, p), gx = 0;
  cpu::cpu_backend.unary_backward(op, kFloat64, &x, &y, &gy, &gx, 1, p);
  return gx;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Unary, ForwardValues) {
  EXPECT_EQ(fwd(UnaryOp::Neg, 2.0), -2.0);
  EXPECT_EQ(fwd(UnaryOp::Abs, -3.0), 3.0);
  EXPECT_EQ(fwd(UnaryOp::Sign, -2.5), -1.0);
  EXPECT_EQ(fwd(UnaryOp::Sign, 0.0), 0.0);
  EXPECT_EQ(fwd(UnaryOp::Sign, 4.0), 1.0);
  EXPECT_TRUE(std::isnan(fwd(UnaryOp::Sign, kNaN)));
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Exp, 1.0), 2.718281828459045);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Log, 2.718281828459045), 1.0);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Log2, 8.0), 3.0);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Log10, 1000.0), 3.0);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Sqrt, 4.0), 2.0);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Rsqrt, 4.0), 0.5);
  EXPECT_EQ(fwd(UnaryOp::Floor, -1.5), -2.0);
  EXPECT_EQ(fwd(UnaryOp::Ceil, -1.5), -1.0);
  EXPECT_EQ(fwd(UnaryOp::Trunc, -1.7), -1.0);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Frac, -1.75), -0.75);
  // Round half to even, keeping the sign of zero.
  EXPECT_EQ(fwd(UnaryOp::Round, 2.5), 2.0);
  EXPECT_EQ(fwd(UnaryOp::Round, 3.5), 4.0);
  EXPECT_EQ(fwd(UnaryOp::Round, 1.5), 2.0);
  EXPECT_EQ(fwd(UnaryOp::Round, -2.5), -2.0);
  EXPECT_EQ(fwd(UnaryOp::Round, 2.6), 3.0);
  const double rz = fwd(UnaryOp::Round, -0.5);
  EXPECT_EQ(rz, 0.0);
  EXPECT_TRUE(std::signbit(rz));
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::PowScalar, 2.0, {3.0, 0}), 8.0);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::PowScalar, 9.0, {0.5, 0}), 3.0);
  EXPECT_EQ(fwd(UnaryOp::Clamp, 5.0, {0.0, 1.0}), 1.0);
  EXPECT_EQ(fwd(UnaryOp::Clamp, -5.0, {0.0, 1.0}), 0.0);
  EXPECT_EQ(fwd(UnaryOp::Clamp, 0.25, {0.0, 1.0}), 0.25);
  EXPECT_EQ(fwd(UnaryOp::Clamp, -100.0, {-kInf, 1.0}), -100.0);  // -inf disables the side
  EXPECT_EQ(fwd(UnaryOp::Clamp, 100.0, {0.0, kInf}), 100.0);
  EXPECT_TRUE(std::isnan(fwd(UnaryOp::Clamp, kNaN, {0.0, 1.0})));
  EXPECT_EQ(fwd(UnaryOp::Relu, -1.0), 0.0);
  EXPECT_EQ(fwd(UnaryOp::Relu, 2.0), 2.0);
  EXPECT_TRUE(std::isnan(fwd(UnaryOp::Relu, kNaN)));
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Sigmoid, 0.0), 0.5);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Sigmoid, 2.0), 1.0 / (1.0 + std::exp(-2.0)));
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Tanh, 0.5), 0.46211715726000974);
  const UnaryParams sp{1.0, 20.0};
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Softplus, 0.0, sp), std::log(2.0));
  EXPECT_EQ(fwd(UnaryOp::Softplus, 30.0, sp), 30.0);  // linear above the threshold
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Softplus, 1.0, {2.0, 20.0}), std::log1p(std::exp(2.0)) / 2.0);
  EXPECT_NEAR(fwd(UnaryOp::Softplus, -50.0, sp), std::exp(-50.0), 1e-30);
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Softplus, 800.0, {1.0, 1000.0}), 800.0);  // no overflow
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::LeakyRelu, -2.0, {0.01, 0}), -0.02);
  EXPECT_EQ(fwd(UnaryOp::LeakyRelu, 3.0, {0.01, 0}), 3.0);
  EXPECT_TRUE(std::isnan(fwd(UnaryOp::LeakyRelu, kNaN, {0.01, 0})));
  EXPECT_DOUBLE_EQ(fwd(UnaryOp::Elu, -1.0, {1.0, 0}), std::exp(-1.0) - 1.0);
  EXPECT_EQ(fwd(UnaryOp::Elu, 2.0, {1.0, 0}), 2.0);
  EXPECT_NEAR(fwd(UnaryOp::Gelu, 1.0, {0, 0}), 0.8413447460685429, 1e-15);
  EXPECT_NEAR(fwd(UnaryOp::Gelu, -1.0, {0, 0}), -0.15865525393145707, 1e-15);
  EXPECT_NEAR(fwd(UnaryOp::Gelu, 1.0, {1, 0}), 0.8411919906082768, 1e-15);
}

struct FdCase {
  UnaryOp op;
  UnaryParams p;
  std::vector<double> xs;  // away from kinks and domain edges
};

TEST(Unary, BackwardMatchesFiniteDifferences) {
  const std::vector<double> any = {-2.3, -0.7, -0.1, 0.2, 0.9, 1.6};
  const std::vector<double> pos = {0.15, 0.6, 1.3, 2.7};
  const std::vector<FdCase> cases = {
      {UnaryOp::Neg, {}, any},
      {UnaryOp::Abs, {}, any},
      {UnaryOp::Sign, {}, any},
      {UnaryOp::Exp, {}, any},
      {UnaryOp::Log, {}, pos},
      {UnaryOp::Log2, {}, pos},
      {UnaryOp::Log10, {}, pos},
      {UnaryOp::Sqrt, {}, pos},
      {UnaryOp::Rsqrt, {}, pos},
      {UnaryOp::Floor, {}, {-2.3, -0.7, 0.2, 1.6}},
      {UnaryOp::Ceil, {}, {-2.3, -0.7, 0.2, 1.6}},
      {UnaryOp::Round, {}, {-2.3, -0.7, 0.2, 1.6}},
      {UnaryOp::Trunc, {}, {-2.3, -0.7, 0.2, 1.6}},
      {UnaryOp::Frac, {}, {-2.3, -0.7, 0.2, 1.6}},
      {UnaryOp::PowScalar, {3.0, 0}, any},
      {UnaryOp::PowScalar, {-1.5, 0}, pos},
      {UnaryOp::PowScalar, {0.5, 0}, pos},
      {UnaryOp::Clamp, {-1.0, 1.0}, any},
      {UnaryOp::Relu, {}, any},
      {UnaryOp::Sigmoid, {}, any},
      {UnaryOp::Tanh, {}, any},
      {UnaryOp::Softplus, {1.0, 20.0}, any},
      {UnaryOp::Softplus, {2.5, 3.0}, {-1.0, 0.3, 1.0, 2.0}},  // 2.0 is in the linear part
      {UnaryOp::LeakyRelu, {0.1, 0}, any},
      {UnaryOp::Elu, {1.3, 0}, any},
      {UnaryOp::Gelu, {0, 0}, any},
      {UnaryOp::Gelu, {1, 0}, any},
  };
  const double h = 1e-6;
  for (const FdCase& c : cases) {
    for (double x : c.xs) {
      const double fd = (fwd(c.op, x + h, c.p) - fwd(c.op, x - h, c.p)) / (2 * h);
      const double gy = 1.7;
      EXPECT_NEAR(bwd(c.op, x, gy, c.p), gy * fd, 1e-6 * (1 + std::fabs(fd)))
          << "op " << static_cast<int>(c.op) << " at x = " << x;
    }
  }
}

TEST(Unary, KinkConventions) {
  EXPECT_EQ(bwd(UnaryOp::Relu, 0.0, 1.0), 0.0);
  EXPECT_EQ(bwd(UnaryOp::Abs, 0.0, 1.0), 0.0);
  EXPECT_EQ(bwd(UnaryOp::Abs, -2.0, 3.0), -3.0);
  EXPECT_EQ(bwd(UnaryOp::Sign, 0.0, 1.0), 0.0);
  EXPECT_EQ(bwd(UnaryOp::Clamp, 0.0, 2.0, {0.0, 1.0}), 2.0);  // both bounds included
  EXPECT_EQ(bwd(UnaryOp::Clamp, 1.0, 2.0, {0.0, 1.0}), 2.0);
  EXPECT_EQ(bwd(UnaryOp::Clamp, 1.5, 2.0, {0.0, 1.0}), 0.0);
  EXPECT_EQ(bwd(UnaryOp::Clamp, -7.0, 2.0, {-kInf, 1.0}), 2.0);
  EXPECT_DOUBLE_EQ(bwd(UnaryOp::LeakyRelu, 0.0, 1.0, {0.2, 0}), 0.2);
  EXPECT_DOUBLE_EQ(bwd(UnaryOp::Elu, 0.0, 1.0, {1.5, 0}), 1.5);
  EXPECT_EQ(bwd(UnaryOp::Floor, 2.0, 1.0), 0.0);
  EXPECT_EQ(bwd(UnaryOp::Round, 2.5, 1.0), 0.0);
  EXPECT_EQ(bwd(UnaryOp::PowScalar, 0.0, 1.0, {0.0, 0}), 0.0);  // not 0 * inf
  EXPECT_DOUBLE_EQ(bwd(UnaryOp::Softplus, 30.0, 2.0, {1.0, 20.0}), 2.0);
  EXPECT_DOUBLE_EQ(bwd(UnaryOp::Softplus, 0.0, 1.0, {1.0, 20.0}), 0.5);
  EXPECT_NEAR(bwd(UnaryOp::Gelu, 0.0, 1.0, {0, 0}), 0.5, 1e-15);
}

// Ops whose derivative reads y must give the same answer when the op layer passes no y.
TEST(Unary, BackwardWithoutSavedOutput) {
  for (UnaryOp op : {UnaryOp::Exp, UnaryOp::Sqrt, UnaryOp::Rsqrt, UnaryOp::Sigmoid, UnaryOp::Tanh,
                     UnaryOp::Relu, UnaryOp::Gelu}) {
    const std::vector<double> x = {0.3, 1.1, 2.0};
    const std::vector<double> gy = {1.0, -2.0, 0.5};
    std::vector<double> y(3), g1(3), g2(3);
    cpu::cpu_backend.unary(op, kFloat64, x.data(), y.data(), 3);
    cpu::cpu_backend.unary_backward(op, kFloat64, x.data(), y.data(), gy.data(), g1.data(), 3);
    cpu::cpu_backend.unary_backward(op, kFloat64, x.data(), nullptr, gy.data(), g2.data(), 3);
    for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(g1[i], g2[i]) << static_cast<int>(op);
  }
}

// Large enough to be split over threads; float32 must track float64 for every op.
TEST(Unary, Float32MatchesFloat64) {
  const int64_t n = 100000;
  std::vector<double> xd = testing::random_vector<double>(n, 7, -3.0, 3.0);
  std::vector<double> xpos = testing::random_vector<double>(n, 8, 0.1, 4.0);
  for (int oi = 0; oi <= static_cast<int>(UnaryOp::Gelu); ++oi) {
    const auto op = static_cast<UnaryOp>(oi);
    const bool positive = op == UnaryOp::Log || op == UnaryOp::Log2 || op == UnaryOp::Log10 ||
                          op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || op == UnaryOp::PowScalar;
    const UnaryParams p = op == UnaryOp::Softplus    ? UnaryParams{1.0, 20.0}
                          : op == UnaryOp::Clamp     ? UnaryParams{-1.0, 0.5}
                          : op == UnaryOp::PowScalar ? UnaryParams{1.5, 0}
                                                     : UnaryParams{0.3, 0};
    const std::vector<double>& src = positive ? xpos : xd;
    std::vector<float> xf(src.begin(), src.end());
    std::vector<double> xr(xf.begin(), xf.end());  // the float inputs, exactly, in double
    std::vector<double> yd(n), gd(n), ones(n, 1.0);
    std::vector<float> yf(n), gf(n), onesf(n, 1.0f);
    cpu::cpu_backend.unary(op, kFloat64, xr.data(), yd.data(), n, p);
    cpu::cpu_backend.unary(op, kFloat32, xf.data(), yf.data(), n, p);
    cpu::cpu_backend.unary_backward(op, kFloat64, xr.data(), yd.data(), ones.data(), gd.data(), n,
                                    p);
    cpu::cpu_backend.unary_backward(op, kFloat32, xf.data(), yf.data(), onesf.data(), gf.data(), n,
                                    p);
    for (int64_t i = 0; i < n; ++i) {
      if (op == UnaryOp::Round || op == UnaryOp::Floor || op == UnaryOp::Ceil ||
          op == UnaryOp::Trunc || op == UnaryOp::Sign) {
        ASSERT_EQ(yf[i], static_cast<float>(yd[i])) << "op " << oi << " i " << i;
      } else {
        ASSERT_NEAR(yf[i], yd[i], 2e-6 * (1 + std::fabs(yd[i]))) << "op " << oi << " i " << i;
      }
      ASSERT_NEAR(gf[i], gd[i], 2e-5 * (1 + std::fabs(gd[i]))) << "op " << oi << " i " << i;
    }
  }
}

TEST(Unary, Int64Ops) {
  const std::vector<int64_t> x = {-5, -1, 0, 3, 9};
  std::vector<int64_t> y(5);
  cpu::cpu_backend.unary(UnaryOp::Neg, kInt64, x.data(), y.data(), 5);
  EXPECT_EQ(y, (std::vector<int64_t>{5, 1, 0, -3, -9}));
  cpu::cpu_backend.unary(UnaryOp::Abs, kInt64, x.data(), y.data(), 5);
  EXPECT_EQ(y, (std::vector<int64_t>{5, 1, 0, 3, 9}));
  cpu::cpu_backend.unary(UnaryOp::Sign, kInt64, x.data(), y.data(), 5);
  EXPECT_EQ(y, (std::vector<int64_t>{-1, -1, 0, 1, 1}));
  cpu::cpu_backend.unary(UnaryOp::Clamp, kInt64, x.data(), y.data(), 5, {-2.0, 4.0});
  EXPECT_EQ(y, (std::vector<int64_t>{-2, -1, 0, 3, 4}));
  cpu::cpu_backend.unary(UnaryOp::Clamp, kInt64, x.data(), y.data(), 5, {-kInf, 4.0});
  EXPECT_EQ(y, (std::vector<int64_t>{-5, -1, 0, 3, 4}));
  // In place (y aliases x) is allowed.
  std::vector<int64_t> z = x;
  cpu::cpu_backend.unary(UnaryOp::Neg, kInt64, z.data(), z.data(), 5);
  EXPECT_EQ(z, (std::vector<int64_t>{5, 1, 0, -3, -9}));
}

TEST(Unary, UnsupportedDtypeThrows) {
  int64_t xi = 1, yi = 0;
  bool xb = true, yb = false;
  EXPECT_THROW(cpu::cpu_backend.unary(UnaryOp::Exp, kInt64, &xi, &yi, 1), DTypeError);
  EXPECT_THROW(cpu::cpu_backend.unary(UnaryOp::Relu, kBool, &xb, &yb, 1), DTypeError);
  EXPECT_THROW(cpu::cpu_backend.unary_backward(UnaryOp::Tanh, kInt64, &xi, &xi, &xi, &yi, 1),
               DTypeError);
  try {
    cpu::cpu_backend.unary(UnaryOp::Sigmoid, kInt64, &xi, &yi, 1);
    ADD_FAILURE() << "no exception";
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("sigmoid"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos);
  }
}

}  // namespace
}  // namespace ember::kernels
