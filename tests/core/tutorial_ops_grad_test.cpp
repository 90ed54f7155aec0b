// Gradients of the tutorial ops on larger random inputs than the cases of
// tutorial_ops_cases.h (which tests/integration/op_harness_test.cpp gradchecks on every device),
// for the ops whose backward is written by hand here (cat/stack/split, norm, prod, var/std,
// sort/topk/kthvalue, masked_fill, index_select), where a wrong Jacobian entry has more places to
// show.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/tutorial_ops_cases.h"
#include "gradcheck.h"

using namespace ember;
using ember::testing::gradcheck;
using ember::testing::rand_double;
using ember::testing::tutorial::In;

TEST(TutorialOpsGrad, CombineAndSplitRandom) {
  Tensor a = rand_double({2, 3, 2}, 1), b = rand_double({2, 1, 2}, 2),
         c = rand_double({2, 4, 2}, 3);
  EXPECT_TRUE(gradcheck([](const In& x) { return cat({x[0], x[1], x[2]}, 1); }, {a, b, c}));
  EXPECT_TRUE(gradcheck([](const In& x) { return stack({x[0], x[0] * 2.0}, -1); }, {a}));
  // Pieces weighted differently, one piece unused (its slice must get zero gradient).
  EXPECT_TRUE(gradcheck(
      [](const In& x) {
        auto p = split(x[0], std::vector<int64_t>{1, 2, 1}, 1);
        return cat({p[0] * 3.0, exp(p[2])}, 1);
      },
      {c}));
  EXPECT_TRUE(gradcheck(
      [](const In& x) {
        auto p = x[0].chunk(3, 1);
        return p[0].sum() * p[1].sum() + p[2].pow(2.0).sum();
      },
      {rand_double({2, 7}, 4)}));
  EXPECT_TRUE(gradcheck(
      [](const In& x) {
        auto u = unbind(x[0], 2);
        return u[0] * u[1];
      },
      {a}));
}

TEST(TutorialOpsGrad, StatisticsRandom) {
  Tensor x = rand_double({3, 4, 2}, 5, 0.5, 2.0) * sign(rand_double({3, 4, 2}, 6));
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {1.0, 2.0, 3.0, 0.5, 1.5, inf, -inf}) {
    EXPECT_TRUE(gradcheck([p](const In& t) { return norm(t[0], p, {0, 2}); }, {x})) << "p " << p;
    EXPECT_TRUE(gradcheck([p](const In& t) { return norm(t[0], p); }, {x})) << "p " << p;
  }
  EXPECT_TRUE(gradcheck([](const In& t) { return prod(t[0], 1, true); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return prod(t[0]); }, {x.narrow(1, 0, 2).contiguous()}));
  EXPECT_TRUE(gradcheck([](const In& t) { return var(t[0], {0, 2}); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return ember::std(t[0], {1}, 0, true); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return t[0].std(); }, {x}));
}

TEST(TutorialOpsGrad, SortingAndSelectionRandom) {
  // Random doubles: no ties, so the order is stable under the finite-difference steps.
  Tensor x = rand_double({3, 5, 4}, 7);
  EXPECT_TRUE(gradcheck([](const In& t) { return std::get<0>(sort(t[0], 1)); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return std::get<0>(sort(t[0], 0, true)); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return std::get<0>(topk(t[0], 2, -1, false)); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return std::get<0>(kthvalue(t[0], 3, 1)); }, {x}));
  EXPECT_TRUE(gradcheck([](const In& t) { return std::get<0>(kthvalue(t[0], 2, 0, true)); }, {x}));
  Tensor mask = gt(rand_double({5, 1}, 8), 0.0);
  EXPECT_TRUE(gradcheck([mask](const In& t) { return masked_fill(t[0], mask, 0.5); }, {x}));
  Tensor idx = from_vector<int64_t>({3, 0, 3, 1, 3});
  EXPECT_TRUE(gradcheck([idx](const In& t) { return index_select(t[0], 2, idx); }, {x}));
}
