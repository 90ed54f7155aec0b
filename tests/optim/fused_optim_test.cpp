// The fused optimizer kernels: float32 against a float64 run of the same update on sizes
// that take the parallel path, version-counter bumps, and argument checks.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <ember/core/fused.h>
#include <ember/ember.h>

using namespace ember;

namespace {

constexpr int64_t kN = 200003;  // above the parallel grain, and odd (loop tails)

struct Buffers {
  Tensor p, g, m, v, vmax;
};

Buffers make(DType dt, uint64_t seed) {
  Generator gen(seed);
  Buffers b;
  b.p = randn({kN}, kFloat64, &gen).to(dt);
  b.g = randn({kN}, kFloat64, &gen).to(dt);
  b.m = zeros({kN}, dt);
  b.v = zeros({kN}, dt);
  b.vmax = zeros({kN}, dt);
  return b;
}

void expect_close(const Tensor& f32, const Tensor& f64, double tol) {
  const std::vector<double> a = f32.to_vector<double>(), b = f64.to_vector<double>();
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LT(worst, tol);
}

}  // namespace

TEST(FusedOptim, SgdFloat32MatchesFloat64) {
  for (bool nesterov : {false, true}) {
    Buffers s = make(kFloat32, 7), d = make(kFloat64, 7);
    NoGradGuard no_grad;
    for (int t = 0; t < 3; ++t) {
      fused::sgd_step_(s.p, s.g, &s.m, 0.1, 0.9, 0.0, 0.01, nesterov, t == 0);
      fused::sgd_step_(d.p, d.g, &d.m, 0.1, 0.9, 0.0, 0.01, nesterov, t == 0);
    }
    expect_close(s.p, d.p, 1e-5);
    expect_close(s.m, d.m, 1e-5);
    // And the float64 run against the rule itself for a few elements.
    const std::vector<double> p0 = make(kFloat64, 7).p.to_vector<double>();
    const std::vector<double> g = d.g.to_vector<double>(), p = d.p.to_vector<double>();
    for (int64_t i : {int64_t{0}, kN / 2, kN - 1}) {
      double x = p0[i], buf = 0;
      for (int t = 0; t < 3; ++t) {
        double dg = g[i] + 0.01 * x;
        buf = t == 0 ? dg : 0.9 * buf + dg;
        x -= 0.1 * (nesterov ? dg + 0.9 * buf : buf);
      }
      EXPECT_NEAR(p[i], x, 1e-12) << i;
    }
  }
}

TEST(FusedOptim, AdamFloat32MatchesFloat64) {
  for (bool decoupled : {false, true}) {
    for (bool amsgrad : {false, true}) {
      Buffers s = make(kFloat32, 11), d = make(kFloat64, 11);
      NoGradGuard no_grad;
      for (int t = 1; t <= 3; ++t) {
        fused::adam_step_(s.p, s.g, s.m, s.v, amsgrad ? &s.vmax : nullptr, 1e-2, 0.9, 0.999, 1e-8,
                          0.1, decoupled, t);
        fused::adam_step_(d.p, d.g, d.m, d.v, amsgrad ? &d.vmax : nullptr, 1e-2, 0.9, 0.999, 1e-8,
                          0.1, decoupled, t);
      }
      expect_close(s.p, d.p, 1e-5);
      expect_close(s.m, d.m, 1e-5);
      expect_close(s.v, d.v, 1e-5);
    }
  }
}

TEST(FusedOptim, BumpsVersionsOfWrittenTensors) {
  Tensor p = ones({4}), g = ones({4}), m = zeros({4}), v = zeros({4});
  NoGradGuard no_grad;
  const uint32_t pv = p.version(), gv = g.version(), mv = m.version(), vv = v.version();
  fused::adam_step_(p, g, m, v, nullptr, 0.1, 0.9, 0.999, 1e-8, 0, false, 1);
  EXPECT_GT(p.version(), pv);
  EXPECT_GT(m.version(), mv);
  EXPECT_GT(v.version(), vv);
  EXPECT_EQ(g.version(), gv);  // read only
  const uint32_t pv2 = p.version(), mv2 = m.version();
  fused::sgd_step_(p, g, &m, 0.1, 0.9, 0, 0, false, false);
  EXPECT_GT(p.version(), pv2);
  EXPECT_GT(m.version(), mv2);
}

TEST(FusedOptim, ArgumentChecks) {
  NoGradGuard no_grad;
  Tensor p = ones({2, 3}), g = ones({2, 3}), m = zeros({2, 3}), v = zeros({2, 3});
  Tensor wrong_shape = ones({3, 2}), wrong_dtype = ones({2, 3}, kFloat64);
  Tensor strided = ones({3, 2}).t();  // (2, 3), not contiguous
  EXPECT_THROW(fused::sgd_step_(p, wrong_shape, nullptr, 0.1, 0, 0, 0, false, false), ShapeError);
  EXPECT_THROW(fused::sgd_step_(p, wrong_dtype, nullptr, 0.1, 0, 0, 0, false, false), DTypeError);
  EXPECT_THROW(fused::sgd_step_(p, strided, nullptr, 0.1, 0, 0, 0, false, false), ValueError);
  EXPECT_THROW(fused::sgd_step_(p, g, nullptr, 0.1, 0.9, 0, 0, false, true), ValueError);
  EXPECT_THROW(fused::sgd_step_(p, p, nullptr, 0.1, 0, 0, 0, false, false), ValueError);  // alias
  Tensor ints = ones({2, 3}, kInt64);
  EXPECT_THROW(fused::sgd_step_(ints, ints, nullptr, 0.1, 0, 0, 0, false, false), DTypeError);
  EXPECT_THROW(fused::adam_step_(p, g, m, v, nullptr, 0.1, 0.9, 0.999, 1e-8, 0, false, 0),
               ValueError);
  EXPECT_THROW(fused::adam_step_(p, g, m, m, nullptr, 0.1, 0.9, 0.999, 1e-8, 0, false, 1),
               ValueError);
  EXPECT_THROW(fused::adam_step_(p, g, m, wrong_shape, nullptr, 0.1, 0.9, 0.999, 1e-8, 0, false, 1),
               ShapeError);
  // Nothing was written by the failed calls.
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(6, 1.f));
}

TEST(FusedOptim, RefusesRequiresGradParamWhileRecording) {
  Tensor p = ones({2}, TensorOptions().requires_grad(true)), g = ones({2});
  EXPECT_THROW(fused::sgd_step_(p, g, nullptr, 0.1, 0, 0, 0, false, false), AutogradError);
  NoGradGuard no_grad;
  EXPECT_NO_THROW(fused::sgd_step_(p, g, nullptr, 0.1, 0, 0, 0, false, false));
}
