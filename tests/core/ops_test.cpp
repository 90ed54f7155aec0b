// Op values against hand-computed expectations.
#include <cmath>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;
using F = std::vector<float>;

static void expect_near(const Tensor& t, const F& expected, float tol = 1e-5f) {
  F got = t.to_vector<float>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "at " << i;
}

TEST(Ops, BroadcastArithmetic) {
  Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor col = from_vector<float>({10, 20}, Shape{2, 1});
  expect_near(a + col, {11, 12, 13, 24, 25, 26});
  expect_near(a * tensor({1, 0, -1}), {1, 0, -3, 4, 0, -6});
  expect_near(a - 1.0, {0, 1, 2, 3, 4, 5});
  expect_near(2.0 / a.slice(1, 0, 2), {2, 1, 0.5, 0.4});
  Tensor i = arange(4) + 1;  // int64 stays int64
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_EQ((i / 2).dtype(), kFloat32);  // true division
  EXPECT_EQ((i * 0.5).dtype(), kFloat32);
  EXPECT_EQ((tensor({1}) + tensor({1}, kFloat64)).dtype(), kFloat64);
}

TEST(Ops, UnaryValues) {
  Tensor x = tensor({-2.5, -0.5, 0.0, 0.5, 2.5});
  expect_near(relu(x), {0, 0, 0, 0.5, 2.5});
  expect_near(abs(x), {2.5, 0.5, 0, 0.5, 2.5});
  expect_near(sign(x), {-1, -1, 0, 1, 1});
  expect_near(round(x), {-2, -0, 0, 0, 2});  // half to even
  expect_near(floor(x), {-3, -1, 0, 0, 2});
  expect_near(clamp(x, -1.0, 1.0), {-1, -0.5, 0, 0.5, 1});
  expect_near(sigmoid(tensor({0})), {0.5});
  expect_near(softplus(tensor({0})), {std::log(2.f)});
  expect_near(gelu(tensor({1})), {0.8413447f});
  expect_near(leaky_relu(tensor({-2, 3}), 0.1), {-0.2f, 3});
  // tanh(x) = 2 sigmoid(2x) - 1
  Tensor y = tensor({-3, -1, 0, 0.7, 2});
  F lhs = tanh(y).to_vector<float>(), rhs = (2.0 * sigmoid(2.0 * y) - 1.0).to_vector<float>();
  for (size_t k = 0; k < lhs.size(); ++k) EXPECT_NEAR(lhs[k], rhs[k], 1e-6);
}

TEST(Ops, Reductions) {
  Tensor a = arange(0, 24, 1, kFloat32).view({2, 3, 4});
  EXPECT_FLOAT_EQ(a.sum().item<float>(), 276.f);
  EXPECT_FLOAT_EQ(a.mean().item<float>(), 11.5f);
  expect_near(sum(a, {1}), {12, 15, 18, 21, 48, 51, 54, 57});
  expect_near(sum(a, {0, 2}), {60, 92, 124});
  EXPECT_EQ(sum(a, {0, 2}, true).sizes(), (Shape{1, 3, 1}));
  expect_near(mean(a, {-1}), {1.5, 5.5, 9.5, 13.5, 17.5, 21.5});
  expect_near(mean(a, {0, 2}), {7.5, 11.5, 15.5});
  EXPECT_EQ(sum(arange(5)).dtype(), kInt64);
  EXPECT_EQ(sum(arange(5)).item<int64_t>(), 10);
}

TEST(Ops, MaxMinArgmaxWithTies) {
  Tensor a = from_vector<float>({1, 5, 5, 2, 0, 7, 7, -1}, Shape{2, 4});
  auto [values, indices] = max(a, 1);
  expect_near(values, {5, 7});
  EXPECT_EQ(indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));  // first on ties
  auto [mv, mi] = min(a, 0, true);
  EXPECT_EQ(mv.sizes(), (Shape{1, 4}));
  expect_near(mv, {0, 5, 5, -1});
  EXPECT_EQ(mi.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(argmax(a).item<int64_t>(), 5);
  EXPECT_EQ(argmin(a, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 3}));
  EXPECT_FLOAT_EQ(max(a).item<float>(), 7.f);
  // The gradient of max(dim) lands on the selected index.
  Tensor x = a.clone().requires_grad_(true);
  std::get<0>(max(x, 1)).sum().backward();
  expect_near(x.grad(), {0, 1, 0, 0, 0, 1, 0, 0});
}

TEST(Ops, MatmulValues) {
  Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor b = from_vector<float>({7, 8, 9, 10, 11, 12}, Shape{3, 2});
  expect_near(mm(a, b), {58, 64, 139, 154});
  expect_near(matmul(a, tensor({1, 0, -1})), {-2, -2});
  EXPECT_FLOAT_EQ(matmul(tensor({1, 2, 3}), tensor({4, 5, 6})).item<float>(), 32.f);
  Tensor ba = arange(0, 12, 1, kFloat32).view({2, 2, 3});
  Tensor bb = ones({2, 3, 1});
  expect_near(bmm(ba, bb), {3, 12, 21, 30});
  expect_near(matmul(ba, tensor({1, 1, 1})), {3, 12, 21, 30});
  expect_near(linear(a, from_vector<float>({1, 1, 1}, Shape{1, 3}), tensor({0.5})), {6.5, 15.5});
}

TEST(Ops, SoftmaxAndCrossEntropyHandComputed) {
  Tensor logits = from_vector<float>({1, 2, 3, 1, 1, 1}, Shape{2, 3});
  const float e1 = std::exp(1.f), e2 = std::exp(2.f), e3 = std::exp(3.f), z = e1 + e2 + e3;
  expect_near(softmax(logits, 1), {e1 / z, e2 / z, e3 / z, 1 / 3.f, 1 / 3.f, 1 / 3.f});
  expect_near(log_softmax(logits, 1).exp().sum({1}), {1, 1});
  Tensor target = from_vector<int64_t>({2, 0});
  const float l0 = std::log(z) - 3.f, l1 = std::log(3.f);
  expect_near(cross_entropy(logits, target, Reduction::None), {l0, l1});
  EXPECT_NEAR(cross_entropy(logits, target).item<float>(), (l0 + l1) / 2, 1e-6);
  EXPECT_NEAR(cross_entropy(logits, target, Reduction::Sum).item<float>(), l0 + l1, 1e-6);
  // ignore_index: the mean is over the remaining rows only.
  Tensor ignored = from_vector<int64_t>({2, -100});
  EXPECT_NEAR(cross_entropy(logits, ignored).item<float>(), l0, 1e-6);
  EXPECT_NEAR(nll_loss(log_softmax(logits, 1), target).item<float>(), (l0 + l1) / 2, 1e-6);
  EXPECT_NEAR(mse_loss(tensor({1, 2}), tensor({0, 4})).item<float>(), 2.5, 1e-6);
  // Gradient of the mean loss: (softmax - onehot) / N.
  Tensor x = logits.clone().requires_grad_(true);
  cross_entropy(x, target).backward();
  expect_near(x.grad(),
              {e1 / z / 2, e2 / z / 2, (e3 / z - 1) / 2, (1 / 3.f - 1) / 2, 1 / 6.f, 1 / 6.f});
}

TEST(Ops, GatherScatterAdd) {
  Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor idx = from_vector<int64_t>({2, 0, 1, 1}, Shape{2, 2});
  expect_near(gather(a, 1, idx), {3, 1, 5, 5});
  Tensor out = scatter_add(zeros({2, 3}), 1, idx, ones({2, 2}));
  expect_near(out, {1, 0, 1, 0, 2, 0});
}

// A row index broadcast over the other dims (the whole-row copy path) against the same
// index materialised (the general path), along dim 0 and dim 1, with duplicate rows.
TEST(Ops, GatherWithBroadcastRowIndexMatchesMaterialised) {
  Tensor a = arange(0, 24, 1, kFloat32).reshape({4, 6});
  Tensor rows = from_vector<int64_t>({3, 0, 3});
  Tensor by_rows = rows.unsqueeze(1).expand({3, 6});
  EXPECT_EQ(by_rows.stride(1), 0);
  EXPECT_EQ(gather(a, 0, by_rows).to_vector<float>(),
            gather(a, 0, by_rows.contiguous()).to_vector<float>());
  EXPECT_EQ(gather(a, 0, by_rows).to_vector<float>(), index_select(a, 0, rows).to_vector<float>());
  Tensor cols = from_vector<int64_t>({5, 1});
  Tensor by_cols = cols.unsqueeze(0).expand({4, 2});
  EXPECT_EQ(gather(a, 1, by_cols).to_vector<float>(),
            gather(a, 1, by_cols.contiguous()).to_vector<float>());
  // Gradients: repeated rows add up on both paths.
  Tensor x1 = a.clone().requires_grad_(true), x2 = a.clone().requires_grad_(true);
  (gather(x1, 0, by_rows) * 2.0).sum().backward();
  (gather(x2, 0, by_rows.contiguous()) * 2.0).sum().backward();
  EXPECT_EQ(x1.grad().to_vector<float>(), x2.grad().to_vector<float>());
  EXPECT_EQ(x1.grad().to_vector<float>()[18], 4.0f);  // row 3, gathered twice
}

TEST(Ops, ComparisonsAndWhere) {
  Tensor a = tensor({1, 2, 3});
  EXPECT_EQ(gt(a, 1.5).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(eq(a, tensor({1, 0, 3})).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  expect_near(where(lt(a, 2.0), a, zeros({1})), {1, 0, 0});
  expect_near(maximum(a, tensor({2})), {2, 2, 3});
}
