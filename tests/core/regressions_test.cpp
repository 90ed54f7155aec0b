// Regressions found in review: each test names the behaviour PyTorch users rely on.
#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;

TEST(Regressions, ScaledInPlaceAddOnALeafRequiringGradIsRejected) {
  Tensor w = ones({2}, TensorOptions().requires_grad(true));
  EXPECT_THROW(w.add_(ones({2}), 0.5), AutogradError);
  EXPECT_THROW(w.sub_(ones({2})), AutogradError);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{1, 1}));  // untouched
  NoGradGuard no_grad;
  w.sub_(ones({2}), 0.5);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{0.5, 0.5}));
}

TEST(Regressions, RetainGradTwiceStillDeliversTheGradientOnce) {
  Tensor x = scalar_tensor(2, TensorOptions().requires_grad(true));
  Tensor h = x * x;
  h.retain_grad();
  h.retain_grad();
  (h * 3.0).backward();
  EXPECT_FLOAT_EQ(h.grad().item<float>(), 3.f);
}

TEST(Regressions, ScalarComparisonsDoNotTruncateTheScalar) {
  EXPECT_EQ(lt(arange(5), 2.5).to_vector<bool>(),
            (std::vector<bool>{true, true, true, false, false}));
  EXPECT_EQ(eq(arange(5), 2.5).to_vector<bool>(), std::vector<bool>(5, false));
  Tensor b = from_vector<bool>({true, false});
  EXPECT_EQ(gt(b, 0.5).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(eq(arange(3), 1.0).to_vector<bool>(), (std::vector<bool>{false, true, false}));
}

TEST(Regressions, FullMaxSharesTheGradientAmongTies) {
  Tensor x = tensor({1, 3, 3}, TensorOptions().requires_grad(true));
  x.max().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0.5, 0.5}));
  Tensor y = tensor({2, -1, -1, 5}, TensorOptions().requires_grad(true));
  (y.min() * 4.0).backward();
  EXPECT_EQ(y.grad().to_vector<float>(), (std::vector<float>{0, 2, 2, 0}));
}

TEST(Regressions, PowGradientAtZeroToTheZeroIsZero) {
  Tensor a = zeros({1}, TensorOptions().requires_grad(true));
  pow(a, zeros({1})).sum().backward();
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{0}));
}

TEST(Regressions, ZeroDimTensorsHaveNoSizesOrSoftmaxDims) {
  Tensor s = ones({5}).select(0, 2);
  EXPECT_THROW(s.size(0), IndexError);
  EXPECT_THROW(s.stride(-1), IndexError);
  EXPECT_THROW(softmax(s, 7), IndexError);
  EXPECT_FLOAT_EQ(softmax(s, 0).item<float>(), 1.f);
  EXPECT_THROW(ones({1}).expand({-2}), ShapeError);
}

TEST(Regressions, GradOfUnusedLeafStaysUndefinedBesideAUsedOne) {
  for (int i = 0; i < 50; ++i) {  // address reuse was what mixed the captures up
    Tensor a = ones({2}, TensorOptions().requires_grad(true));
    Tensor b = ones({2}, TensorOptions().requires_grad(true));
    auto g = autograd::grad({(b * 2.0).sum()}, {a, b}, {}, false, /*allow_unused=*/true);
    EXPECT_FALSE(g[0].defined());
    EXPECT_EQ(g[1].to_vector<float>(), (std::vector<float>{2, 2}));
  }
}
