// nn::utils::clip_grad_norm_ / clip_grad_value_ against hand-computed norms: gradients [3, -4]
// and [12] have joint 2-norm 13, 1-norm 19 and inf-norm 12.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"
#include "test_device.h"

using namespace ember;
namespace utils = ember::nn::utils;

namespace {

// Two parameters whose gradients are [3, -4] and [12], plus one without a gradient.
std::vector<Tensor> parameters_with_grads() {
  Tensor a = zeros({2}).requires_grad_(true), b = zeros({1}).requires_grad_(true);
  (a * from_vector<float>({3, -4}).to(ember_test::test_device())).sum().backward();
  (b * 12.0).sum().backward();
  return {a, b, zeros({3}).requires_grad_(true)};
}

std::vector<float> grad_of(const Tensor& p) {
  return p.grad().to_vector<float>();
}

}  // namespace

TEST(ClipGrad, NormScalesEveryGradientByOneFactor) {
  std::vector<Tensor> ps = parameters_with_grads();
  const Tensor total = utils::clip_grad_norm_(ps, 6.5);
  EXPECT_EQ(total.dim(), 0);
  EXPECT_EQ(total.device(), ember_test::test_device());
  EXPECT_NEAR(total.item<float>(), 13.0, 1e-5);
  const double s = 6.5 / (13.0 + 1e-6);  // PyTorch's scale
  EXPECT_NEAR(grad_of(ps[0])[0], 3 * s, 1e-5);
  EXPECT_NEAR(grad_of(ps[0])[1], -4 * s, 1e-5);
  EXPECT_NEAR(grad_of(ps[1])[0], 12 * s, 1e-5);
  EXPECT_FALSE(ps[2].grad().defined());
}

TEST(ClipGrad, NormBelowTheLimitLeavesGradientsAlone) {
  std::vector<Tensor> ps = parameters_with_grads();
  EXPECT_NEAR(utils::clip_grad_norm_(ps, 100.0).item<float>(), 13.0, 1e-5);
  EXPECT_EQ(grad_of(ps[0]), (std::vector<float>{3, -4}));
  EXPECT_EQ(grad_of(ps[1]), (std::vector<float>{12}));
}

TEST(ClipGrad, OtherNormTypes) {
  std::vector<Tensor> ps = parameters_with_grads();
  EXPECT_NEAR(
      utils::clip_grad_norm_(ps, 6.0, std::numeric_limits<double>::infinity()).item<float>(), 12.0,
      1e-5);
  EXPECT_NEAR(grad_of(ps[1])[0], 12 * 6.0 / (12.0 + 1e-6), 1e-5);
  std::vector<Tensor> qs = parameters_with_grads();
  EXPECT_NEAR(utils::clip_grad_norm_(qs, 1000.0, 1.0).item<float>(), 19.0, 1e-5);
  EXPECT_NEAR(utils::clip_grad_norm_({zeros({2})}, 1.0).item<float>(), 0.0, 0.0);  // no grads
}

TEST(ClipGrad, NonFiniteNormsAndBadArguments) {
  Tensor a = zeros({2}).requires_grad_(true);
  (a * std::numeric_limits<double>::infinity()).sum().backward();
  ember_test::expect_error<ValueError>([&] { utils::clip_grad_norm_({a}, 1.0, 2.0, true); },
                                       {"clip_grad_norm_", "inf"});
  std::vector<Tensor> ps = parameters_with_grads();
  ember_test::expect_error<ValueError>([&] { utils::clip_grad_norm_(ps, -1.0); }, {"max_norm"});
  ember_test::expect_error<ValueError>([&] { utils::clip_grad_norm_(ps, 1.0, 0.0); },
                                       {"norm_type"});
  ember_test::expect_error<ValueError>([&] { utils::clip_grad_value_(ps, -1.0); }, {"clip_value"});
}

TEST(ClipGrad, ValueClampsEachElement) {
  std::vector<Tensor> ps = parameters_with_grads();
  utils::clip_grad_value_(ps, 3.5);
  EXPECT_EQ(grad_of(ps[0]), (std::vector<float>{3, -3.5}));
  EXPECT_EQ(grad_of(ps[1]), (std::vector<float>{3.5}));
}
