// The programs of the PyTorch autograd / MLP tutorials, each checked against the
// mathematics it teaches: the softmax Jacobian, a single-layer perceptron's gradient, a
// two-layer sigmoid network written as a custom module and trained with backward, and the
// Himmelblau function minimised by gradient descent.
#include <cmath>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "gradcheck.h"

using namespace ember;
using ember::testing::rand_double;

// d softmax(x)_i / d x_j = p_i (delta_ij - p_j): the full Jacobian, one row per autograd::grad.
TEST(TutorialPrograms, SoftmaxJacobianMatchesAnalytic) {
  const int64_t n = 5;
  Tensor x = rand_double({n}, 21, -2, 2).requires_grad_(true);
  Tensor p = softmax(x, 0);
  const auto pv = p.to_vector<double>();
  for (int64_t i = 0; i < n; ++i) {
    Tensor row = autograd::grad({p.select(0, i)}, {x}, {}, /*retain_graph=*/true)[0];
    const auto rv = row.to_vector<double>();
    for (int64_t j = 0; j < n; ++j) {
      const double analytic = pv[i] * ((i == j ? 1.0 : 0.0) - pv[j]);
      EXPECT_NEAR(rv[j], analytic, 1e-12) << "row " << i << " col " << j;
    }
  }
}

// o = sigmoid(x wᵀ), L = mean((o - y)²) over N x K outputs. By the chain rule
// dL/dw_kj = (2 / (N K)) sum_n (o_nk - y_nk) o_nk (1 - o_nk) x_nj.
TEST(TutorialPrograms, SingleLayerPerceptronGradientMatchesHandDerived) {
  const int64_t N = 4, D = 10, K = 2;
  Tensor x = rand_double({N, D}, 31);
  Tensor y = rand_double({N, K}, 32, 0, 1);
  Tensor w = rand_double({K, D}, 33).requires_grad_(true);
  Tensor o = sigmoid(matmul(x, w.t()));
  Tensor loss = mse_loss(o, y);
  loss.backward();

  const auto xv = x.to_vector<double>(), yv = y.to_vector<double>(), ov = o.to_vector<double>();
  const auto gv = w.grad().to_vector<double>();
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t j = 0; j < D; ++j) {
      double g = 0;
      for (int64_t n = 0; n < N; ++n) {
        const double on = ov[n * K + k];
        g += (on - yv[n * K + k]) * on * (1 - on) * xv[n * D + j];
      }
      g *= 2.0 / (N * K);
      EXPECT_NEAR(gv[k * D + j], g, 1e-12) << "w[" << k << "][" << j << "]";
    }
  }
}

namespace {

// The tutorial's network: two bias-free linear layers, sigmoid after each.
struct TwoLayerSigmoidImpl : nn::Module {
  TwoLayerSigmoidImpl(int64_t in, int64_t hidden, int64_t out, Generator* gen) {
    l1 = register_module("l1", nn::Linear(in, hidden, /*bias=*/false, gen));
    l2 = register_module("l2", nn::Linear(hidden, out, /*bias=*/false, gen));
  }
  Tensor forward(const Tensor& x) override { return sigmoid(l2(sigmoid(l1(x)))); }
  nn::Linear l1{nullptr}, l2{nullptr};
};
EMBER_MODULE(TwoLayerSigmoid);

}  // namespace

TEST(TutorialPrograms, TwoLayerSigmoidModuleTrainsWithBackward) {
  Generator gen(5);
  TwoLayerSigmoid net(2, 8, 1, &gen);
  ASSERT_EQ(net->parameters().size(), 2u);  // no biases
  // Label: which side of the line x0 = x1 a point lies on (separable without a bias).
  Tensor x = randn({128, 2}, kFloat32, &gen);
  Tensor y = gt(x.select(1, 0) - x.select(1, 1), 0.0).to(kFloat32).unsqueeze(1);
  const double lr = 2.0;
  double first = 0, last = 0;
  for (int step = 0; step < 250; ++step) {
    Tensor loss = mse_loss(net->forward(x), y);
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    net->zero_grad();
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor& p : net->parameters()) p.sub_(p.grad(), lr);
  }
  // Stated factor: the loss falls at least tenfold.
  EXPECT_LT(last, first / 10) << "first " << first << ", last " << last;
  const double accuracy =
      eq(gt(net->forward(x), 0.5).to(kFloat32), y).to(kFloat32).mean().item<double>();
  EXPECT_GT(accuracy, 0.95);
}

// f(x, y) = (x² + y - 11)² + (x + y² - 7)²; from (0, 0) gradient descent reaches (3, 2).
TEST(TutorialPrograms, HimmelblauGradientDescentFindsMinimum) {
  auto f = [](const Tensor& p) {
    Tensor x = p.select(0, 0), y = p.select(0, 1);
    return pow(x * x + y - 11.0, 2.0) + pow(x + y * y - 7.0, 2.0);
  };
  // The autograd gradient at a point against the hand-derived one.
  Tensor q = tensor({1.5, -0.5}, kFloat64).requires_grad_(true);
  f(q).backward();
  const double a = 1.5, b = -0.5;
  const double gx = 4 * a * (a * a + b - 11) + 2 * (a + b * b - 7);
  const double gy = 2 * (a * a + b - 11) + 4 * b * (a + b * b - 7);
  EXPECT_NEAR(q.grad().to_vector<double>()[0], gx, 1e-12);
  EXPECT_NEAR(q.grad().to_vector<double>()[1], gy, 1e-12);

  Tensor p = zeros({2}, kFloat64).requires_grad_(true);
  for (int step = 0; step < 1000; ++step) {
    p.set_grad(Tensor());
    f(p).backward();
    NoGradGuard no_grad;
    p.sub_(p.grad(), 0.01);
  }
  const auto pv = p.to_vector<double>();
  EXPECT_NEAR(pv[0], 3.0, 1e-6);
  EXPECT_NEAR(pv[1], 2.0, 1e-6);
  EXPECT_LT(f(p.detach()).item<double>(), 1e-10);
}
