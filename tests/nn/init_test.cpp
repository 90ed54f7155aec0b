// nn::init: gains, fans, and each initialiser's range / spread against torch.nn.init's
// formulas.
#include <cmath>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
namespace init = ember::nn::init;

namespace {

struct Stats {
  double mean, std, min, max;
};

Stats stats(const Tensor& t) {
  auto v = t.to_vector<double>();
  Stats s{0, 0, v[0], v[0]};
  for (double x : v) {
    s.mean += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean /= v.size();
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / v.size());
  return s;
}

void expect_uniform(const Tensor& t, double bound) {
  Stats s = stats(t);
  EXPECT_GE(s.min, -bound);
  EXPECT_LT(s.max, bound);
  EXPECT_LT(s.min, -0.98 * bound);
  EXPECT_GT(s.max, 0.98 * bound);
  EXPECT_NEAR(s.std, bound / std::sqrt(3.0), 0.02 * bound);
}

void expect_normal(const Tensor& t, double std) {
  Stats s = stats(t);
  EXPECT_NEAR(s.mean, 0.0, 0.03 * std);
  EXPECT_NEAR(s.std, std, 0.03 * std);
}

}  // namespace

TEST(Init, GainsAndFans) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("sigmoid"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 1e-4)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("selu"), 0.75);
  EXPECT_THROW(init::calculate_gain("swish"), ValueError);

  auto [fi, fo] = init::calculate_fan_in_and_fan_out(empty({4, 3, 5, 5}));
  EXPECT_EQ(fi, 75);
  EXPECT_EQ(fo, 100);
  auto [fi2, fo2] = init::calculate_fan_in_and_fan_out(empty({10, 20}));
  EXPECT_EQ(fi2, 20);
  EXPECT_EQ(fo2, 10);
  EXPECT_THROW(init::calculate_fan_in_and_fan_out(empty({5})), ShapeError);
}

TEST(Init, UniformNormalConstant) {
  Tensor t = empty({200, 100});
  Stats u = stats(init::uniform_(t, -2, 3));
  EXPECT_GE(u.min, -2);
  EXPECT_LT(u.max, 3);
  EXPECT_NEAR(u.mean, 0.5, 0.05);
  EXPECT_NEAR(u.std, 5 / std::sqrt(12.0), 0.05);
  Stats n = stats(init::normal_(t, 1.5, 0.5));
  EXPECT_NEAR(n.mean, 1.5, 0.02);
  EXPECT_NEAR(n.std, 0.5, 0.01);
  EXPECT_EQ(stats(init::constant_(t, 0.25)).min, 0.25);
  EXPECT_EQ(stats(init::ones_(t)).max, 1.0);
  EXPECT_EQ(stats(init::zeros_(t)).max, 0.0);
  EXPECT_THROW(init::normal_(t, 0, -1), ValueError);
  EXPECT_THROW(init::uniform_(arange(4), 0, 1), DTypeError);
}

TEST(Init, XavierAndKaiming) {
  Tensor w = empty({300, 200});  // fan_out 300, fan_in 200
  expect_uniform(init::xavier_uniform_(w), std::sqrt(6.0 / 500));
  expect_uniform(init::xavier_uniform_(w, 2.0), 2 * std::sqrt(6.0 / 500));
  expect_normal(init::xavier_normal_(w), std::sqrt(2.0 / 500));
  expect_uniform(init::kaiming_uniform_(w, 0, "fan_in", "relu"), std::sqrt(6.0 / 200));
  expect_uniform(init::kaiming_uniform_(w, std::sqrt(5.0)), 1 / std::sqrt(200.0));
  expect_normal(init::kaiming_normal_(w, 0, "fan_out", "relu"), std::sqrt(2.0 / 300));
  expect_normal(init::kaiming_normal_(w, 0.2, "fan_in"), std::sqrt(2.0 / 1.04 / 200));
  EXPECT_THROW(init::kaiming_uniform_(w, 0, "fan_avg"), ValueError);
  EXPECT_THROW(init::xavier_uniform_(empty({7})), ShapeError);
}

TEST(Init, WorksOnParametersAndIsSeeded) {
  // A parameter requires grad; init must still be allowed (it runs under NoGradGuard) and
  // must not record a graph.
  Tensor p = empty({8, 8}).requires_grad_();
  Generator g1(3), g2(3);
  init::kaiming_uniform_(p, std::sqrt(5.0), "fan_in", "leaky_relu", &g1);
  EXPECT_TRUE(p.is_leaf());
  Tensor q = empty({8, 8});
  init::kaiming_uniform_(q, std::sqrt(5.0), "fan_in", "leaky_relu", &g2);
  EXPECT_EQ(p.to_vector<float>(), q.to_vector<float>());
  Tensor d = empty({50, 40}, kFloat64);
  expect_uniform(init::xavier_uniform_(d), std::sqrt(6.0 / 90));
  EXPECT_EQ(d.dtype(), kFloat64);
}
