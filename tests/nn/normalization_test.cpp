// nn::LayerNorm, nn::BatchNorm1d and nn::Embedding: values against double-precision loops
// written here, gradients against finite differences (float64), BatchNorm's running statistics
// and train/eval behaviour, PyTorch's state_dict keys, Welford's accuracy where the naive
// formula cancels, and the errors for bad shapes and indices. The suite runs per device.
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "test_device.h"

using namespace ember;
using ember::testing::gradcheck;
using ember::testing::rand_double;
using ember_test::expect_error;

namespace {

std::vector<std::string> keys(const StateDict& d) {
  std::vector<std::string> out;
  for (const auto& [k, t] : d) out.push_back(k);
  return out;
}

// Per-group mean and biased variance, two passes in double: the reference.
struct Stats {
  double mean, var;
};
Stats stats(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return {m, s / static_cast<double>(v.size())};
}

}  // namespace

TEST(LayerNorm, MatchesTheFormulaAndGradchecks) {
  const int64_t rows = 5, cols = 7;
  Tensor x = rand_double({rows, cols}, 3, -2, 4);
  nn::LayerNorm ln(Shape{cols});
  ln->to(kFloat64);
  {
    NoGradGuard no_grad;
    ln->weight.copy_(rand_double({cols}, 4, 0.5, 2));
    ln->bias.copy_(rand_double({cols}, 5, -1, 1));
  }
  const auto xv = x.to_vector<double>(), w = ln->weight.to_vector<double>(),
             b = ln->bias.to_vector<double>();
  const auto y = ln(x).to_vector<double>();
  for (int64_t i = 0; i < rows; ++i) {
    const Stats s = stats(std::vector<double>(xv.begin() + i * cols, xv.begin() + (i + 1) * cols));
    for (int64_t j = 0; j < cols; ++j) {
      const double want = (xv[i * cols + j] - s.mean) / std::sqrt(s.var + 1e-5) * w[j] + b[j];
      EXPECT_NEAR(y[i * cols + j], want, 1e-12) << i << "," << j;
    }
  }
  // Gradients of x, weight and bias together, and of x alone with no affine parameters.
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], {cols}, in[1], in[2]); },
      {rand_double({rows, cols}, 6), rand_double({cols}, 7), rand_double({cols}, 8)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return layer_norm(in[0], {2, 3});
      },
      {rand_double({4, 2, 3}, 9)}));
  EXPECT_EQ(keys(ln->state_dict()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(nn::LayerNorm(Shape{4}, 1e-5, false)->parameters().size(), 0u);
  std::ostringstream os;
  os << nn::LayerNorm(Shape{4});
  EXPECT_EQ(os.str(), "LayerNorm(normalized_shape=[4], eps=1e-05, elementwise_affine=true)");
}

TEST(LayerNorm, KeepsTheVarianceOfALargeMean) {
  // Values 1e9 + 0.5 k: the variance is 1.3125, while E[x²] is 1e18, whose float64 spacing is
  // 128, so E[x²] - E[x]² would lose it entirely; Welford's update keeps it.
  Tensor x = full({1, 8}, 1e9, kFloat64) + arange(0, 8, 1, kFloat64).view({1, 8}) * 0.5;
  const auto got = layer_norm(x, {8}, Tensor(), Tensor(), 0.0).to_vector<double>();
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(got[k], (0.5 * k - 1.75) / std::sqrt(1.3125), 1e-6) << k;
}

TEST(LayerNorm, LongRowsAndManyElementsPerThread) {
  // Rows of 100 and 5000 (the kernels' wider blocks, several elements per thread) against the
  // double reference.
  for (const int64_t cols : {100, 5000}) {
    Tensor x = rand_double({3, cols}, 21, -1, 3);
    const auto xv = x.to_vector<double>();
    const auto y = layer_norm(x, {cols}).to_vector<double>();
    for (int64_t i = 0; i < 3; ++i) {
      const Stats s =
          stats(std::vector<double>(xv.begin() + i * cols, xv.begin() + (i + 1) * cols));
      for (int64_t j = 0; j < cols; j += 37)
        EXPECT_NEAR(y[i * cols + j], (xv[i * cols + j] - s.mean) / std::sqrt(s.var + 1e-5), 1e-10)
            << cols << ": " << i << "," << j;
    }
    Tensor g = rand_double({3, cols}, 22);
    Tensor xr = x.clone().requires_grad_(true);
    layer_norm(xr, {cols}).backward(g);
    // The gradient of a normalisation is orthogonal to the constant and to x̂ in each row.
    const auto gx = xr.grad().to_vector<double>();
    for (int64_t i = 0; i < 3; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < cols; ++j) sum += gx[i * cols + j];
      EXPECT_NEAR(sum, 0.0, 1e-9) << cols;
    }
  }
  // The weight and bias gradients over many rows (column sums in row groups on a GPU).
  {
    const int64_t rows = 300, cols = 40;
    Tensor x = rand_double({rows, cols}, 24, -2, 2);
    Tensor w = rand_double({cols}, 25).requires_grad_(true);
    Tensor b = rand_double({cols}, 26).requires_grad_(true);
    Tensor g = rand_double({rows, cols}, 27);
    layer_norm(x, {cols}, w, b).backward(g);
    const auto xv = x.to_vector<double>(), gv = g.to_vector<double>();
    std::vector<double> want_w(cols, 0.0), want_b(cols, 0.0);
    for (int64_t i = 0; i < rows; ++i) {
      const Stats s =
          stats(std::vector<double>(xv.begin() + i * cols, xv.begin() + (i + 1) * cols));
      for (int64_t j = 0; j < cols; ++j) {
        want_w[j] += gv[i * cols + j] * (xv[i * cols + j] - s.mean) / std::sqrt(s.var + 1e-5);
        want_b[j] += gv[i * cols + j];
      }
    }
    const auto got_w = w.grad().to_vector<double>(), got_b = b.grad().to_vector<double>();
    for (int64_t j = 0; j < cols; ++j) {
      EXPECT_NEAR(got_w[j], want_w[j], 1e-9) << j;
      EXPECT_NEAR(got_b[j], want_b[j], 1e-9) << j;
    }
  }
  // A batch norm channel of 2 x 3000 elements.
  Tensor x = rand_double({2, 2, 3000}, 23, 5, 6);
  const auto xv = x.to_vector<double>();
  const auto y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true).to_vector<double>();
  std::vector<double> ch0;
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t i = 0; i < 3000; ++i) ch0.push_back(xv[o * 6000 + i]);
  const Stats s = stats(ch0);
  EXPECT_NEAR(y[6000 + 17], (xv[6000 + 17] - s.mean) / std::sqrt(s.var + 1e-5), 1e-10);
}

TEST(LayerNorm, BadShapesAreErrors) {
  nn::LayerNorm ln(Shape{4});
  expect_error<ShapeError>([&] { ln(ones({2, 3})); }, {"layer_norm", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { layer_norm(ones({4}), {2, 4}); }, {"layer_norm", "[2, 4]"});
  expect_error<ShapeError>(
      [&] {
        layer_norm(ones({2, 4}), {4}, ones({3}));
      },
      {"layer_norm", "weight", "[3]"});
  expect_error<DTypeError>([&] { layer_norm(arange(4), {4}); }, {"layer_norm"});
  expect_error<ValueError>([&] { nn::LayerNorm(Shape{0}); }, {"LayerNorm", "positive"});
}

TEST(BatchNorm1d, TrainingUsesBatchStatisticsAndUpdatesTheRunningOnes) {
  const int64_t n = 6, c = 3, l = 4;
  nn::BatchNorm1d bn(c, 1e-5, 0.25);
  bn->to(kFloat64);
  EXPECT_EQ(keys(bn->state_dict()),
            (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked"}));
  Tensor x = rand_double({n, c, l}, 11, -3, 5);
  const auto xv = x.to_vector<double>();
  const auto y = bn(x).to_vector<double>();
  const auto rm = bn->running_mean.to_vector<double>(), rv = bn->running_var.to_vector<double>();
  for (int64_t ch = 0; ch < c; ++ch) {
    std::vector<double> values;
    for (int64_t o = 0; o < n; ++o)
      for (int64_t i = 0; i < l; ++i) values.push_back(xv[(o * c + ch) * l + i]);
    const Stats s = stats(values);
    for (int64_t o = 0; o < n; ++o)
      for (int64_t i = 0; i < l; ++i) {
        const int64_t at = (o * c + ch) * l + i;
        EXPECT_NEAR(y[at], (xv[at] - s.mean) / std::sqrt(s.var + 1e-5), 1e-12);
      }
    const double count = static_cast<double>(n * l);
    EXPECT_NEAR(rm[ch], 0.25 * s.mean, 1e-12);
    EXPECT_NEAR(rv[ch], 0.75 + 0.25 * s.var * count / (count - 1), 1e-12);
  }
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
  EXPECT_EQ(bn->num_batches_tracked.dtype(), kInt64);

  // Eval: the running statistics, not the batch's; nothing is updated.
  bn->eval();
  const auto before = bn->running_mean.to_vector<double>();
  const auto z = bn(x).to_vector<double>();
  for (int64_t o = 0; o < n; ++o)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < l; ++i) {
        const int64_t at = (o * c + ch) * l + i;
        EXPECT_NEAR(z[at], (xv[at] - rm[ch]) / std::sqrt(rv[ch] + 1e-5), 1e-12);
      }
  EXPECT_EQ(bn->running_mean.to_vector<double>(), before);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
}

TEST(BatchNorm1d, GradientsInTrainingAndEval) {
  for (const bool training : {true, false}) {
    Tensor mean = rand_double({3}, 1), var = rand_double({3}, 2, 0.5, 2);
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) {
          Tensor rm = mean.clone(), rv = var.clone();  // each evaluation starts from the same
          return batch_norm(in[0], rm, rv, in[1], in[2], training, 0.1, 1e-5);
        },
        {rand_double({5, 3}, 3), rand_double({3}, 4), rand_double({3}, 5)}))
        << (training ? "training" : "eval");
  }
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true);
      },
      {rand_double({2, 3, 4}, 6)}));
}

TEST(BatchNorm1d, BadInputIsAnError) {
  nn::BatchNorm1d bn(4);
  expect_error<ShapeError>([&] { bn(ones({8, 3})); }, {"BatchNorm1d(4)", "[8, 3]"});
  expect_error<ShapeError>([&] { bn(ones({8})); }, {"BatchNorm1d(4)", "[8]"});
  expect_error<ValueError>([&] { bn(ones({1, 4})); }, {"batch_norm", "more than 1 value"});
  EXPECT_EQ(bn(ones({0, 4})).sizes(), (Shape{0, 4}));  // an empty batch: empty out, no update
  EXPECT_EQ(bn->running_var.to_vector<float>(), std::vector<float>(4, 1.f));
  expect_error<ValueError>([&] { nn::BatchNorm1d(0); }, {"BatchNorm1d", "num_features"});
  expect_error<ValueError>([&] { nn::BatchNorm1d(4, 1e-5, 1.5); }, {"BatchNorm1d", "momentum"});
  bn->eval();
  EXPECT_EQ(bn(ones({1, 4})).sizes(), (Shape{1, 4}));  // one sample is fine in eval
}

TEST(Embedding, GathersRowsAndSumsTheirGradients) {
  nn::Embedding emb(5, 3);
  EXPECT_EQ(emb->weight.sizes(), (Shape{5, 3}));
  Tensor idx = from_vector<int64_t>({4, 0, 4, 2}, Shape{2, 2});
  Tensor y = emb(idx);
  EXPECT_EQ(y.sizes(), (Shape{2, 2, 3}));
  const auto w = emb->weight.to_vector<float>(), got = y.to_vector<float>();
  const int64_t rows[] = {4, 0, 4, 2};
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(got[k * 3 + j], w[rows[k] * 3 + j]);
  y.sum().backward();
  EXPECT_EQ(emb->weight.grad().to_vector<float>(),
            (std::vector<float>{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2}));
  expect_error<DTypeError>([&] { emb(ones({2})); }, {"embedding", "int64"});
  expect_error<IndexError>(
      [&] {
        emb(from_vector<int64_t>({1, 5}));
        ember_test::wait_for_device();
      },
      {"index 5"});
  if (default_device().is_cpu()) {
    expect_error<IndexError>([&] { emb(from_vector<int64_t>({-1})); },
                             {"embedding", "index -1", "position 0", "5 embeddings"});
  }
  std::ostringstream os;
  os << emb;
  EXPECT_EQ(os.str(), "Embedding(5, 3)");
}
