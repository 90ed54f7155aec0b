// LR schedulers: each group's lr sequence against the closed forms, computed here from
// PyTorch's formulas, plus argument checks and the scheduler's own state_dict.
#include <cmath>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using namespace ember::optim;

namespace {

// An SGD optimizer with two groups (lr 0.1 and 0.02).
struct TwoGroups {
  Tensor a = ones({2}, TensorOptions(kFloat64).requires_grad(true));
  Tensor b = ones({1}, TensorOptions(kFloat64).requires_grad(true));
  SGD opt{{ParamGroup({a}), ParamGroup({b}, SGDOptions(0.02))}, SGDOptions(0.1)};

  double lr(int g) { return opt.param_groups()[g].options().get_lr(); }
};

// Steps the scheduler `epochs` times and checks both groups against f(base_lr, epoch),
// including epoch 0 (the lr the constructor sets).
template <class F>
void expect_sequence(TwoGroups& t, LRScheduler& s, int epochs, F f) {
  for (int e = 0; e <= epochs; ++e) {
    if (e > 0) s.step();
    EXPECT_EQ(s.last_epoch(), e);
    ASSERT_EQ(s.get_last_lr().size(), 2u);
    for (int g = 0; g < 2; ++g) {
      const double base = g == 0 ? 0.1 : 0.02;
      EXPECT_NEAR(t.lr(g), f(base, e), 1e-15) << "epoch " << e << " group " << g;
      EXPECT_DOUBLE_EQ(s.get_last_lr()[g], t.lr(g));
    }
  }
}

}  // namespace

TEST(LRScheduler, StepLR) {
  TwoGroups t;
  StepLR s(t.opt, 3, 0.5);
  expect_sequence(t, s, 10, [](double base, int e) { return base * std::pow(0.5, e / 3); });
  EXPECT_DOUBLE_EQ(t.lr(0), 0.1 * 0.125);  // epochs 9 and 10: three decays
}

TEST(LRScheduler, StepLRDefaultGamma) {
  TwoGroups t;
  StepLR s(t.opt, 2);
  s.step();
  s.step();
  EXPECT_NEAR(t.lr(0), 0.01, 1e-15);
}

TEST(LRScheduler, CosineAnnealing) {
  TwoGroups t;
  CosineAnnealingLR s(t.opt, 8, 0.001);
  expect_sequence(t, s, 12, [](double base, int e) {
    return 0.001 + (base - 0.001) * (1 + std::cos(std::numbers::pi * e / 8)) / 2;
  });
}

TEST(LRScheduler, CosineAnnealingReachesEtaMinAtTMax) {
  TwoGroups t;
  CosineAnnealingLR s(t.opt, 4);
  for (int i = 0; i < 4; ++i) s.step();
  EXPECT_NEAR(t.lr(0), 0.0, 1e-15);
  EXPECT_NEAR(t.lr(1), 0.0, 1e-15);
}

TEST(LRScheduler, LinearWarmup) {
  TwoGroups t;
  LinearWarmup s(t.opt, 4, 0.25);
  expect_sequence(t, s, 7,
                  [](double base, int e) { return base * (0.25 + 0.75 * std::min(e, 4) / 4.0); });
  EXPECT_DOUBLE_EQ(t.lr(0), 0.1);  // warm-up done: back at the base lr
}

TEST(LRScheduler, ScheduledLrDrivesTheOptimizer) {
  Tensor p = zeros({1}, TensorOptions(kFloat64).requires_grad(true));
  SGD opt({p}, SGDOptions(1.0));
  StepLR s(opt, 1, 0.5);
  double expected = 0;
  for (int e = 0; e < 4; ++e) {
    p.set_grad(ones({1}, kFloat64));
    opt.step();
    expected -= std::pow(0.5, e);
    s.step();
  }
  EXPECT_DOUBLE_EQ(p.item(), expected);
}

TEST(LRScheduler, BadArguments) {
  TwoGroups t;
  EXPECT_THROW(StepLR(t.opt, 0), ValueError);
  EXPECT_THROW(CosineAnnealingLR(t.opt, 0), ValueError);
  EXPECT_THROW(LinearWarmup(t.opt, 0), ValueError);
  EXPECT_THROW(LinearWarmup(t.opt, 5, 0.0), ValueError);
  EXPECT_THROW(LinearWarmup(t.opt, 5, 1.5), ValueError);
  StepLR s(t.opt, 2);
  t.opt.add_param_group(ParamGroup({ones({1}, kFloat64)}));
  EXPECT_THROW(s.step(), ValueError);  // groups changed under the scheduler
}

TEST(LRScheduler, StateDictRoundTrip) {
  TwoGroups t;
  CosineAnnealingLR s(t.opt, 10);
  for (int i = 0; i < 3; ++i) s.step();
  const StateDict sd = s.state_dict();

  TwoGroups u;
  CosineAnnealingLR r(u.opt, 10);
  r.load_state_dict(sd);
  EXPECT_EQ(r.last_epoch(), 3);
  EXPECT_DOUBLE_EQ(u.lr(0), t.lr(0));
  s.step();
  r.step();
  EXPECT_DOUBLE_EQ(u.lr(1), t.lr(1));
  EXPECT_THROW(r.load_state_dict({{"last_epoch", scalar_tensor(-1, kFloat64)},
                                  {"base_lrs", from_vector<double>({0.1, 0.02})}}),
               ValueError);
  EXPECT_THROW(r.load_state_dict({{"last_epoch", scalar_tensor(1, kFloat64)},
                                  {"base_lrs", from_vector<double>({0.1})}}),
               ValueError);
}
