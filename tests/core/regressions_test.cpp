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

// An in-place op whose operand views the memory it writes reads the old values (a copy of the
// operand), instead of elements it already overwrote.
TEST(Regressions, InPlaceOpsWithAnOverlappingOperandReadOldValues) {
  Tensor x = from_vector<float>({1, 2, 3, 4}, Shape{2, 2});
  x.add_(x.t());
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{2, 5, 5, 8}));
  Tensor y = from_vector<float>({1, 2, 3, 4}, Shape{2, 2});
  y.copy_(y.t());
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
  Tensor z = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  z.mul_(z[0]);  // row 0 is broadcast over both rows, and row 0 is written first
  EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{1, 4, 9, 4, 10, 18}));
  Tensor w = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  w[1].sub_(w[0]);  // disjoint rows of one storage
  w.add_(w);        // the very same view
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{2, 4, 6, 6, 6, 6}));
}

// Products with an empty inner or leading dim give empty or zero results, like PyTorch
// (they folded their leading dims with reshape(-1, k), which cannot infer a 0).
TEST(Regressions, ProductsWithZeroSizedDims) {
  Tensor p = matmul(ones({2, 3, 0}), ones({0, 4}));
  EXPECT_EQ(p.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(24, 0.f));
  EXPECT_EQ(matmul(ones({2, 0, 3}), ones({3, 4})).sizes(), (Shape{2, 0, 4}));
  Tensor x = ones({5, 0}).requires_grad_(true);
  Tensor w = ones({3, 0}).requires_grad_(true);
  Tensor b = from_vector<float>({1, 2, 3}).requires_grad_(true);
  Tensor out = linear(x, w, b);
  EXPECT_EQ(out.sizes(), (Shape{5, 3}));
  EXPECT_EQ(out.select(0, 4).to_vector<float>(), (std::vector<float>{1, 2, 3}));
  out.sum().backward();
  EXPECT_EQ(x.grad().sizes(), (Shape{5, 0}));
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{5, 5, 5}));
  Tensor none = linear(ones({0, 3}), ones({2, 3}));
  EXPECT_EQ(none.sizes(), (Shape{0, 2}));
}
