// The multi-tensor optimizer updates (fused::sgd_multi_step_, adam_multi_step_) against the
// per-parameter ones, bit for bit, on every device: tensors of many sizes (a tiny one, one of
// several chunks, enough tensors for more than one CUDA launch), step counts read from and
// counted in device memory, and the learning rate read there when the update runs.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include <ember/core/fused.h>
#include <ember/ember.h>

using namespace ember;

namespace {

struct Group {
  std::vector<Tensor> p, g, m, v, vmax;
};

// `count` parameters of varied sizes (7 elements up to several chunks of the CUDA kernel).
Group make_group(int count, uint64_t seed) {
  Generator gen(seed);
  Group out;
  for (int k = 0; k < count; ++k) {
    const int64_t n = k % 3 == 0 ? 7 : k % 3 == 1 ? 40001 : 513;
    out.p.push_back(randn({n}, kFloat32, &gen));
    out.g.push_back(randn({n}, kFloat32, &gen));
    out.m.push_back(zeros({n}));
    out.v.push_back(zeros({n}));
    out.vmax.push_back(zeros({n}));
  }
  return out;
}

Group clone(const Group& a) {
  Group out;
  for (const Tensor& t : a.p) out.p.push_back(t.clone());
  for (const Tensor& t : a.g) out.g.push_back(t.clone());
  for (const Tensor& t : a.m) out.m.push_back(t.clone());
  for (const Tensor& t : a.v) out.v.push_back(t.clone());
  for (const Tensor& t : a.vmax) out.vmax.push_back(t.clone());
  return out;
}

void expect_identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].to_vector<float>(), b[k].to_vector<float>()) << "tensor " << k;
  }
}

Tensor lr_tensor(double lr) {
  return from_vector<double>({lr}, std::nullopt, TensorOptions(kFloat64).device(default_device()));
}

std::vector<int64_t> iota(int n) {
  std::vector<int64_t> out;
  for (int k = 0; k < n; ++k) out.push_back(k);
  return out;
}

TEST(MultiTensorOptim, AdamMatchesThePerParameterUpdateBitForBit) {
  for (bool decoupled : {false, true}) {
    for (bool amsgrad : {false, true}) {
      constexpr int kCount = 30;  // more than one CUDA launch's worth of tensors
      Group one = make_group(kCount, 5), multi = clone(one);
      Tensor steps = zeros({kCount}, kInt64);
      const Tensor lr = lr_tensor(1e-2);
      NoGradGuard no_grad;
      for (int t = 1; t <= 3; ++t) {
        for (int k = 0; k < kCount; ++k) {
          fused::adam_step_(one.p[k], one.g[k], one.m[k], one.v[k],
                            amsgrad ? &one.vmax[k] : nullptr, 1e-2, 0.9, 0.999, 1e-8, 0.1,
                            decoupled, t);
        }
        fused::adam_multi_step_(multi.p, multi.g, multi.m, multi.v,
                                amsgrad ? multi.vmax : std::vector<Tensor>{}, lr, steps,
                                iota(kCount), 0.9, 0.999, 1e-8, 0.1, decoupled);
      }
      expect_identical(one.p, multi.p);
      expect_identical(one.m, multi.m);
      expect_identical(one.v, multi.v);
      EXPECT_EQ(steps.to_vector<int64_t>(), std::vector<int64_t>(kCount, 3))
          << "each tensor's step is counted once per update";
    }
  }
}

TEST(MultiTensorOptim, SgdMatchesThePerParameterUpdateBitForBit) {
  for (double momentum : {0.0, 0.9}) {
    for (bool nesterov : {false, true}) {
      if (nesterov && momentum == 0.0) continue;
      constexpr int kCount = 5;
      Group one = make_group(kCount, 9), multi = clone(one);
      Tensor steps = zeros({kCount}, kInt64);
      NoGradGuard no_grad;
      for (int t = 0; t < 3; ++t) {
        for (int k = 0; k < kCount; ++k) {
          fused::sgd_step_(one.p[k], one.g[k], momentum != 0 ? &one.m[k] : nullptr, 0.1, momentum,
                           0.0, 0.01, nesterov, t == 0);
        }
        fused::sgd_multi_step_(multi.p, multi.g, momentum != 0 ? multi.m : std::vector<Tensor>{},
                               lr_tensor(0.1), steps, iota(kCount), momentum, 0.0, 0.01, nesterov);
      }
      expect_identical(one.p, multi.p);
      if (momentum != 0) expect_identical(one.m, multi.m);
    }
  }
}

// The step counts and the rate are data: a parameter whose count says 4 takes update 5, and
// the rate is whatever the tensor holds when the update runs.
TEST(MultiTensorOptim, StepsAndLearningRateAreReadFromTheirTensors) {
  Group one = make_group(2, 3), multi = clone(one);
  Tensor steps =
      from_vector<int64_t>({9, 4, 0}, std::nullopt, TensorOptions(kInt64).device(default_device()));
  Tensor lr = lr_tensor(0.5);
  lr.fill_(0.25);
  NoGradGuard no_grad;
  fused::adam_step_(one.p[0], one.g[0], one.m[0], one.v[0], nullptr, 0.25, 0.9, 0.999, 1e-8, 0,
                    false, 1);
  fused::adam_step_(one.p[1], one.g[1], one.m[1], one.v[1], nullptr, 0.25, 0.9, 0.999, 1e-8, 0,
                    false, 5);
  // Parameter 0 uses slot 2 (count 0), parameter 1 slot 1 (count 4).
  fused::adam_multi_step_(multi.p, multi.g, multi.m, multi.v, {}, lr, steps, {2, 1}, 0.9, 0.999,
                          1e-8, 0, false);
  expect_identical(one.p, multi.p);
  EXPECT_EQ(steps.to_vector<int64_t>(), (std::vector<int64_t>{9, 5, 1}));
}

// A tensor of more chunks than one CUDA launch has blocks (the blocks loop over its chunks)
// between small ones (the lists are cut before and after it).
TEST(MultiTensorOptim, AHugeTensorBetweenSmallOnesMatchesThePerParameterUpdate) {
  Generator gen(8);
  Group one;
  for (int64_t n : {int64_t{5}, int64_t{320} * 16384 + 7, int64_t{3}}) {
    one.p.push_back(randn({n}, kFloat32, &gen));
    one.g.push_back(randn({n}, kFloat32, &gen));
    one.m.push_back(zeros({n}));
    one.v.push_back(zeros({n}));
  }
  Group multi = clone(one);
  Tensor steps = zeros({3}, kInt64);
  NoGradGuard no_grad;
  for (int t = 1; t <= 2; ++t) {
    for (int k = 0; k < 3; ++k) {
      fused::adam_step_(one.p[k], one.g[k], one.m[k], one.v[k], nullptr, 1e-3, 0.9, 0.999, 1e-8, 0,
                        false, t);
    }
    fused::adam_multi_step_(multi.p, multi.g, multi.m, multi.v, {}, lr_tensor(1e-3), steps, iota(3),
                            0.9, 0.999, 1e-8, 0, false);
  }
  expect_identical(one.p, multi.p);
  EXPECT_EQ(steps.to_vector<int64_t>(), std::vector<int64_t>(3, 2));
}

// Momentum switched on after steps without it: the new buffer's first update must be a
// first one (it starts at the gradient), since steps without momentum are not counted.
TEST(MultiTensorOptim, MomentumSwitchedOnLaterStartsItsBufferFresh) {
  Tensor p = full({4}, 1.0).requires_grad_(true);
  optim::SGD opt({p}, optim::SGDOptions(0.1));
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    (p * p).sum().backward();
    opt.step();
  }
  static_cast<optim::SGDOptions&>(opt.param_groups()[0].options()).momentum(0.9);
  const std::vector<float> before = p.to_vector<float>();
  opt.zero_grad();
  (p * p).sum().backward();
  const std::vector<float> g = p.grad().to_vector<float>();
  opt.step();
  const std::vector<float> after = p.to_vector<float>();
  for (size_t i = 0; i < after.size(); ++i) EXPECT_FLOAT_EQ(after[i], before[i] - 0.1f * g[i]) << i;
}

TEST(MultiTensorOptim, ArgumentChecks) {
  Group a = make_group(2, 1);
  Tensor steps = zeros({2}, kInt64);
  const Tensor lr = lr_tensor(0.1);
  NoGradGuard no_grad;
  EXPECT_THROW(fused::adam_multi_step_(a.p, a.g, a.m, a.v, {}, lr, steps, {0, 0}, 0.9, 0.999, 1e-8,
                                       0, false),
               IndexError)
      << "a step slot used twice";
  EXPECT_THROW(fused::adam_multi_step_(a.p, a.g, a.m, a.v, {}, lr, steps, {0, 2}, 0.9, 0.999, 1e-8,
                                       0, false),
               IndexError);
  EXPECT_THROW(fused::adam_multi_step_(a.p, {a.g[0]}, a.m, a.v, {}, lr, steps, {0, 1}, 0.9, 0.999,
                                       1e-8, 0, false),
               ValueError);
  EXPECT_THROW(fused::sgd_multi_step_(a.p, a.g, {}, zeros({1}), steps, {0, 1}, 0, 0, 0, false),
               ValueError)
      << "lr must be float64";
  EXPECT_THROW(fused::sgd_multi_step_(a.p, a.g, {}, lr, steps, {0, 1}, 0.9, 0, 0, false),
               ValueError)
      << "momentum without buffers";
  std::vector<Tensor> bad_grad{a.g[0], zeros({3})};
  EXPECT_THROW(fused::sgd_multi_step_(a.p, bad_grad, {}, lr, steps, {0, 1}, 0, 0, 0, false),
               ShapeError);
}

}  // namespace
