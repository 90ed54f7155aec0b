// SGD, Adam and AdamW against plain scalar re-implementations of PyTorch's documented
// update rules, over several steps and every option; parameter groups, zero_grad, skipped
// parameters and option validation.
#include <cmath>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using namespace ember::optim;
using V = std::vector<double>;

namespace {

Tensor make_param(const V& values, DType dt = kFloat64) {
  Tensor p = from_vector<double>(values).to(dt);
  p.requires_grad_();
  return p;
}

// A gradient that depends on the current parameter and the step, so a wrong update in
// one step changes every later gradient too.
V grad_for(const V& p, int step) {
  V g(p.size());
  for (size_t i = 0; i < p.size(); ++i) g[i] = 2.0 * p[i] - 0.3 * step + 0.1 * double(i);
  return g;
}

void set_grad(Tensor& p, const V& g) {
  p.set_grad(from_vector<double>(g).to(p.dtype()));
}

void expect_values(const Tensor& t, const V& expected, double tol) {
  const V got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "at " << i;
}

struct SgdCase {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
};

std::ostream& operator<<(std::ostream& os, const SgdCase& c) {
  return os << "lr " << c.lr << " momentum " << c.momentum << " dampening " << c.dampening
            << " weight_decay " << c.weight_decay << (c.nesterov ? " nesterov" : "");
}

// torch.optim.SGD's documented algorithm, one scalar at a time.
V sgd_reference(V p, const SgdCase& c, int steps) {
  V buf(p.size(), 0.0);
  for (int t = 1; t <= steps; ++t) {
    const V g0 = grad_for(p, t);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = g0[i];
      if (c.weight_decay != 0) g += c.weight_decay * p[i];
      if (c.momentum != 0) {
        buf[i] = t == 1 ? g : c.momentum * buf[i] + (1 - c.dampening) * g;
        g = c.nesterov ? g + c.momentum * buf[i] : buf[i];
      }
      p[i] -= c.lr * g;
    }
  }
  return p;
}

struct AdamCase {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, decoupled;
};

std::ostream& operator<<(std::ostream& os, const AdamCase& c) {
  return os << "lr " << c.lr << " betas " << c.beta1 << "/" << c.beta2 << " eps " << c.eps
            << " weight_decay " << c.weight_decay << (c.amsgrad ? " amsgrad" : "")
            << (c.decoupled ? " decoupled" : "");
}

// torch.optim.Adam / AdamW as implemented (AMSGrad keeps the max of the raw second
// moment and bias-corrects it afterwards, as torch's code does).
V adam_reference(V p, const AdamCase& c, int steps) {
  V m(p.size(), 0.0), v(p.size(), 0.0), vmax(p.size(), 0.0);
  for (int t = 1; t <= steps; ++t) {
    const V g0 = grad_for(p, t);
    const double bc1 = 1 - std::pow(c.beta1, t), bc2 = 1 - std::pow(c.beta2, t);
    for (size_t i = 0; i < p.size(); ++i) {
      double g = g0[i];
      if (c.weight_decay != 0) {
        if (c.decoupled) {
          p[i] *= 1 - c.lr * c.weight_decay;
        } else {
          g += c.weight_decay * p[i];
        }
      }
      m[i] = c.beta1 * m[i] + (1 - c.beta1) * g;
      v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g;
      double vv = v[i];
      if (c.amsgrad) vv = vmax[i] = std::max(vmax[i], v[i]);
      const double m_hat = m[i] / bc1, v_hat = vv / bc2;
      p[i] -= c.lr * m_hat / (std::sqrt(v_hat) + c.eps);
    }
  }
  return p;
}

const V kInit = {0.5, -1.25, 2.0, 0.0, -0.75};

// Runs `steps` steps of `opt` on `p`, feeding grad_for(current p, step).
void run_steps(Optimizer& opt, Tensor& p, int steps, int first_step = 1) {
  for (int t = first_step; t < first_step + steps; ++t) {
    set_grad(p, grad_for(p.to_vector<double>(), t));
    opt.step();
  }
}

}  // namespace

class SgdRule : public ::testing::TestWithParam<SgdCase> {};

TEST_P(SgdRule, MatchesScalarReference) {
  const SgdCase c = GetParam();
  for (DType dt : {kFloat64, kFloat32}) {
    Tensor p = make_param(kInit, dt);
    SGD opt({p}, SGDOptions(c.lr)
                     .momentum(c.momentum)
                     .dampening(c.dampening)
                     .weight_decay(c.weight_decay)
                     .nesterov(c.nesterov));
    run_steps(opt, p, 4);
    expect_values(p, sgd_reference(kInit, c, 4), dt == kFloat64 ? 1e-12 : 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, SgdRule,
    ::testing::Values(SgdCase{0.1, 0, 0, 0, false}, SgdCase{0.05, 0.9, 0, 0, false},
                      SgdCase{0.05, 0.9, 0.5, 0, false}, SgdCase{0.05, 0.8, 0, 0, true},
                      SgdCase{0.1, 0, 0, 0.01, false}, SgdCase{0.03, 0.9, 0.1, 0.05, false},
                      SgdCase{0.03, 0.7, 0, 0.05, true}));

class AdamRule : public ::testing::TestWithParam<AdamCase> {};

TEST_P(AdamRule, MatchesScalarReference) {
  const AdamCase c = GetParam();
  for (DType dt : {kFloat64, kFloat32}) {
    Tensor p = make_param(kInit, dt);
    AdamOptions o = AdamOptions(c.lr)
                        .betas({c.beta1, c.beta2})
                        .eps(c.eps)
                        .weight_decay(c.weight_decay)
                        .amsgrad(c.amsgrad);
    std::unique_ptr<Optimizer> opt;
    if (c.decoupled) {
      opt = std::make_unique<AdamW>(std::vector<Tensor>{p}, o);
    } else {
      opt = std::make_unique<Adam>(std::vector<Tensor>{p}, o);
    }
    run_steps(*opt, p, 5);
    expect_values(p, adam_reference(kInit, c, 5), dt == kFloat64 ? 1e-12 : 1e-5);
    EXPECT_EQ(opt->state(p)->step, 5);
  }
}

INSTANTIATE_TEST_SUITE_P(Options, AdamRule,
                         ::testing::Values(AdamCase{0.1, 0.9, 0.999, 1e-8, 0, false, false},
                                           AdamCase{0.05, 0.8, 0.99, 1e-3, 0, false, false},
                                           AdamCase{0.1, 0.9, 0.999, 1e-8, 0.1, false, false},
                                           AdamCase{0.1, 0.9, 0.999, 1e-8, 0, true, false},
                                           AdamCase{0.1, 0.5, 0.9, 1e-8, 0.2, true, false},
                                           AdamCase{0.1, 0.9, 0.999, 1e-8, 0.1, false, true},
                                           AdamCase{0.1, 0.9, 0.99, 1e-6, 0.3, true, true}));

TEST(Optimizer, AdamWDefaultsToDecoupledDecay) {
  EXPECT_DOUBLE_EQ(AdamWOptions().weight_decay(), 1e-2);
  EXPECT_DOUBLE_EQ(AdamOptions().weight_decay(), 0.0);
  EXPECT_DOUBLE_EQ(AdamOptions().lr(), 1e-3);
  Tensor p = make_param(kInit);
  AdamW opt({p});
  run_steps(opt, p, 3);
  expect_values(p, adam_reference(kInit, {1e-3, 0.9, 0.999, 1e-8, 1e-2, false, true}, 3), 1e-12);
}

TEST(Optimizer, ParamGroupsHaveTheirOwnLr) {
  Tensor a = make_param({1.0, 2.0}), b = make_param({3.0}), c = make_param({-1.0});
  SGD opt({ParamGroup({a, b}), ParamGroup({c}, SGDOptions(0.01).momentum(0.5))}, SGDOptions(0.1));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].options().get_lr(), 0.1);
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].options().get_lr(), 0.01);
  for (Tensor* t : {&a, &b, &c}) t->set_grad(ones_like(*t));
  opt.step();
  expect_values(a, {0.9, 1.9}, 1e-12);
  expect_values(b, {2.9}, 1e-12);
  expect_values(c, {-1.01}, 1e-12);
  // The second step uses group 1's momentum and group 0's lack of it.
  opt.step();
  expect_values(a, {0.8, 1.8}, 1e-12);
  expect_values(c, {-1.01 - 0.01 * 1.5}, 1e-12);
  EXPECT_EQ(opt.state(a), nullptr);  // no momentum, no state
  ASSERT_NE(opt.state(c), nullptr);
  EXPECT_NE(opt.state(c)->find("momentum_buffer"), nullptr);

  Tensor d = make_param({5.0});
  opt.add_param_group(ParamGroup({d}));  // takes the defaults
  d.set_grad(ones_like(d));
  opt.step();
  expect_values(d, {4.9}, 1e-12);
  // Changing a group's lr takes effect on the next step.
  opt.param_groups()[2].options().set_lr(1.0);
  opt.step();
  expect_values(d, {3.9}, 1e-12);
}

TEST(Optimizer, ZeroGrad) {
  Tensor a = make_param({1.0, 2.0}), b = make_param({3.0});
  SGD opt({a, b}, SGDOptions(0.1));
  a.set_grad(ones_like(a));
  b.set_grad(ones_like(b));
  Tensor old = a.grad();
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_TRUE(a.grad().is_same(old));  // zeroed in place
  expect_values(a.grad(), {0, 0}, 0);
  opt.zero_grad();  // set_to_none by default
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(Optimizer, ZeroGradThenBackwardAccumulatesFresh) {
  Tensor w = make_param({1.0, -2.0});
  SGD opt({w}, SGDOptions(0.5));
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    Tensor loss = (w * w).sum();  // d/dw = 2w
    loss.backward();
    opt.step();
  }
  // w <- w - 0.5 * 2w = 0 after the first step, and stays 0.
  expect_values(w, {0, 0}, 1e-12);
}

TEST(Optimizer, SkipsParamsWithoutGrad) {
  Tensor a = make_param({1.0}), b = make_param({2.0});
  Adam adam({a, b}, AdamOptions(0.1));
  SGD sgd({a, b}, SGDOptions(0.1).momentum(0.9));
  a.set_grad(ones_like(a));
  adam.step();
  sgd.step();
  expect_values(b, {2.0}, 0);
  EXPECT_EQ(adam.state(b), nullptr);
  EXPECT_EQ(sgd.state(b), nullptr);
  ASSERT_NE(adam.state(a), nullptr);
  EXPECT_EQ(adam.state(a)->step, 1);
}

// Note [Optimizer state allocation]: the buffers exist from construction, but a parameter's
// state counts from its first update; buffers of a parameter that has changed dtype (or
// device) since are replaced then.
TEST(Optimizer, StateIsAllocatedAheadButCountsFromTheFirstUpdate) {
  nn::Linear layer(3, 2);
  Adam adam(layer->parameters(), AdamOptions(0.1));
  SGD sgd(layer->parameters(), SGDOptions(0.1).momentum(0.9).dampening(0.5));
  for (const Tensor& p : layer->parameters()) {
    EXPECT_EQ(adam.state(p), nullptr);
    EXPECT_EQ(sgd.state(p), nullptr);
  }
  for (const auto& [key, t] : adam.state_dict()) EXPECT_NE(key.rfind("state.", 0), 0u) << key;

  layer->to(kFloat64);
  layer(ones({4, 3}, kFloat64)).sum().backward();
  adam.step();
  sgd.step();
  for (const Tensor& p : layer->parameters()) {
    ASSERT_NE(adam.state(p), nullptr);
    EXPECT_EQ(adam.state(p)->step, 1);
    EXPECT_EQ(adam.state(p)->find("exp_avg")->dtype(), kFloat64);
    ASSERT_NE(sgd.state(p), nullptr);
    // The first update copies the gradient into the buffer (no dampening yet).
    expect_values(*sgd.state(p)->find("momentum_buffer"), p.grad().to_vector<double>(), 0);
  }
}

TEST(Optimizer, StepDoesNotRecordAutograd) {
  Tensor w = make_param({1.0, 2.0});
  Adam opt({w}, AdamOptions(0.1));
  (w * 3.0).sum().backward();
  opt.step();
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST(Optimizer, OptionValidation) {
  Tensor p = make_param({1.0});
  EXPECT_THROW(SGD({p}, SGDOptions(0.1).nesterov(true)), ValueError);  // no momentum
  EXPECT_THROW(SGD({p}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)), ValueError);
  EXPECT_NO_THROW(SGD({p}, SGDOptions(0.1).momentum(0.9).nesterov(true)));
  EXPECT_THROW(SGD({p}, SGDOptions(-0.1)), ValueError);
  EXPECT_THROW(SGD({p}, SGDOptions(0.1).momentum(-1)), ValueError);
  EXPECT_THROW(SGD({p}, SGDOptions(0.1).weight_decay(-1)), ValueError);
  EXPECT_THROW(Adam({p}, AdamOptions().betas({1.0, 0.999})), ValueError);
  EXPECT_THROW(Adam({p}, AdamOptions().betas({0.9, -0.1})), ValueError);
  EXPECT_THROW(Adam({p}, AdamOptions().eps(-1)), ValueError);
  EXPECT_THROW(AdamW({p}, AdamWOptions(-1)), ValueError);
  // A group with another optimizer's options.
  EXPECT_THROW(SGD({ParamGroup({p}, AdamOptions())}, SGDOptions(0.1)), ValueError);
  // Empty, duplicate, non-leaf and integer parameters.
  EXPECT_THROW(SGD(std::vector<Tensor>{}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(SGD({p, p}, SGDOptions(0.1)), ValueError);
  SGD opt({p}, SGDOptions(0.1));
  EXPECT_THROW(opt.add_param_group(ParamGroup({p})), ValueError);
  Tensor q = make_param({1.0});
  Tensor non_leaf = q * 2.0;
  EXPECT_THROW(opt.add_param_group(ParamGroup({non_leaf})), ValueError);
  EXPECT_THROW(opt.add_param_group(ParamGroup({arange(3)})), DTypeError);
  EXPECT_EQ(opt.param_groups().size(), 1u);  // failed adds change nothing
}

TEST(Optimizer, MismatchedGradIsAClearError) {
  Tensor p = make_param({1.0, 2.0});
  SGD opt({p}, SGDOptions(0.1));
  p.set_grad(ones({2}, kFloat32));  // float32 grad for a float64 param
  EXPECT_THROW(opt.step(), DTypeError);
  expect_values(p, {1.0, 2.0}, 0);
}

TEST(Optimizer, AdamMinimisesAQuadraticThroughAutograd) {
  // f(x, y) = (x - 3)^2 + 10 (y + 1)^2: Adam at lr 0.1 gets there in a few hundred steps.
  Tensor w = make_param({0.0, 0.0});
  Tensor target = from_vector<double>({3.0, -1.0}), scale = from_vector<double>({1.0, 10.0});
  Adam opt({w}, AdamOptions(0.1));
  for (int i = 0; i < 500; ++i) {
    opt.zero_grad();
    Tensor d = w - target;
    (scale * d * d).sum().backward();
    opt.step();
  }
  expect_values(w, {3.0, -1.0}, 1e-3);
}
