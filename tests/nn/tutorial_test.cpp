// User-defined modules as the PyTorch / d2l tutorials write them: an MLP with named layers,
// a module with a constant weight and Python-like control flow, and a hand-written
// sequential container. Each is run forward and backward and checked.
#include <cmath>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "gradcheck.h"

using namespace ember;
using ember::testing::gradcheck;
using ember::testing::rand_double;

namespace {

struct MLPImpl : nn::Module {
  MLPImpl() {
    hidden = register_module("hidden", nn::Linear(4, 5));
    out = register_module("out", nn::Linear(5, 3));
  }
  Tensor forward(const Tensor& x) override { return out(relu(hidden(x))); }
  nn::Linear hidden{nullptr}, out{nullptr};
};
EMBER_MODULE(MLP);

// d2l's FixedHiddenMLP: a constant random weight that is never trained, a layer used twice
// (shared parameters), and a data-dependent loop.
struct FixedHiddenMLP : nn::Module {
  FixedHiddenMLP() {
    Generator gen(11);
    rand_weight = register_buffer("rand_weight", rand({6, 6}, kFloat32, &gen));
    linear = register_module("linear", nn::Linear(6, 6));
  }
  Tensor forward(const Tensor& input) override {
    Tensor x = linear->forward(input);
    x = relu(matmul(x, rand_weight) + 1.0);
    x = linear->forward(x);
    halvings = 0;
    while (x.abs().sum().item<double>() > 1) {
      x = x / 2;
      ++halvings;
    }
    return x.sum();
  }
  Tensor rand_weight;
  nn::Linear linear{nullptr};
  int halvings = 0;
};

// A user's own container: children registered under their index, run in order.
struct MySequential : nn::Module {
  template <class... M>
  explicit MySequential(M... modules) {
    int i = 0;
    (register_module(std::to_string(i++), modules), ...);
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    for (auto& child : children()) y = child->forward(y);
    return y;
  }
};

// y = x Wᵀ + b computed element by element in double.
std::vector<double> affine(const std::vector<double>& x, int64_t rows, const nn::LinearImpl& l) {
  auto w = l.weight.to_vector<double>();
  auto b = l.bias.to_vector<double>();
  std::vector<double> y(rows * l.out_features);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < l.out_features; ++o) {
      double acc = b[o];
      for (int64_t i = 0; i < l.in_features; ++i)
        acc += x[r * l.in_features + i] * w[o * l.in_features + i];
      y[r * l.out_features + o] = acc;
    }
  return y;
}

}  // namespace

TEST(Tutorial, MLPForwardMatchesHandComputationAndGradchecks) {
  manual_seed(3);
  MLP net;
  std::vector<std::string> names;
  for (auto& [n, p] : net->named_parameters()) names.push_back(n);
  EXPECT_EQ(names,
            (std::vector<std::string>{"hidden.weight", "hidden.bias", "out.weight", "out.bias"}));

  Tensor x = rand_double({2, 4}, 5).to(kFloat32);
  auto h = affine(x.to_vector<double>(), 2, *net->hidden);
  for (double& v : h) v = std::max(v, 0.0);
  auto expected = affine(h, 2, *net->out);
  auto got = net(x).to_vector<float>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5);

  // Backward: the output bias gradient of sum(y) is the batch size per output.
  net(x).sum().backward();
  EXPECT_EQ(net->out->bias.grad().to_vector<float>(), std::vector<float>(3, 2.f));
  EXPECT_TRUE(net->hidden->weight.grad().defined());

  // Every parameter's gradient against finite differences, in float64.
  net->to(kFloat64);
  Tensor xd = x.to(kFloat64);
  std::vector<Tensor> inputs = net->parameters();
  inputs.push_back(xd);
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>&) { return net(xd); }, inputs));
}

TEST(Tutorial, ConstantWeightAndControlFlow) {
  manual_seed(4);
  FixedHiddenMLP net;
  // The constant weight is state but not a parameter.
  EXPECT_EQ(net.parameters().size(), 2u);  // linear.weight and linear.bias, used twice
  EXPECT_EQ(net.buffers().size(), 1u);
  EXPECT_FALSE(net.rand_weight.requires_grad());
  auto sd = net.state_dict();
  EXPECT_EQ(sd[0].first, "rand_weight");

  Tensor x = rand_double({3, 6}, 9, 0, 1).to(kFloat32);
  Tensor out = net.forward(x);
  // Reference: the same computation without the loop, then the halvings counted by hand.
  Tensor y;
  {
    NoGradGuard no_grad;
    Tensor h = relu(matmul(linear(x, net.linear->weight, net.linear->bias), net.rand_weight) + 1.0);
    y = linear(h, net.linear->weight, net.linear->bias);
  }
  double total = y.abs().sum().item<double>();
  int k = 0;
  while (total > 1) {
    total /= 2;
    ++k;
  }
  EXPECT_EQ(net.halvings, k);
  EXPECT_GT(k, 0);  // the loop really ran
  EXPECT_NEAR(out.item<double>(), y.sum().item<double>() / std::ldexp(1.0, k), 1e-5);

  out.backward();
  EXPECT_TRUE(net.linear->weight.grad().defined());
  EXPECT_FALSE(net.rand_weight.grad().defined());

  // The shared layer's gradient sums both uses; check it numerically in float64 (the loop
  // count is constant under tiny perturbations).
  net.to(kFloat64);
  Tensor xd = x.to(kFloat64);
  EXPECT_TRUE(
      gradcheck([&](const std::vector<Tensor>&) { return net.forward(xd); }, net.parameters()));
}

TEST(Tutorial, UserWrittenSequentialContainer) {
  manual_seed(5);
  nn::Linear l1(8, 16);
  nn::ReLU act;
  nn::Linear l2(16, 4);
  MySequential mine(l1, act, l2);
  nn::Sequential builtin(l1, act, l2);  // the same modules: outputs must agree exactly

  std::vector<std::string> names;
  for (auto& [n, p] : mine.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));

  Tensor x = rand_double({5, 8}, 6).to(kFloat32);
  Tensor a = mine(x), b = builtin(x);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_EQ(a.sizes(), (Shape{5, 4}));

  a.sum().backward();
  for (auto& p : mine.parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(p.grad().abs().sum().item<float>(), 0.f);
  }
  EXPECT_EQ(l2->bias.grad().to_vector<float>(), std::vector<float>(4, 5.f));
}
