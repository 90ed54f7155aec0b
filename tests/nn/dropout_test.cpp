// Dropout: ember::dropout (core) and nn::Dropout. The mask must be exactly rand(...) >= p for
// the same seed and offset (one Philox stream for CPU and CUDA), keep about 1 - p of the
// elements, scale them by 1 / (1 - p), and route the gradient through the same mask.
#include <gtest/gtest.h>

#include <ember/ember.h>

#include "gradcheck.h"

using namespace ember;
using ember::testing::gradcheck;
using ember::testing::rand_double;

TEST(Dropout, KeepsAboutOneMinusPAndScales) {
  Generator gen(7);
  const int64_t n = 200000;
  for (double p : {0.1, 0.5, 0.8}) {
    Tensor y = dropout(ones({n}), p, true, &gen);
    auto v = y.to_vector<float>();
    int64_t kept = 0;
    const float scaled = static_cast<float>(1.0 / (1.0 - p));
    for (float e : v) {
      if (e != 0.f) {
        ++kept;
        EXPECT_EQ(e, scaled);
      }
    }
    // Binomial std of the kept fraction is sqrt(p (1 - p) / n) <= 0.0012.
    EXPECT_NEAR(static_cast<double>(kept) / n, 1.0 - p, 0.006) << "p = " << p;
  }
}

TEST(Dropout, MaskEqualsRandAtLeastPForTheSameSeed) {
  for (DType dt : {kFloat32, kFloat64}) {
    for (int64_t n : {1, 7, 4096, 100003}) {
      Generator a(123), b(123);
      // An earlier draw on both: the offsets must advance identically.
      rand({5}, kFloat32, &a);
      rand({5}, kFloat32, &b);
      Tensor x = rand_double({n}, 17, 0.5, 2).to(dt);
      Tensor y = dropout(x, 0.3, true, &a);
      Tensor u = rand({n}, kFloat32, &b);
      EXPECT_EQ(a.offset(), b.offset());
      auto kept = ne(y, 0.0).to_vector<bool>();
      auto expected = ge(u, 0.3).to_vector<bool>();
      ASSERT_EQ(kept, expected) << dtype_name(dt) << " n = " << n;
      // Kept values are x / (1 - p) in x's dtype.
      auto yv = y.to_vector<double>();
      auto xv = x.to_vector<double>();
      const double scale = dt == kFloat32 ? static_cast<float>(1.0 / 0.7) : 1.0 / 0.7;
      for (int64_t i = 0; i < std::min<int64_t>(n, 64); ++i)
        if (kept[i]) {
          EXPECT_NEAR(yv[i], xv[i] * scale, 1e-6 * yv[i]);
        }
    }
  }
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  Tensor x = rand_double({6, 50}, 3).requires_grad_();
  Generator gen(99);
  Tensor y = dropout(x, 0.4, true, &gen);
  Tensor v = rand_double({6, 50}, 4);
  auto g = autograd::grad({sum(y * v)}, {x})[0].to_vector<double>();
  auto yv = y.to_vector<double>(), vv = v.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    const double expected = yv[i] != 0 ? vv[i] / 0.6 : 0.0;
    EXPECT_NEAR(g[i], expected, 1e-12) << i;
  }
  // Finite differences: a fixed seed per call gives the same mask every evaluation.
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        Generator g(5);
        return dropout(in[0], 0.35, true, &g);
      },
      {rand_double({3, 7}, 6)}));
  // Non-contiguous input.
  Tensor t = rand_double({4, 3}, 8).t();
  Generator g1(2), g2(2);
  EXPECT_EQ(dropout(t, 0.5, true, &g1).to_vector<double>(),
            dropout(t.contiguous(), 0.5, true, &g2).to_vector<double>());
}

TEST(Dropout, EvalZeroAndOneAndErrors) {
  Tensor x = rand({10});
  EXPECT_TRUE(dropout(x, 0.5, /*training=*/false).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0).is_same(x));
  Tensor w = ones({5}).requires_grad_();
  Tensor all = dropout(w, 1.0);
  EXPECT_EQ(all.to_vector<float>(), std::vector<float>(5, 0.f));
  all.sum().backward();
  EXPECT_EQ(w.grad().to_vector<float>(), std::vector<float>(5, 0.f));
  EXPECT_THROW(dropout(x, -0.1), ValueError);
  EXPECT_THROW(dropout(x, 1.01), ValueError);
  EXPECT_THROW(dropout(arange(4), 0.5), DTypeError);

  nn::Dropout layer(0.5);
  Tensor big = ones({1000});
  const float dropped = eq(layer(big), 0.0).to(kFloat32).sum().item<float>();
  EXPECT_GT(dropped, 400.f);
  EXPECT_LT(dropped, 600.f);
  layer->eval();
  EXPECT_EQ(layer(big).to_vector<float>(), big.to_vector<float>());
}
