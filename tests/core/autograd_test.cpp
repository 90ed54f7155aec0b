// Autograd engine behaviour, including the PyTorch tutorial cases ember must reproduce
// exactly.
#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;

static Tensor scalar(double v, bool grad = true) {
  return scalar_tensor(v, TensorOptions().requires_grad(grad));
}

TEST(AutogradTutorial, CubeRetainGraphAccumulatesAndZeroes) {
  Tensor x = scalar(5);
  Tensor y = x * x * x;  // y = x^3, dy/dx = 3 x^2 = 75
  y.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 75.f);
  y.backward();  // gradients accumulate
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 150.f);
  x.grad().zero_();
  Tensor y2 = pow(x, 3.0);
  y2.backward();
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 75.f);
}

TEST(AutogradTutorial, Reciprocal) {
  Tensor x = scalar(2);
  Tensor y = 1.0 / x;
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item<float>(), -0.25f);
}

TEST(AutogradTutorial, ChainedLinearAndGrad) {
  Tensor x = scalar(1, false), w1 = scalar(2), b1 = scalar(1), w2 = scalar(2), b2 = scalar(1);
  Tensor y1 = x * w1 + b1;
  Tensor y2 = y1 * w2 + b2;
  EXPECT_FLOAT_EQ(autograd::grad({y2}, {y1}, {}, true)[0].item<float>(), 2.f);
  EXPECT_FLOAT_EQ(autograd::grad({y1}, {w1}, {}, true)[0].item<float>(), 1.f);
  EXPECT_FLOAT_EQ(autograd::grad({y2}, {w1}, {}, true)[0].item<float>(), 2.f);
  // autograd::grad does not touch .grad.
  EXPECT_FALSE(w1.grad().defined());
}

TEST(AutogradTutorial, LinearEqualsMatmulTransposed) {
  Generator g(3);
  Tensor x = randn({4, 5}, kFloat32, &g), w = randn({3, 5}, kFloat32, &g);
  Tensor b = randn({3}, kFloat32, &g);
  std::vector<float> a = linear(x, w).to_vector<float>();
  std::vector<float> m = matmul(x, w.t()).to_vector<float>();
  ASSERT_EQ(a.size(), m.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], m[i], 1e-5);
  std::vector<float> ab = linear(x, w, b).to_vector<float>();
  std::vector<float> mb = (matmul(x, w.t()) + b).to_vector<float>();
  for (size_t i = 0; i < ab.size(); ++i) EXPECT_NEAR(ab[i], mb[i], 1e-5);
}

TEST(Autograd, SharedSubexpressionSumsGradients) {
  Tensor x = scalar(3);
  Tensor a = x * 2.0;
  Tensor y = a * a + a;  // y = 4x^2 + 2x -> dy/dx = 8x + 2 = 26
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 26.f);
}

TEST(Autograd, BackwardWithGradientForNonScalar) {
  Tensor x = tensor({1, 2, 3}, TensorOptions().requires_grad(true));
  Tensor y = x * x;
  EXPECT_THROW(y.backward(), AutogradError);
  y = x * x;
  y.backward(tensor({1, 0.5, 2}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 2, 12}));
  EXPECT_THROW((x * x).backward(tensor({1, 2})), ShapeError);
}

// A leaf's first gradient may be the engine's own buffer (no copy), but never memory that
// anything else can see: another leaf's gradient or the caller's `gradient`.
TEST(Autograd, LeafGradientsOwnTheirMemory) {
  Tensor a = tensor({1, 2}, TensorOptions().requires_grad(true));
  Tensor b = tensor({3, 4}, TensorOptions().requires_grad(true));
  (a + b).backward(ones({2}));  // add's backward hands the same gradient to both leaves
  EXPECT_FALSE(a.grad().shares_storage(b.grad()));
  a.grad().mul_(3.0);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{3, 3}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{1, 1}));

  Tensor x = tensor({1, 2, 3}, TensorOptions().requires_grad(true));
  Tensor g = tensor({5, 6, 7});
  x.clone().backward(g);  // clone's backward returns `g` itself
  EXPECT_FALSE(x.grad().shares_storage(g));
  g.fill_(0.0);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, 6, 7}));

  Tensor w = tensor({1, 2, 3, 4}, TensorOptions().requires_grad(true));
  Tensor gw = tensor({1, 1, 1, 1}).view({2, 2});
  w.view({2, 2}).backward(gw);  // the view's backward reshapes the caller's tensor
  EXPECT_FALSE(w.grad().shares_storage(gw));
  EXPECT_EQ(w.grad().sizes(), (Shape{4}));
}

TEST(Autograd, SecondBackwardThroughFreedGraphThrows) {
  Tensor x = scalar(2);
  Tensor y = x * x;
  y.backward();
  try {
    y.backward();
    FAIL() << "expected an AutogradError";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Autograd, NoGradGuardAndDetach) {
  Tensor x = scalar(2);
  {
    NoGradGuard guard;
    Tensor y = x * 3.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_THROW(y.backward(), AutogradError);
  }
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.shares_storage(x));
  Tensor y = x * d;  // d is a constant: dy/dx = d = 2
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 2.f);
}

TEST(Autograd, VersionCounterCatchesInPlaceChangeOfSavedTensor) {
  Tensor w = scalar(3);
  Tensor x = tensor({2.0});
  Tensor y = (x * w).sum();  // MulBackward saved x
  x.add_(1.0);               // x needs no grad, so this is allowed... but it was saved
  try {
    y.backward();
    FAIL() << "expected an AutogradError";
  } catch (const AutogradError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("modified by an in-place operation"), std::string::npos) << msg;
    EXPECT_NE(msg.find("MulBackward"), std::string::npos) << msg;
    EXPECT_NE(msg.find("version 0"), std::string::npos) << msg;
  }
}

TEST(Autograd, InPlaceOnLeafRequiringGradIsRejected) {
  Tensor w = scalar(1);
  EXPECT_THROW(w.add_(1.0), AutogradError);
  {
    NoGradGuard guard;  // how optimizers update parameters
    w.add_(1.0);
  }
  EXPECT_FLOAT_EQ(w.item<float>(), 2.f);
}

TEST(Autograd, GradReportsUnusedInputs) {
  Tensor a = scalar(1), b = scalar(2);
  Tensor y = a * 3.0;
  EXPECT_THROW(autograd::grad({y}, {b}, {}, true), AutogradError);
  auto g = autograd::grad({y}, {a, b}, {}, false, /*allow_unused=*/true);
  EXPECT_FLOAT_EQ(g[0].item<float>(), 3.f);
  EXPECT_FALSE(g[1].defined());
}

TEST(Autograd, RetainGradOnNonLeaf) {
  Tensor x = scalar(2);
  Tensor h = x * x;
  h.retain_grad();
  Tensor y = h * 3.0;
  y.backward();
  EXPECT_FLOAT_EQ(h.grad().item<float>(), 3.f);
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 12.f);
}

TEST(Autograd, GradientsFlowThroughViews) {
  Tensor x = arange(0, 6, 1, kFloat32).view({2, 3}).detach();
  x.requires_grad_(true);
  Tensor y = (x.t().slice(0, 1, 3) * 2.0).sum() + x.select(0, 1).sum();
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 2, 2, 1, 3, 3}));
}

TEST(Autograd, RequiresGradOnlyForFloats) {
  Tensor i = arange(3);
  EXPECT_THROW(i.requires_grad_(true), DTypeError);
  Tensor x = scalar(1);
  Tensor y = x * 2.0;
  EXPECT_THROW(y.requires_grad_(false), AutogradError);
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn()->name(), "ScalarOpBackward");
}
