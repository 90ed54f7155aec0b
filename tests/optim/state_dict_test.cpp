// Optimizer state_dict / load_state_dict: the key layout, an exact continuation of
// training after a round trip (in memory and through a checkpoint file), and every kind of
// mismatch rejected without touching the optimizer.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using namespace ember::optim;
using V = std::vector<double>;

namespace {

Tensor make_param(const V& values) {
  Tensor p = from_vector<double>(values);
  p.requires_grad_();
  return p;
}

// Deterministic gradients that depend on the parameter values.
void feed_grads(std::vector<Tensor>& params, int step) {
  for (size_t k = 0; k < params.size(); ++k) {
    NoGradGuard no_grad;
    params[k].set_grad(params[k] * 2.0 - 0.25 * step + 0.1 * double(k));
  }
}

void train(Optimizer& opt, std::vector<Tensor>& params, int from, int to) {
  for (int t = from; t < to; ++t) {
    feed_grads(params, t);
    opt.step();
  }
}

std::vector<Tensor> clone_params(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params) {
    Tensor c = p.detach().clone();
    c.requires_grad_();
    out.push_back(c);
  }
  return out;
}

const Tensor* find(const StateDict& sd, const std::string& key) {
  for (const auto& [k, t] : sd)
    if (k == key) return &t;
  return nullptr;
}

StateDict without(StateDict sd, const std::string& key) {
  std::erase_if(sd, [&](const auto& kv) { return kv.first == key; });
  return sd;
}

StateDict with(StateDict sd, const std::string& key, Tensor value) {
  for (auto& [k, t] : sd)
    if (k == key) {
      t = value;
      return sd;
    }
  sd.emplace_back(key, value);
  return sd;
}

}  // namespace

TEST(OptimizerStateDict, KeyLayout) {
  std::vector<Tensor> params = {make_param({1, 2, 3}), make_param({4, 5})};
  Adam opt({ParamGroup({params[0]}), ParamGroup({params[1]}, AdamOptions(0.5).amsgrad(true))},
           AdamOptions(0.01));
  train(opt, params, 1, 3);
  const StateDict sd = opt.state_dict();
  ASSERT_NE(find(sd, "param_groups.0.params"), nullptr);
  EXPECT_EQ(find(sd, "param_groups.0.params")->to_vector<int64_t>(), std::vector<int64_t>{0});
  EXPECT_EQ(find(sd, "param_groups.1.params")->to_vector<int64_t>(), std::vector<int64_t>{1});
  EXPECT_DOUBLE_EQ(find(sd, "param_groups.0.lr")->item(), 0.01);
  EXPECT_DOUBLE_EQ(find(sd, "param_groups.1.lr")->item(), 0.5);
  EXPECT_DOUBLE_EQ(find(sd, "param_groups.1.beta2")->item(), 0.999);
  EXPECT_DOUBLE_EQ(find(sd, "param_groups.0.amsgrad")->item(), 0.0);
  EXPECT_DOUBLE_EQ(find(sd, "param_groups.1.amsgrad")->item(), 1.0);
  EXPECT_EQ(find(sd, "param_groups.1.lr")->dim(), 0);
  EXPECT_EQ(find(sd, "param_groups.1.lr")->dtype(), kFloat64);
  EXPECT_DOUBLE_EQ(find(sd, "state.0.step")->item(), 2.0);
  EXPECT_EQ(find(sd, "state.1.exp_avg")->sizes(), (Shape{2}));
  EXPECT_NE(find(sd, "state.1.max_exp_avg_sq"), nullptr);
  EXPECT_EQ(find(sd, "state.0.max_exp_avg_sq"), nullptr);
  // A snapshot: later steps do not change it.
  const V before = find(sd, "state.0.exp_avg")->to_vector<double>();
  train(opt, params, 3, 4);
  EXPECT_EQ(find(sd, "state.0.exp_avg")->to_vector<double>(), before);
}

// Trains 3 steps, snapshots, then continues the original and a fresh optimizer loaded from
// the snapshot over copies of the parameters: both must agree exactly.
template <class Opt, class Options>
void check_round_trip(const Options& options, bool through_file) {
  std::vector<Tensor> params = {make_param({0.5, -1.0, 2.0}), make_param({1.5, 0.25})};
  Opt opt(params, options);
  train(opt, params, 1, 4);
  std::vector<Tensor> copies = clone_params(params);
  StateDict sd = opt.state_dict();
  if (through_file) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("ember_optim_state_" + std::to_string(::getpid()) + ".ckpt"))
                                 .string();
    save(sd, path);
    sd = load(path);
    std::remove(path.c_str());
  }
  Options other_lr = options;
  other_lr.lr(123.0);
  Opt resumed(copies, other_lr);
  resumed.load_state_dict(sd);  // also restores the lr
  train(opt, params, 4, 7);
  train(resumed, copies, 4, 7);
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_EQ(params[k].to_vector<double>(), copies[k].to_vector<double>()) << "param " << k;
  // A fresh optimizer that skipped the load diverges, so the test can tell.
  std::vector<Tensor> fresh = clone_params(copies);
  Opt cold(fresh, options);
  train(cold, fresh, 7, 8);
  train(opt, params, 7, 8);
  EXPECT_NE(params[0].to_vector<double>(), fresh[0].to_vector<double>());
}

TEST(OptimizerStateDict, SgdMomentumRoundTrip) {
  check_round_trip<SGD>(SGDOptions(0.05).momentum(0.9).nesterov(true), false);
}

TEST(OptimizerStateDict, AdamAmsgradRoundTrip) {
  check_round_trip<Adam>(AdamOptions(0.05).amsgrad(true).weight_decay(0.01), false);
}

TEST(OptimizerStateDict, AdamWRoundTripThroughCheckpointFile) {
  check_round_trip<AdamW>(AdamOptions(AdamWOptions(0.05)), true);
}

TEST(OptimizerStateDict, MismatchesAreRejectedAndChangeNothing) {
  std::vector<Tensor> params = {make_param({1, 2, 3}), make_param({4, 5})};
  Adam opt(params, AdamOptions(0.1));
  train(opt, params, 1, 3);
  const StateDict good = opt.state_dict();

  std::vector<Tensor> other = clone_params(params);
  Adam target(other, AdamOptions(0.2));
  auto expect_rejected = [&](const StateDict& sd, const char* what) {
    try {
      target.load_state_dict(sd);
      ADD_FAILURE() << "accepted a state_dict with " << what;
    } catch (const Error&) {
    }
    EXPECT_DOUBLE_EQ(target.param_groups()[0].options().get_lr(), 0.2) << what;
    EXPECT_EQ(target.state(other[0]), nullptr) << what;
  };
  expect_rejected(without(good, "param_groups.0.beta1"), "a missing hyper-parameter");
  expect_rejected(without(good, "param_groups.0.params"), "a missing group");
  expect_rejected(with(good, "param_groups.0.params", from_vector<int64_t>({0})),
                  "a group of another size");
  expect_rejected(with(good, "param_groups.1.lr", scalar_tensor(0.1, kFloat64)), "an extra group");
  expect_rejected(with(good, "state.0.exp_avg", zeros({4}, kFloat64)), "a wrong shape");
  expect_rejected(with(good, "state.2.exp_avg", zeros({3}, kFloat64)), "a parameter too many");
  expect_rejected(with(good, "state.0.momentum_buffer", zeros({3}, kFloat64)), "a foreign buffer");
  expect_rejected(with(good, "state.0.step", scalar_tensor(1.5, kFloat64)), "a fractional step");
  expect_rejected(without(good, "state.1.exp_avg_sq"), "incomplete Adam state");
  expect_rejected(with(good, "param_groups.0.beta1", scalar_tensor(1.5, kFloat64)),
                  "an invalid hyper-parameter");
  expect_rejected(with(good, "param_groups.0.amsgrad", scalar_tensor(0.5, kFloat64)),
                  "a flag that is not 0 / 1");
  expect_rejected(with(good, "bogus", zeros({1})), "an unknown key");
  StateDict dup = good;
  dup.push_back(good.front());
  expect_rejected(dup, "a duplicate key");

  // SGD's state in an Adam optimizer, and the reverse.
  std::vector<Tensor> sp = clone_params(params);
  SGD sgd(sp, SGDOptions(0.1).momentum(0.9));
  train(sgd, sp, 1, 2);
  expect_rejected(sgd.state_dict(), "an SGD state_dict");
  EXPECT_THROW(sgd.load_state_dict(good), ValueError);

  EXPECT_NO_THROW(target.load_state_dict(good));
  EXPECT_DOUBLE_EQ(target.param_groups()[0].options().get_lr(), 0.1);
  EXPECT_EQ(target.state(other[0])->step, 2);
}

TEST(OptimizerStateDict, LoadedStateIsACopy) {
  std::vector<Tensor> params = {make_param({1, 2})};
  SGD opt(params, SGDOptions(0.1).momentum(0.9));
  train(opt, params, 1, 2);
  StateDict sd = opt.state_dict();
  std::vector<Tensor> other = clone_params(params);
  SGD target(other, SGDOptions(0.1).momentum(0.9));
  target.load_state_dict(sd);
  const Tensor* buf = target.state(other[0])->find("momentum_buffer");
  ASSERT_NE(buf, nullptr);
  EXPECT_FALSE(buf->shares_storage(*find(sd, "state.0.momentum_buffer")));
}
