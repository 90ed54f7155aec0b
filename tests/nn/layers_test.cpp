// Layers: Linear (init and output), Sequential (nesting, indexing, push_back), activation
// modules, Flatten, Identity.
#include <cmath>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;

namespace {

double stddev(const std::vector<float>& v) {
  double m = 0, s = 0;
  for (float x : v) m += x;
  m /= v.size();
  for (float x : v) s += (x - m) * (x - m);
  return std::sqrt(s / v.size());
}

}  // namespace

TEST(Linear, DefaultInitBoundsAndStatistics) {
  manual_seed(0);
  nn::Linear lin(400, 300);
  EXPECT_EQ(lin->weight.sizes(), (Shape{300, 400}));
  EXPECT_EQ(lin->bias.sizes(), (Shape{300}));
  EXPECT_EQ(lin->weight.dtype(), kFloat32);
  EXPECT_TRUE(lin->weight.requires_grad() && lin->weight.is_leaf());
  const double bound = 1.0 / std::sqrt(400.0);  // kaiming_uniform_(a = sqrt 5)
  auto w = lin->weight.to_vector<float>();
  float lo = 1, hi = -1;
  double mean = 0;
  for (float v : w) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    mean += v;
  }
  mean /= w.size();
  EXPECT_GE(lo, -bound);
  EXPECT_LT(hi, bound);
  EXPECT_LT(lo, -0.99 * bound);  // the whole range is used
  EXPECT_GT(hi, 0.99 * bound);
  EXPECT_NEAR(mean, 0.0, 0.01 * bound);
  EXPECT_NEAR(stddev(w), bound / std::sqrt(3.0), 0.01 * bound);  // uniform's std
  auto b = lin->bias.to_vector<float>();
  for (float v : b) EXPECT_LE(std::abs(v), bound);
  EXPECT_NEAR(stddev(b), bound / std::sqrt(3.0), 0.1 * bound);
}

TEST(Linear, SeedMakesInitReproducible) {
  manual_seed(42);
  nn::Linear a(10, 7);
  manual_seed(42);
  nn::Linear b(10, 7);
  nn::Linear c(10, 7);  // the generator moved on
  EXPECT_EQ(a->weight.to_vector<float>(), b->weight.to_vector<float>());
  EXPECT_EQ(a->bias.to_vector<float>(), b->bias.to_vector<float>());
  EXPECT_NE(a->weight.to_vector<float>(), c->weight.to_vector<float>());
  Generator g1(9), g2(9);
  EXPECT_EQ(nn::Linear(3, 3, true, &g1)->weight.to_vector<float>(),
            nn::Linear(3, 3, true, &g2)->weight.to_vector<float>());
}

TEST(Linear, OutputMatchesHandComputation) {
  nn::Linear lin(3, 2);
  {
    NoGradGuard no_grad;
    lin->weight.copy_(from_vector<float>({1, 2, 3, -1, 0.5, 0}, Shape{2, 3}));
    lin->bias.copy_(tensor({0.25, -2}));
  }
  Tensor x = from_vector<float>({1, 0, -1, 2, 4, 6}, Shape{2, 3});
  // row 0: [1-3+0.25, -1+0-2] ; row 1: [2+8+18+0.25, -2+2-2]
  EXPECT_EQ(lin(x).to_vector<float>(), (std::vector<float>{-1.75f, -3.f, 28.25f, -2.f}));
  // Extra leading dims are batch dims.
  EXPECT_EQ(lin(x.view({1, 2, 3})).sizes(), (Shape{1, 2, 2}));
  // Gradients: d sum(y) / dW = column sums of x per output row; d/db = batch size.
  lin(x).sum().backward();
  EXPECT_EQ(lin->weight.grad().to_vector<float>(), (std::vector<float>{3, 4, 5, 3, 4, 5}));
  EXPECT_EQ(lin->bias.grad().to_vector<float>(), (std::vector<float>{2, 2}));

  nn::Linear no_bias(3, 2, false);
  EXPECT_FALSE(no_bias->bias.defined());
  EXPECT_EQ(no_bias->parameters().size(), 1u);
  EXPECT_THROW(lin(ones({2, 4})), ShapeError);
}

TEST(Sequential, IndexingPushBackAndNesting) {
  nn::Sequential seq(nn::Linear(4, 8), nn::ReLU());
  seq->push_back(nn::Sequential(nn::Linear(8, 8), nn::Tanh()));
  nn::Linear head(8, 2);
  seq->push_back(head);
  EXPECT_EQ(seq->size(), 4u);
  EXPECT_EQ(seq[1]->name(), "ReLU");
  EXPECT_EQ(seq->ptr<nn::Linear>(3), head.ptr());
  EXPECT_EQ(seq->at<nn::Linear>(0).out_features, 8);
  EXPECT_EQ(seq->at<nn::Sequential>(2).size(), 2u);
  EXPECT_THROW(seq->at<nn::Linear>(1), ValueError);
  EXPECT_THROW(seq[4], IndexError);

  std::vector<std::string> names;
  for (auto& [n, p] : seq->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias",
                                             "3.weight", "3.bias"}));

  // forward chains the modules in order.
  Tensor x = rand({3, 4});
  auto& inner = seq->at<nn::Sequential>(2);
  Tensor expected =
      head->forward(tanh(inner.at<nn::Linear>(0).forward(relu(seq->at<nn::Linear>(0).forward(x)))));
  EXPECT_EQ(seq(x).to_vector<float>(), expected.to_vector<float>());

  int count = 0;
  for (const auto& m : *seq) count += m != nullptr;
  EXPECT_EQ(count, 4);

  nn::Sequential empty;
  EXPECT_TRUE(empty(x).is_same(x));

  // A module that cannot take one tensor gives a clear error inside a Sequential.
  nn::Sequential bad(nn::MSELoss{});
  EXPECT_THROW(bad(x), Error);
}

TEST(Activations, ModulesMatchFormulas) {
  const std::vector<double> xs = {-3.0, -0.5, 0.0, 0.7, 2.5};
  Tensor x = from_vector<double>(xs);
  auto check = [&](const auto& m, auto ref) {
    auto got = m(x).template to_vector<double>();
    for (size_t i = 0; i < xs.size(); ++i)
      EXPECT_NEAR(got[i], ref(xs[i]), 1e-7) << m->name() << " at " << xs[i];
  };
  check(nn::ReLU(), [](double v) { return std::max(v, 0.0); });
  check(nn::Sigmoid(), [](double v) { return 1 / (1 + std::exp(-v)); });
  check(nn::Tanh(), [](double v) { return std::tanh(v); });
  check(nn::LeakyReLU(0.2), [](double v) { return v > 0 ? v : 0.2 * v; });
  check(nn::Softplus(2.0, 1.0),
        [](double v) { return 2.0 * v > 1.0 ? v : std::log1p(std::exp(2.0 * v)) / 2.0; });
  check(nn::GELU(), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
  check(nn::GELU("tanh"), [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  });
  check(nn::Identity(), [](double v) { return v; });
  EXPECT_THROW(nn::GELU("fast"), ValueError);
  EXPECT_THROW(nn::Softplus(0.0), ValueError);
  EXPECT_THROW(nn::Dropout(1.5), ValueError);
}

TEST(Flatten, MergesDims) {
  Tensor x = arange(0, 24, 1, kFloat32).view({2, 3, 4});
  EXPECT_EQ(nn::Flatten()(x).sizes(), (Shape{2, 12}));
  EXPECT_EQ(nn::Flatten(0, 1)(x).sizes(), (Shape{6, 4}));
  EXPECT_EQ(nn::Flatten(0)(x).to_vector<float>(), x.to_vector<float>());
  Tensor id = nn::Identity()(x);
  EXPECT_TRUE(id.is_same(x));
}
