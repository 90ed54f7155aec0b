// Loss modules and nn::functional losses: values against hand computations, gradients
// against finite differences (float64), and BCEWithLogits' stability at large |x|.
#include <cmath>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "test_device.h"

using namespace ember;
using ember::testing::gradcheck;
using ember::testing::rand_double;
namespace F = ember::nn::functional;

namespace {

// -log softmax(row)[t], in double.
double ce_row(const std::vector<double>& row, int t) {
  double m = row[0];
  for (double v : row) m = std::max(m, v);
  double s = 0;
  for (double v : row) s += std::exp(v - m);
  return m + std::log(s) - row[t];
}

// PyTorch's label-smoothed loss of one row: (1 - eps) (-log p_t) + eps mean_c (-log p_c).
double smoothed_row(const std::vector<double>& row, int t, double eps) {
  double uniform = 0;
  for (size_t c = 0; c < row.size(); ++c) uniform += ce_row(row, static_cast<int>(c));
  return (1 - eps) * ce_row(row, t) + eps * uniform / static_cast<double>(row.size());
}

// Binary cross-entropy of sigmoid(x) against y, written the textbook way (fine for the
// moderate x it is used with).
double bce(double x, double y) {
  const double p = 1 / (1 + std::exp(-x));
  return -(y * std::log(p) + (1 - y) * std::log(1 - p));
}

}  // namespace

TEST(Loss, CrossEntropyValues) {
  Tensor logits = from_vector<double>({1, 2, 3, 1, 1, 1, -2, 0, 5}, Shape{3, 3});
  Tensor target = from_vector<int64_t>({2, 0, 1});
  const double l0 = ce_row({1, 2, 3}, 2), l1 = ce_row({1, 1, 1}, 0), l2 = ce_row({-2, 0, 5}, 1);
  EXPECT_NEAR(l1, std::log(3.0), 1e-12);
  nn::CrossEntropyLoss mean_loss;
  EXPECT_NEAR(mean_loss(logits, target).item<double>(), (l0 + l1 + l2) / 3, 1e-12);
  EXPECT_NEAR(nn::CrossEntropyLoss(Reduction::Sum)(logits, target).item<double>(), l0 + l1 + l2,
              1e-12);
  auto none = nn::CrossEntropyLoss(Reduction::None)(logits, target).to_vector<double>();
  ASSERT_EQ(none.size(), 3u);
  EXPECT_NEAR(none[2], l2, 1e-12);
  // ignore_index drops a sample from the sum and from the mean's count.
  Tensor with_ignored = from_vector<int64_t>({2, 7, 1});
  EXPECT_NEAR(nn::CrossEntropyLoss(Reduction::Mean, 7)(logits, with_ignored).item<double>(),
              (l0 + l2) / 2, 1e-12);
  EXPECT_THROW(
      {
        mean_loss(logits, from_vector<int64_t>({2, 3, 0}));
        ember_test::wait_for_device();
      },
      IndexError);
  EXPECT_TRUE(
      gradcheck([&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], target); },
                {rand_double({3, 3}, 1, -3, 3)}));
}

TEST(Loss, CrossEntropyLabelSmoothing) {
  const std::vector<std::vector<double>> rows = {{1, 2, 3, 0}, {1, 1, 1, 1}, {-2, 0, 5, 1}};
  Tensor logits = from_vector<double>({1, 2, 3, 0, 1, 1, 1, 1, -2, 0, 5, 1}, Shape{3, 4});
  Tensor target = from_vector<int64_t>({2, -100, 1});  // the middle row is ignored
  for (const double eps : {0.0, 0.1, 0.35, 1.0}) {
    const double l0 = smoothed_row(rows[0], 2, eps), l2 = smoothed_row(rows[2], 1, eps);
    EXPECT_NEAR(F::cross_entropy(logits, target, Reduction::Mean, -100, eps).item<double>(),
                (l0 + l2) / 2, 1e-12)
        << eps;
    EXPECT_NEAR(nn::CrossEntropyLoss(Reduction::Sum, -100, eps)(logits, target).item<double>(),
                l0 + l2, 1e-12)
        << eps;
    const auto none = cross_entropy(logits, target, Reduction::None, -100, eps).to_vector<double>();
    ASSERT_EQ(none.size(), 3u);
    EXPECT_NEAR(none[0], l0, 1e-12);
    EXPECT_EQ(none[1], 0.0);
    EXPECT_NEAR(none[2], l2, 1e-12);
  }
  // An ignored row may hold -inf logits (a masked vocabulary): it still contributes nothing.
  Tensor masked = logits.clone();
  {
    NoGradGuard no_grad;
    masked.select(0, 1).select(0, 3).fill_(-std::numeric_limits<double>::infinity());
  }
  EXPECT_NEAR(cross_entropy(masked, target, Reduction::Mean, -100, 0.1).item<double>(),
              (smoothed_row(rows[0], 2, 0.1) + smoothed_row(rows[2], 1, 0.1)) / 2, 1e-12);
  // One row against a 0-dim target keeps its shapes.
  Tensor row = from_vector<double>(rows[2]);
  Tensor one = cross_entropy(row, scalar_tensor(1, kInt64), Reduction::None, -100, 0.2);
  EXPECT_EQ(one.dim(), 0);
  EXPECT_NEAR(one.item<double>(), smoothed_row(rows[2], 1, 0.2), 1e-12);
  // Gradients against finite differences, ignored rows included.
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], target, r, -100, 0.3); },
        {rand_double({3, 4}, 2, -3, 3)}));
  ember_test::expect_error<ValueError>(
      [&] { cross_entropy(logits, target, Reduction::Mean, -100, 1.5); },
      {"cross_entropy", "label_smoothing", "1.5"});
  ember_test::expect_error<ValueError>([&] { nn::CrossEntropyLoss(Reduction::Mean, -100, -0.1); },
                                       {"CrossEntropyLoss", "label_smoothing", "-0.1"});
  std::ostringstream os;
  os << nn::CrossEntropyLoss(Reduction::Mean, -100, 0.1);
  EXPECT_EQ(os.str(), "CrossEntropyLoss(label_smoothing=0.1)");
}

TEST(Loss, NLLAndMSEValues) {
  Tensor logp = from_vector<double>({-0.5, -1.5, -2.0, -0.1}, Shape{2, 2});
  Tensor target = from_vector<int64_t>({1, 0});
  EXPECT_NEAR(nn::NLLLoss()(logp, target).item<double>(), (1.5 + 2.0) / 2, 1e-12);
  EXPECT_NEAR(nn::NLLLoss(Reduction::Sum)(logp, target).item<double>(), 3.5, 1e-12);
  // NLL after log_softmax is cross-entropy.
  Tensor logits = rand_double({4, 5}, 2, -2, 2);
  Tensor t = from_vector<int64_t>({0, 4, 2, 2});
  EXPECT_NEAR(F::nll_loss(F::log_softmax(logits, 1), t).item<double>(),
              F::cross_entropy(logits, t).item<double>(), 1e-12);

  Tensor a = tensor({1, 2, 3}, kFloat64), b = tensor({1.5, 0, 3}, kFloat64);
  EXPECT_NEAR(nn::MSELoss()(a, b).item<double>(), (0.25 + 4) / 3, 1e-12);
  EXPECT_NEAR(nn::MSELoss(Reduction::Sum)(a, b).item<double>(), 4.25, 1e-12);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return F::nll_loss(F::log_softmax(in[0], 1), t); },
      {rand_double({4, 5}, 3)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1], Reduction::None); },
      {rand_double({2, 3}, 4), rand_double({2, 3}, 5)}));
}

TEST(Loss, BCEWithLogitsValues) {
  const std::vector<double> xs = {0.5, -1.0, 3.0, 0.0}, ys = {1.0, 0.0, 0.5, 0.25};
  Tensor x = from_vector<double>(xs), y = from_vector<double>(ys);
  double total = 0;
  auto none = nn::BCEWithLogitsLoss(Reduction::None)(x, y).to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_NEAR(none[i], bce(xs[i], ys[i]), 1e-12) << i;
    total += bce(xs[i], ys[i]);
  }
  EXPECT_NEAR(nn::BCEWithLogitsLoss()(x, y).item<double>(), total / 4, 1e-12);
  // pos_weight scales the positive term: y log(sigmoid x) * pw.
  Tensor pw = tensor({3.0}, kFloat64);
  nn::BCEWithLogitsLoss weighted(Reduction::None, Tensor(), pw);
  EXPECT_NEAR(weighted(tensor({0.5}, kFloat64), tensor({1.0}, kFloat64)).item<double>(),
              3 * std::log1p(std::exp(-0.5)), 1e-12);
  EXPECT_EQ(weighted->buffers().size(), 1u);
  Tensor w = tensor({2, 0, 1, 1}, kFloat64);
  EXPECT_NEAR(nn::BCEWithLogitsLoss(Reduction::Sum, w)(x, y).item<double>(),
              2 * bce(0.5, 1) + bce(3, 0.5) + bce(0, 0.25), 1e-12);
  EXPECT_THROW(nn::BCEWithLogitsLoss()(x, tensor({1, 0}, kFloat64)), ShapeError);
  // Zero logits (a zero-initialised output layer): d/dx = sigmoid(0) - y exactly.
  Tensor z = zeros({2}, kFloat64).requires_grad_();
  F::binary_cross_entropy_with_logits(z, tensor({1, 0}, kFloat64), Reduction::Sum).backward();
  EXPECT_EQ(z.grad().to_vector<double>(), (std::vector<double>{-0.5, 0.5}));
}

TEST(Loss, BCEWithLogitsIsStableAtLargeLogits) {
  for (DType dt : {kFloat32, kFloat64}) {
    Tensor x = tensor({1000, -1000, 60, -60, 88.5, -104}, dt).requires_grad_();
    Tensor y = tensor({0, 1, 1, 0, 0, 1}, dt);
    Tensor loss = F::binary_cross_entropy_with_logits(x, y, Reduction::None);
    auto v = loss.to_vector<double>();
    const std::vector<double> expected = {1000, 1000, std::exp(-60.0), std::exp(-60.0), 88.5, 104};
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_TRUE(std::isfinite(v[i])) << "element " << i;
      EXPECT_NEAR(v[i], expected[i], 1e-4 * std::max(1.0, expected[i])) << "element " << i;
    }
    loss.sum().backward();
    auto g = x.grad().to_vector<double>();  // sigmoid(x) - y
    const std::vector<double> eg = {1, -1, 0, 0, 1, -1};
    for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], eg[i], 1e-6) << "element " << i;
  }
  // Gradients w.r.t. both logits and targets match finite differences across the range.
  Tensor x = tensor({-40, -8, -0.3, 0.2, 9, 35}, kFloat64);
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::binary_cross_entropy_with_logits(in[0], in[1], Reduction::None);
      },
      {x, rand_double({6}, 8, 0, 1)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::binary_cross_entropy_with_logits(in[0], in[1], Reduction::Mean, Tensor(), in[2]);
      },
      {rand_double({3, 2}, 9, -4, 4), rand_double({3, 2}, 10, 0, 1),
       rand_double({2}, 11, 0.5, 3)}));
}

TEST(Loss, OneInputForwardIsAnError) {
  nn::MSELoss loss;
  nn::Module& as_module = *loss;
  EXPECT_THROW(as_module.forward(ones({2})), Error);
}
