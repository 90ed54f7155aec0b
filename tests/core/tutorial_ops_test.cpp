// Values of the tutorial ops beyond the cases of tutorial_ops_cases.h (which the op harness,
// tests/integration/op_harness_test.cpp, checks on every device): the properties a table of
// small cases cannot show (piece
// shapes and views, dtype promotion, stable sorting of large inputs against std::stable_sort,
// reductions against straightforward loops), and the errors for bad input.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/tutorial_ops_cases.h"
#include "gradcheck.h"

using namespace ember;

namespace {

template <class F>
void expect_error_mentioning(F&& f, const std::vector<std::string>& words) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& w : words)
      EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' missing from: " << msg;
  }
}

std::vector<int64_t> ints(const Tensor& t) {
  return t.to_vector<int64_t>();
}

}  // namespace

TEST(TutorialOps, SplitChunkUnbindShapesAndViews) {
  Tensor x = arange(0, 10, 1, kFloat32);
  auto p = split(x, 4);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].sizes(), (Shape{2}));
  EXPECT_TRUE(p[1].shares_storage(x));  // views, not copies
  EXPECT_EQ(x.split(std::vector<int64_t>{0, 10}).at(0).numel(), 0);
  // ceil(10 / 4) = 3: pieces of 3, 3, 3 and 1, as torch.chunk.
  auto c = chunk(x, 4);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[3].numel(), 1);
  EXPECT_EQ(chunk(arange(6), 4).size(), 3u);  // ceil(6/4) = 2: fewer chunks than asked
  EXPECT_EQ(chunk(zeros({0, 2}), 3).size(), 3u);
  auto u = x.view({2, 5}).unbind(1);
  ASSERT_EQ(u.size(), 5u);
  EXPECT_EQ(ints(u[4].to(kInt64)), (std::vector<int64_t>{4, 9}));
}

TEST(TutorialOps, CatPromotesAndSkipsLegacyEmpty) {
  Tensor a = arange(3).view({1, 3});  // int64
  Tensor b = from_vector<float>({0.5f, 1.5f, 2.5f}, Shape{1, 3});
  Tensor c = cat({a, zeros({0}), b});
  EXPECT_EQ(c.dtype(), kFloat32);
  EXPECT_EQ(c.sizes(), (Shape{2, 3}));
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{0, 1, 2, 0.5f, 1.5f, 2.5f}));
  // A non-contiguous input is read through its strides.
  Tensor t = arange(0, 6, 1, kFloat32).view({2, 3}).t();  // [[0,3],[1,4],[2,5]]
  EXPECT_EQ(cat({t, t}, 1).to_vector<float>(),
            (std::vector<float>{0, 3, 0, 3, 1, 4, 1, 4, 2, 5, 2, 5}));
  EXPECT_EQ(stack(std::vector<Tensor>{a, a}, 2).sizes(), (Shape{1, 3, 2}));
}

TEST(TutorialOps, SortMatchesStableSortOnLargeInputsWithTies) {
  // 3 x 1000 x 4 values with many ties, sorted along dim 1 (inner stride 4).
  Generator gen(42);
  Tensor x = randint(0, 50, {3, 1000, 4}, kInt64, &gen).to(kFloat32);
  for (bool descending : {false, true}) {
    auto [values, indices] = sort(x, 1, descending, /*stable=*/true);
    const auto xv = x.to_vector<float>(), sv = values.to_vector<float>();
    const auto si = ints(indices);
    for (int64_t o = 0; o < 3; ++o) {
      for (int64_t i = 0; i < 4; ++i) {
        std::vector<int64_t> ref(1000);
        std::iota(ref.begin(), ref.end(), 0);
        auto at = [&](int64_t j) { return xv[(o * 1000 + j) * 4 + i]; };
        std::stable_sort(ref.begin(), ref.end(), [&](int64_t a, int64_t b) {
          return descending ? at(a) > at(b) : at(a) < at(b);
        });
        for (int64_t j = 0; j < 1000; ++j) {
          ASSERT_EQ(si[(o * 1000 + j) * 4 + i], ref[j]) << o << "," << j << "," << i;
          ASSERT_EQ(sv[(o * 1000 + j) * 4 + i], at(ref[j]));
        }
      }
    }
  }
}

TEST(TutorialOps, TopkAndKthvalueAgreeWithSort) {
  Generator gen(3);
  Tensor x = randn({5, 37}, kFloat64, &gen);
  auto [sv, si] = sort(x, 1, true);
  auto [tv, ti] = topk(x, 6, 1);
  EXPECT_EQ(tv.to_vector<double>(), sv.narrow(1, 0, 6).contiguous().to_vector<double>());
  EXPECT_EQ(ints(ti), ints(si.narrow(1, 0, 6).contiguous()));
  auto [kv, ki] = kthvalue(x, 37 - 6 + 1, 1);  // the 6th largest is the 32nd smallest
  EXPECT_EQ(kv.to_vector<double>(), sv.select(1, 5).contiguous().to_vector<double>());
  EXPECT_EQ(ints(ki), ints(si.select(1, 5).contiguous()));
  EXPECT_EQ(std::get<0>(topk(x, 0, 1)).sizes(), (Shape{5, 0}));
  // int64 and bool sort too; NaN is the largest value, first when descending.
  EXPECT_EQ(ints(std::get<0>(sort(from_vector<int64_t>({5, -1, 3})))),
            (std::vector<int64_t>{-1, 3, 5}));
  EXPECT_EQ(ints(argsort(from_vector<int64_t>({1, 0, 1, 0}).to(kBool))),
            (std::vector<int64_t>{1, 3, 0, 2}));
  Tensor n = tensor({1, NAN, 3});
  EXPECT_EQ(ints(argsort(n, 0, true)), (std::vector<int64_t>{1, 2, 0}));
  EXPECT_TRUE(std::isnan(std::get<0>(topk(n, 1)).item<float>()));
  // 0-dim tensors sort to themselves.
  auto [v0, i0] = sort(scalar_tensor(4.0));
  EXPECT_EQ(v0.item<float>(), 4.f);
  EXPECT_EQ(i0.item<int64_t>(), 0);
}

TEST(TutorialOps, StatisticsAgainstLoops) {
  Generator gen(11);
  Tensor x = randn({4, 6, 5}, kFloat64, &gen);
  const auto xv = x.to_vector<double>();
  // var / std over dims {0, 2} (non-adjacent), unbiased and population.
  Tensor var_u = var(x, {0, 2}), std_p = ember::std(x, {0, 2}, 0, true);
  ASSERT_EQ(std_p.sizes(), (Shape{1, 6, 1}));
  for (int64_t j = 0; j < 6; ++j) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t k = 0; k < 5; ++k) s += xv[(i * 6 + j) * 5 + k];
    const double m = s / 20;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t k = 0; k < 5; ++k) ss += std::pow(xv[(i * 6 + j) * 5 + k] - m, 2);
    EXPECT_NEAR(var_u.to_vector<double>()[j], ss / 19, 1e-12);
    EXPECT_NEAR(std_p.to_vector<double>()[j], std::sqrt(ss / 20), 1e-12);
  }
  // norm over dims {1, 2} with p = 3, and the product over dim 1.
  Tensor n3 = norm(x, 3, {1, 2}), p1 = prod(x, 1);
  for (int64_t i = 0; i < 4; ++i) {
    double acc = 0;
    for (int64_t j = 0; j < 30; ++j) acc += std::pow(std::abs(xv[i * 30 + j]), 3);
    EXPECT_NEAR(n3.to_vector<double>()[i], std::cbrt(acc), 1e-12);
    for (int64_t k = 0; k < 5; ++k) {
      double p = 1;
      for (int64_t j = 0; j < 6; ++j) p *= xv[(i * 6 + j) * 5 + k];
      EXPECT_NEAR(p1.to_vector<double>()[i * 5 + k], p, 1e-12);
    }
  }
  EXPECT_EQ(prod(arange(1, 6)).dtype(), kInt64);
  EXPECT_EQ(prod(arange(1, 6)).item<int64_t>(), 120);
  // var with N - correction <= 0 divides by zero, as torch does.
  EXPECT_TRUE(std::isnan(var(tensor({2.0})).item<double>()));
  // all/any on bool and int tensors, and on an empty reduction (true / false).
  EXPECT_TRUE(all(zeros({0})).item<bool>());
  EXPECT_FALSE(any(zeros({0})).item<bool>());
  EXPECT_EQ(all(ones({2, 2}, kBool)).dtype(), kBool);
  EXPECT_FALSE(any(zeros({3}, kInt64)).item<bool>());
}

TEST(TutorialOps, GradientsFollowPyTorchConventions) {
  // prod: one zero -> the zero gets the product of the others; two zeros -> all zero.
  Tensor a = tensor({2, 0, 4}).requires_grad_(true);
  prod(a).backward();
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{0, 8, 0}));
  Tensor b = tensor({0, 3, 0}).requires_grad_(true);
  prod(b).backward();
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{0, 0, 0}));
  // norm and std have gradient 0 at 0 (not NaN).
  Tensor z = zeros({3}).requires_grad_(true);
  (norm(z) + ember::std(z)).backward();
  EXPECT_EQ(z.grad().to_vector<float>(), (std::vector<float>{0, 0, 0}));
  // inf-norm ties share the gradient.
  Tensor t = tensor({-3, 1, 3}).requires_grad_(true);
  norm(t, INFINITY).backward();
  EXPECT_EQ(t.grad().to_vector<float>(), (std::vector<float>{-0.5f, 0, 0.5f}));
  // masked_fill: no gradient where filled; index_select: repeats add up.
  Tensor m = tensor({1, 2, 3}).requires_grad_(true);
  (masked_fill(m, tensor({1, 0, 0}).to(kBool), 5) * 2.0 + index_select(m, 0, arange(3) * 0))
      .sum()
      .backward();
  EXPECT_EQ(m.grad().to_vector<float>(), (std::vector<float>{3, 2, 2}));
  // topk scatters the gradient back to its indices.
  Tensor k = tensor({1, 4, 2, 3}).requires_grad_(true);
  (std::get<0>(topk(k, 2)) * tensor({10, 20})).sum().backward();
  EXPECT_EQ(k.grad().to_vector<float>(), (std::vector<float>{0, 10, 0, 20}));
}

TEST(TutorialOps, ZeroDimInputs) {
  Tensor s = scalar_tensor(3.0, kFloat64).requires_grad_(true);
  auto [kv, ki] = kthvalue(s, 1);
  EXPECT_EQ(kv.dim(), 0);
  EXPECT_EQ(ki.item<int64_t>(), 0);
  Tensor picked = index_select(s, 0, from_vector<int64_t>({0}));
  EXPECT_EQ(picked.dim(), 0);
  EXPECT_EQ(prod(s, 0).item<double>(), 3.0);
  EXPECT_EQ(norm(s, 1).item<double>(), 3.0);
  (kv * 2.0 + picked + prod(s) + std::get<0>(topk(s, 1)) + std::get<0>(sort(s))).backward();
  EXPECT_EQ(s.grad().item<double>(), 6.0);
  EXPECT_TRUE(std::isnan(var(s).item<double>()));  // one element, correction 1
  EXPECT_TRUE(all(s).item<bool>());
  EXPECT_FALSE(any(zeros({}), 0).item<bool>());
}

TEST(TutorialOps, BadInputErrorsNameTheOpAndValues) {
  Tensor x = zeros({2, 3});
  expect_error_mentioning([&] { cat({x, zeros({2, 4})}, 0); }, {"cat", "[2, 3]", "[2, 4]"});
  expect_error_mentioning([&] { cat({x, zeros({2})}); }, {"cat", "same number of dims"});
  expect_error_mentioning([&] { cat({}, 0); }, {"cat", "non-empty"});
  expect_error_mentioning([&] { cat({x, x}, 2); }, {"cat", "dim 2"});
  expect_error_mentioning([&] { stack({x, zeros({3, 2})}); }, {"stack", "[2, 3]", "[3, 2]"});
  expect_error_mentioning([&] { split(x, 0, 1); }, {"split", "0"});
  expect_error_mentioning(
      [&] {
        split(x, std::vector<int64_t>{1, 1}, 1);
      },
      {"split", "sum to 2", "size 3"});
  expect_error_mentioning([&] { split(x, std::vector<int64_t>{4, -1}, 1); }, {"split", "-1"});
  expect_error_mentioning([&] { chunk(x, 0); }, {"chunk", "0"});
  expect_error_mentioning([&] { unbind(scalar_tensor(1.0)); }, {"unbind", "0-dim"});
  expect_error_mentioning([&] { unbind(x, 3); }, {"unbind", "dim 3"});
  expect_error_mentioning([&] { norm(arange(3)); }, {"norm", "int64"});
  expect_error_mentioning([&] { norm(x, 2, {5}); }, {"norm", "dim 5"});
  expect_error_mentioning([&] { norm(x, 2, {1, -1}); }, {"norm", "more than once"});
  expect_error_mentioning([&] { sum(x, {0, -2}); }, {"sum", "dim 0", "more than once"});
  expect_error_mentioning([&] { mean(x, {1, 1}); }, {"mean", "dim 1", "more than once"});
  expect_error_mentioning([&] { norm(zeros({0}), INFINITY); }, {"norm", "empty"});
  expect_error_mentioning([&] { prod(x, 2); }, {"prod", "dim 2"});
  expect_error_mentioning([&] { var(arange(4)); }, {"var", "int64"});
  expect_error_mentioning([&] { ember::std(x, {0}, NAN); }, {"std", "correction"});
  expect_error_mentioning([&] { topk(x, 4, 1); }, {"topk", "k 4", "size 3"});
  expect_error_mentioning([&] { topk(x, -1); }, {"topk", "k -1"});
  expect_error_mentioning([&] { kthvalue(x, 0); }, {"kthvalue", "k 0", "size 3"});
  expect_error_mentioning([&] { kthvalue(x, 4, 1); }, {"kthvalue", "k 4"});
  expect_error_mentioning([&] { sort(x, 2); }, {"sort", "dim 2"});
  expect_error_mentioning([&] { argsort(x, -3); }, {"argsort", "dim -3"});
  expect_error_mentioning([&] { all(x, 2); }, {"all", "dim 2"});
  expect_error_mentioning([&] { any(x, -3); }, {"any", "dim -3"});
  expect_error_mentioning(
      [&] {
        masked_fill(x, zeros({2, 3}), 1);
      },
      {"masked_fill", "bool", "float32"});
  expect_error_mentioning([&] { masked_fill(x, zeros({4}, kBool), 1); },
                          {"masked_fill", "[2, 3]", "[4]"});
  // Bad indices: thrown at the call on the CPU, at the next wait (here .cpu()) on a GPU.
  expect_error_mentioning(
      [&] {
        (void)index_select(x, 1, from_vector<int64_t>({0, 3})).cpu();
      },
      {"index_select", "index 3", "size 3"});
  expect_error_mentioning([&] { (void)index_select(x, 0, from_vector<int64_t>({-1})).cpu(); },
                          {"index_select", "index -1"});
  expect_error_mentioning([&] { index_select(x, 0, tensor({0})); },
                          {"index_select", "int64", "float32"});
  expect_error_mentioning(
      [&] {
        index_select(x, 0, zeros({1, 1}, kInt64));
      },
      {"index_select", "1-D", "[1, 1]"});
  expect_error_mentioning([&] { index_select(x, 2, arange(1)); }, {"index_select", "dim 2"});
}
