// Softmax family against naive log-sum-exp references; backward passes against central
// finite differences in double; cross-entropy's ignore_index, target checks, gradient
// scaling and broadcast upstream gradient; nll_loss.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cpu/softmax.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

struct Shape {
  int64_t outer, r, inner;
};
const std::vector<Shape> kShapes = {{1, 1, 1}, {3, 7, 1},    {2, 5, 3}, {4, 6, 300},
                                    {1, 3, 1}, {500, 40, 1}, {2, 1, 4}, {1, 1000, 1}};

double naive_softmax(const std::vector<double>& x, const Shape& s, int64_t o, int64_t j, int64_t i,
                     bool log) {
  double m = -INFINITY;
  for (int64_t k = 0; k < s.r; ++k) m = std::max(m, x[(o * s.r + k) * s.inner + i]);
  double sum = 0;
  for (int64_t k = 0; k < s.r; ++k) sum += std::exp(x[(o * s.r + k) * s.inner + i] - m);
  const double xv = x[(o * s.r + j) * s.inner + i];
  return log ? xv - m - std::log(sum) : std::exp(xv - m) / sum;
}

TEST(Softmax, MatchesNaiveAndRowsSumToOne) {
  for (const Shape& s : kShapes) {
    const int64_t n = s.outer * s.r * s.inner;
    // Large offsets: without max subtraction exp would overflow.
    std::vector<double> x = testing::random_vector<double>(n, 5, -4.0, 4.0);
    for (int64_t k = 0; k < n; k += 3) x[k] += 800.0;
    const std::vector<float> xf(x.begin(), x.end());
    const std::vector<double> xr(xf.begin(), xf.end());
    for (bool log : {false, true}) {
      std::vector<double> y(n);
      std::vector<float> yf(n);
      cpu::cpu_backend.softmax(kFloat64, x.data(), y.data(), s.outer, s.r, s.inner, log);
      cpu::cpu_backend.softmax(kFloat32, xf.data(), yf.data(), s.outer, s.r, s.inner, log);
      for (int64_t o = 0; o < s.outer; ++o) {
        for (int64_t i = 0; i < s.inner; ++i) {
          double total = 0;
          for (int64_t j = 0; j < s.r; ++j) {
            const int64_t k = (o * s.r + j) * s.inner + i;
            const double want = naive_softmax(x, s, o, j, i, log);
            ASSERT_NEAR(y[k], want, 1e-12 * (1 + std::fabs(want)));
            ASSERT_NEAR(yf[k], naive_softmax(xr, s, o, j, i, log), 2e-6 * (1 + std::fabs(want)));
            total += log ? std::exp(y[k]) : y[k];
          }
          ASSERT_NEAR(total, 1.0, 1e-12);
        }
      }
    }
  }
}

TEST(Softmax, InPlace) {
  std::vector<double> x = {1, 2, 3, 4, 5, 6};
  std::vector<double> y(6);
  cpu::cpu_backend.softmax(kFloat64, x.data(), y.data(), 2, 3, 1, false);
  cpu::cpu_backend.softmax(kFloat64, x.data(), x.data(), 2, 3, 1, false);
  EXPECT_EQ(x, y);
}

// L(x) = sum(w * softmax(x)) for fixed weights w; dL/dx by finite differences must equal
// softmax_backward(y, gy = w).
TEST(Softmax, BackwardMatchesFiniteDifferences) {
  for (const Shape& s : {Shape{2, 5, 1}, Shape{2, 4, 3}, Shape{1, 1, 2}}) {
    const int64_t n = s.outer * s.r * s.inner;
    std::vector<double> x = testing::random_vector<double>(n, 21, -2.0, 2.0);
    const std::vector<double> w = testing::random_vector<double>(n, 22, -1.0, 1.0);
    for (bool log : {false, true}) {
      auto loss = [&](const std::vector<double>& xx) {
        std::vector<double> yy(n);
        cpu::cpu_backend.softmax(kFloat64, xx.data(), yy.data(), s.outer, s.r, s.inner, log);
        double l = 0;
        for (int64_t k = 0; k < n; ++k) l += w[k] * yy[k];
        return l;
      };
      std::vector<double> y(n), gx(n);
      cpu::cpu_backend.softmax(kFloat64, x.data(), y.data(), s.outer, s.r, s.inner, log);
      cpu::cpu_backend.softmax_backward(kFloat64, y.data(), w.data(), gx.data(), s.outer, s.r,
                                        s.inner, log);
      for (int64_t k = 0; k < n; ++k) {
        std::vector<double> xp = x, xm = x;
        xp[k] += 1e-6;
        xm[k] -= 1e-6;
        const double fd = (loss(xp) - loss(xm)) / 2e-6;
        ASSERT_NEAR(gx[k], fd, 1e-7) << "log " << log << " k " << k;
      }
      std::vector<float> yf(y.begin(), y.end()), wf(w.begin(), w.end()), gf(n);
      cpu::cpu_backend.softmax_backward(kFloat32, yf.data(), wf.data(), gf.data(), s.outer, s.r,
                                        s.inner, log);
      for (int64_t k = 0; k < n; ++k) ASSERT_NEAR(gf[k], gx[k], 1e-5);
    }
  }
}

double naive_ce(const std::vector<double>& logits, int64_t c, int64_t i, int64_t t) {
  double m = -INFINITY;
  for (int64_t j = 0; j < c; ++j) m = std::max(m, logits[i * c + j]);
  double s = 0;
  for (int64_t j = 0; j < c; ++j) s += std::exp(logits[i * c + j] - m);
  return m + std::log(s) - logits[i * c + t];
}

TEST(CrossEntropy, ForwardIgnoreIndexAndCounts) {
  const int64_t n = 6, c = 5, ignore = -100;
  std::vector<double> logits = testing::random_vector<double>(n * c, 31, -3.0, 3.0);
  logits[2] = 1000.0;  // stability
  const std::vector<int64_t> t = {0, 4, ignore, 2, 1, ignore};
  std::vector<double> losses(n, 99.0);
  const cpu::TargetCheck check =
      cpu::cross_entropy_forward(kFloat64, logits.data(), t.data(), n, c, ignore,
                                 LossReduction::None, losses.data(), nullptr, nullptr);
  EXPECT_EQ(check.bad_index, -1);
  EXPECT_EQ(check.valid_count, 4);
  for (int64_t i = 0; i < n; ++i) {
    if (t[i] == ignore) {
      EXPECT_EQ(losses[i], 0.0);
    } else {
      EXPECT_NEAR(losses[i], naive_ce(logits, c, i, t[i]), 1e-12);
    }
  }
  const std::vector<float> lf(logits.begin(), logits.end());
  std::vector<float> lossf(n);
  cpu::cross_entropy_forward(kFloat32, lf.data(), t.data(), n, c, ignore, LossReduction::None,
                             lossf.data(), nullptr, nullptr);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(lossf[i], losses[i], 1e-4);
}

// Sum and Mean in the same call, with the valid count written out; an all-ignored batch's
// mean is NaN (0 / 0), as in PyTorch.
TEST(CrossEntropy, ForwardReductions) {
  const int64_t n = 5, c = 4, ignore = -100;
  const std::vector<double> logits = testing::random_vector<double>(n * c, 32, -3.0, 3.0);
  const std::vector<int64_t> t = {0, ignore, 3, 2, ignore};
  std::vector<double> losses(n);
  cpu::cross_entropy_forward(kFloat64, logits.data(), t.data(), n, c, ignore, LossReduction::None,
                             losses.data(), nullptr, nullptr);
  const double total = losses[0] + losses[2] + losses[3];
  double sum = 0, mean = 0;
  int64_t count = -1;
  cpu::cross_entropy_forward(kFloat64, logits.data(), t.data(), n, c, ignore, LossReduction::Sum,
                             losses.data(), &sum, nullptr);
  EXPECT_NEAR(sum, total, 1e-12);
  cpu::nll_loss_forward(kFloat64, logits.data(), t.data(), n, c, ignore, LossReduction::Mean,
                        losses.data(), &mean, &count);
  EXPECT_EQ(count, 3);
  EXPECT_NEAR(mean, -(logits[0] + logits[2 * c + 3] + logits[3 * c + 2]) / 3, 1e-12);
  const std::vector<int64_t> all_ignored(n, ignore);
  cpu::cross_entropy_forward(kFloat64, logits.data(), all_ignored.data(), n, c, ignore,
                             LossReduction::Mean, losses.data(), &mean, &count);
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(std::isnan(mean));
}

TEST(CrossEntropy, ReportsFirstBadTarget) {
  const int64_t n = 5, c = 3;
  const std::vector<double> logits(n * c, 0.5);
  std::vector<double> losses(n);
  const std::vector<int64_t> t = {1, -1, 3, 7, 0};  // ignore_index 5: -1 is bad, not ignored
  cpu::TargetCheck check =
      cpu::cross_entropy_forward(kFloat64, logits.data(), t.data(), n, c, 5, LossReduction::None,
                                 losses.data(), nullptr, nullptr);
  EXPECT_EQ(check.bad_index, 1);
  EXPECT_EQ(check.valid_count, 5);
  const std::vector<int64_t> t2 = {1, -1, 3, 7, 0};
  check = cpu::cross_entropy_forward(kFloat64, logits.data(), t2.data(), n, c, -1,
                                     LossReduction::None, losses.data(), nullptr, nullptr);
  EXPECT_EQ(check.bad_index, 2);
  EXPECT_EQ(check.valid_count, 4);
  check = cpu::nll_loss_forward(kFloat64, logits.data(), t2.data(), n, c, -1, LossReduction::None,
                                losses.data(), nullptr, nullptr);
  EXPECT_EQ(check.bad_index, 2);
  EXPECT_EQ(check.valid_count, 4);
}

// Mean reduction: L = (1/valid) sum_i ce_i; with grad_stride 0 and mean_count = valid the
// kernel must return dL/dlogits, checked by finite differences. Also a per-row upstream
// gradient.
TEST(CrossEntropy, BackwardMatchesFiniteDifferences) {
  const int64_t n = 4, c = 6, ignore = -1;
  const std::vector<double> logits = testing::random_vector<double>(n * c, 41, -2.0, 2.0);
  const std::vector<int64_t> t = {3, ignore, 0, 5};
  const std::vector<double> row_grad = {0.5, 9.0, -1.5, 2.0};
  for (bool mean : {true, false}) {
    const int64_t valid = 3;
    auto loss = [&](const std::vector<double>& l) {
      std::vector<double> ls(n);
      cpu::cross_entropy_forward(kFloat64, l.data(), t.data(), n, c, ignore, LossReduction::None,
                                 ls.data(), nullptr, nullptr);
      double total = 0;
      for (int64_t i = 0; i < n; ++i) total += (mean ? 1.0 / valid : row_grad[i]) * ls[i];
      return total;
    };
    const double one = 1.0;
    std::vector<double> g(n * c, 123.0);
    cpu::cpu_backend.cross_entropy_backward(kFloat64, logits.data(), t.data(), n, c, ignore,
                                            mean ? &one : row_grad.data(), mean ? 0 : 1,
                                            mean ? &valid : nullptr, g.data());
    for (int64_t k = 0; k < n * c; ++k) {
      std::vector<double> lp = logits, lm = logits;
      lp[k] += 1e-6;
      lm[k] -= 1e-6;
      ASSERT_NEAR(g[k], (loss(lp) - loss(lm)) / 2e-6, 1e-7) << "mean " << mean << " k " << k;
    }
    for (int64_t j = 0; j < c; ++j) EXPECT_EQ(g[1 * c + j], 0.0);  // ignored row
  }
}

TEST(CrossEntropy, Float32BackwardAndLargeBatch) {
  const int64_t n = 3000, c = 10;  // enough rows to be split over threads
  const std::vector<double> ld = testing::random_vector<double>(n * c, 51, -5.0, 5.0);
  const std::vector<float> lf(ld.begin(), ld.end());
  const std::vector<double> lr(lf.begin(), lf.end());
  std::vector<int64_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = (i * 7) % c;
  const float gf = 1.0f;
  std::vector<float> g(n * c);
  cpu::cpu_backend.cross_entropy_backward(kFloat32, lf.data(), t.data(), n, c, -100, &gf, 0, &n,
                                          g.data());
  for (int64_t i = 0; i < n; i += 37) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, lr[i * c + j]);
    for (int64_t j = 0; j < c; ++j) s += std::exp(lr[i * c + j] - m);
    for (int64_t j = 0; j < c; ++j) {
      const double want = (std::exp(lr[i * c + j] - m) / s - (j == t[i])) / n;
      ASSERT_NEAR(g[i * c + j], want, 1e-9);
    }
  }
}

TEST(NllLoss, ForwardBackward) {
  const int64_t n = 3, c = 4;
  const std::vector<double> logp = {-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12};
  const std::vector<int64_t> t = {2, 7, 0};  // 7 is the ignore_index
  std::vector<double> losses(n);
  const cpu::TargetCheck check =
      cpu::nll_loss_forward(kFloat64, logp.data(), t.data(), n, c, 7, LossReduction::None,
                            losses.data(), nullptr, nullptr);
  EXPECT_EQ(check.bad_index, -1);
  EXPECT_EQ(check.valid_count, 2);
  EXPECT_EQ(losses, (std::vector<double>{3, 0, 9}));
  const std::vector<double> grad = {2.0, 5.0, -1.0};
  std::vector<double> g(n * c, 42.0);
  const int64_t two = 2;
  cpu::cpu_backend.nll_loss_backward(kFloat64, t.data(), n, c, 7, grad.data(), 1, &two, g.data());
  const std::vector<double> want = {0, 0, -1, 0, 0, 0, 0, 0, 0.5, 0, 0, 0};
  EXPECT_EQ(g, want);
  std::vector<float> gf(n * c, 42.0f);
  const float g0 = 3.0f;
  cpu::cpu_backend.nll_loss_backward(kFloat32, t.data(), n, c, 7, &g0, 0, nullptr, gf.data());
  EXPECT_EQ(gf[2], -3.0f);
  EXPECT_EQ(gf[8], -3.0f);
  EXPECT_EQ(gf[0], 0.0f);
}

}  // namespace
}  // namespace ember::kernels
