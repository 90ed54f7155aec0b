// Every differentiable op against central finite differences in float64, including
// broadcast, non-contiguous and dim-reduction cases.
#include <gtest/gtest.h>

#include "gradcheck.h"

using namespace ember;
using ember::testing::gradcheck;
using ember::testing::rand_double;
using V = std::vector<Tensor>;

TEST(Gradcheck, ArithmeticWithBroadcasting) {
  Tensor a = rand_double({3, 4}, 1), b = rand_double({4}, 2), c = rand_double({3, 1}, 3, 0.5, 2);
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0] + x[1]; }, {a, b}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0] - x[1]; }, {a, c}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0] * x[1]; }, {a, b}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0] / x[1]; }, {a, c}));
  EXPECT_TRUE(
      gradcheck([](const V& x) { return -x[0] + 2.0 * x[0] - 1.0 / x[1] + x[0] / 3.0; }, {a, c}));
  EXPECT_TRUE(gradcheck([](const V& x) { return 3.0 - x[0]; }, {a}));
}

TEST(Gradcheck, NonContiguousInputs) {
  Tensor a = rand_double({4, 3}, 4), b = rand_double({3, 4}, 5);
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].t() * x[1]; }, {a, b}));
  EXPECT_TRUE(gradcheck([](const V& x) { return exp(x[0].t()); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return mm(x[0].t(), x[1].t()); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const V& x) { return sum(x[0].t(), {1}); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return softmax(x[0].t(), 1); }, {a}));
}

TEST(Gradcheck, UnaryMath) {
  Tensor a = rand_double({2, 3}, 6), p = rand_double({2, 3}, 7, 0.5, 2);
  EXPECT_TRUE(gradcheck([](const V& x) { return neg(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return exp(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return log(x[0]); }, {p}));
  EXPECT_TRUE(gradcheck([](const V& x) { return log2(x[0]) + log10(x[0]); }, {p}));
  EXPECT_TRUE(gradcheck([](const V& x) { return sqrt(x[0]) + rsqrt(x[0]); }, {p}));
  EXPECT_TRUE(gradcheck([](const V& x) { return abs(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return pow(x[0], 3.0) + pow(x[0], -1.5); }, {p}));
  EXPECT_TRUE(gradcheck([](const V& x) { return pow(x[0], x[1]); }, {p, a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return pow(2.0, x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return clamp(x[0], -0.3, 0.4); }, {a}));
  EXPECT_TRUE(
      gradcheck([](const V& x) { return clamp_min(x[0], 0.1) + clamp_max(x[0], 0.2); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return frac(x[0] * 3.0); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return maximum(x[0], x[1]) + minimum(x[0], x[1]); },
                        {a, rand_double({3}, 8)}));
  EXPECT_TRUE(gradcheck([](const V& x) { return where(gt(x[0], 0.0), x[0], x[1] * 2.0); },
                        {a, rand_double({2, 1}, 9)}));
}

TEST(Gradcheck, Activations) {
  Tensor a = rand_double({3, 4}, 10, -3, 3);
  EXPECT_TRUE(gradcheck([](const V& x) { return relu(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return sigmoid(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return tanh(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return softplus(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return softplus(x[0], 2.0, 1.0); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return leaky_relu(x[0], 0.1); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return elu(x[0], 0.7); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return gelu(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return gelu(x[0], "tanh"); }, {a}));
  for (int dim : {0, 1, -1}) {
    EXPECT_TRUE(gradcheck([dim](const V& x) { return softmax(x[0], dim); }, {a}));
    EXPECT_TRUE(gradcheck([dim](const V& x) { return log_softmax(x[0], dim); }, {a}));
  }
  Tensor b = rand_double({2, 3, 4}, 11);
  EXPECT_TRUE(gradcheck([](const V& x) { return softmax(x[0], 1); }, {b}));
}

TEST(Gradcheck, Reductions) {
  Tensor a = rand_double({2, 3, 4}, 12);
  EXPECT_TRUE(gradcheck([](const V& x) { return sum(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return mean(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return sum(x[0], {1}); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return sum(x[0], {0, 2}, true); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return mean(x[0], {-1}); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return mean(x[0], {0, 2}); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return mean(x[0], {0, 1}, true); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return max(x[0]) + min(x[0]); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return std::get<0>(max(x[0], 1)); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return std::get<0>(min(x[0], 2, true)); }, {a}));
}

TEST(Gradcheck, MatrixProducts) {
  Tensor a = rand_double({3, 4}, 13), b = rand_double({4, 5}, 14);
  EXPECT_TRUE(gradcheck([](const V& x) { return mm(x[0], x[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {a, b}));
  Tensor v = rand_double({4}, 15), w = rand_double({4}, 16);
  EXPECT_TRUE(gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {v, w}));  // dot
  EXPECT_TRUE(gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {a, v}));  // mat-vec
  EXPECT_TRUE(gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {v, b}));  // vec-mat
  Tensor ba = rand_double({2, 3, 4}, 17), bb = rand_double({2, 4, 2}, 18);
  EXPECT_TRUE(gradcheck([](const V& x) { return bmm(x[0], x[1]); }, {ba, bb}));
  EXPECT_TRUE(gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {ba, b}));
  // Batch broadcasting: (2, 1, 3, 4) x (3, 4, 2) -> (2, 3, 3, 2)
  Tensor c = rand_double({2, 1, 3, 4}, 19), d = rand_double({3, 4, 2}, 20);
  EXPECT_TRUE(gradcheck([](const V& x) { return matmul(x[0], x[1]); }, {c, d}));
  Tensor xin = rand_double({5, 4}, 21), wt = rand_double({3, 4}, 22), bias = rand_double({3}, 23);
  EXPECT_TRUE(gradcheck([](const V& x) { return linear(x[0], x[1], x[2]); }, {xin, wt, bias}));
  EXPECT_TRUE(gradcheck([](const V& x) { return linear(x[0], x[1]); }, {ba, wt}));
}

TEST(Gradcheck, ViewsAndIndexing) {
  Tensor a = rand_double({3, 4}, 24);
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].view({4, 3}) * 2.0; }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].t().reshape({12}); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].permute({1, 0}).slice(0, 1, 4, 2); }, {a}));
  EXPECT_TRUE(
      gradcheck([](const V& x) { return x[0].select(1, 2) + x[0].narrow(0, 1, 2).sum(); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].unsqueeze(0).expand({2, 3, 4}); }, {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].unsqueeze(1).squeeze(); }, {a}));
  Tensor index = from_vector<int64_t>({0, 3, 3, 1, 2, 2}, Shape{3, 2});
  EXPECT_TRUE(gradcheck([index](const V& x) { return gather(x[0], 1, index); }, {a}));
  Tensor index0 = from_vector<int64_t>({2, 0, 1, 2}, Shape{1, 4});
  EXPECT_TRUE(gradcheck([index0](const V& x) { return gather(x[0], 0, index0); }, {a}));
  Tensor src = rand_double({3, 2}, 25);
  EXPECT_TRUE(
      gradcheck([index](const V& x) { return scatter_add(x[0], 1, index, x[1]); }, {a, src}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].to(kFloat32).to(kFloat64) * 1.0; }, {a}, 1e-3,
                        1e-3, 1e-3));
}

TEST(Gradcheck, Losses) {
  Tensor logits = rand_double({4, 5}, 26, -2, 2);
  Tensor target = from_vector<int64_t>({1, 0, 4, 2});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    EXPECT_TRUE(gradcheck([&](const V& x) { return cross_entropy(x[0], target, r); }, {logits}));
    EXPECT_TRUE(
        gradcheck([&](const V& x) { return nll_loss(log_softmax(x[0], 1), target, r); }, {logits}));
    EXPECT_TRUE(gradcheck([&](const V& x) { return mse_loss(x[0], x[1], r); },
                          {logits, rand_double({4, 5}, 27)}));
  }
  Tensor ignore = from_vector<int64_t>({1, -100, 4, -100});
  EXPECT_TRUE(gradcheck([&](const V& x) { return cross_entropy(x[0], ignore); }, {logits}));
  Tensor one = rand_double({5}, 28);
  EXPECT_TRUE(
      gradcheck([&](const V& x) { return cross_entropy(x[0], scalar_tensor(3, kInt64)); }, {one}));
}
