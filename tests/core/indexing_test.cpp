// x.index({...}) and x.index_put_({...}, v) (core/indexing.h): every index kind against
// hand-written results, view and copy semantics, gradients in float64, and the errors.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include <ember/ember.h>

#include "expect_error.h"
#include "gradcheck.h"

using namespace ember;
using namespace ember::indexing;
using ember::testing::gradcheck;
using ember::testing::rand_double;
using ember_test::expect_error;
using V = std::vector<Tensor>;

namespace {

// 0, 1, ..., n - 1 as float32 of `shape`.
Tensor iota(const Shape& shape) {
  return arange(static_cast<double>(shape.numel()), kFloat32).reshape(shape);
}
Tensor longs(const std::vector<int64_t>& v, std::optional<Shape> shape = std::nullopt) {
  return from_vector<int64_t>(v, shape);
}
Tensor bools(const std::vector<double>& v, std::optional<Shape> shape = std::nullopt) {
  return ne(from_vector<double>(v, shape), 0.0);
}
std::vector<float> values(const Tensor& t) {
  return t.to_vector<float>();
}

// Spellings that must (and must not) compile as one index.
template <typename T>
concept Index = requires(Tensor t, T v) {
  t.index({v});
};
static_assert(Index<int> && Index<int64_t> && Index<long long> && Index<unsigned> && Index<bool>);
static_assert(Index<const char*> && Index<NoneType> && Index<EllipsisIndexType>);
static_assert(Index<Slice> && Index<Tensor>);
static_assert(!Index<double> && !Index<float> && !Index<std::nullptr_t>);

}  // namespace

TEST(Indexing, SpellingsCompileAndPickTheRightKind) {
  Tensor x = iota({2, 3, 4});
  Tensor idx = longs({1, 0});
  Tensor mask = bools({1, 0});
  EXPECT_EQ(x.index({Slice(), 0}).sizes(), (Shape{2, 4}));
  EXPECT_EQ(x.index({Slice(1, None, 2), Ellipsis}).sizes(), (Shape{1, 3, 4}));
  EXPECT_EQ(x.index({"...", None}).sizes(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.index({idx}).sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(x.index({mask}).sizes(), (Shape{1, 3, 4}));
  EXPECT_EQ(x.index({0}).sizes(), (Shape{3, 4}));  // 0 is an integer, not a null pointer
  EXPECT_EQ(x.index({0, 0, 0}).sizes(), (Shape{}));
  EXPECT_EQ(x.index({int64_t{1}, 2LL}).sizes(), (Shape{4}));
  EXPECT_EQ(x.index({true}).sizes(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(x.index({std::nullopt}).sizes(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(x.index({}).sizes(), (Shape{2, 3, 4}));
  std::vector<TensorIndex> list = {Slice(None, 1), "...", -1};
  EXPECT_EQ(x.index(list).sizes(), (Shape{1, 3}));
  EXPECT_TRUE(TensorIndex(0).is_integer());
  EXPECT_TRUE(TensorIndex(false).is_boolean());
  EXPECT_TRUE(TensorIndex("...").is_ellipsis());
  EXPECT_TRUE(TensorIndex(None).is_none());
}

TEST(Indexing, Integers) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(values(x.index({1, 2})), (std::vector<float>{20, 21, 22, 23}));
  EXPECT_EQ(values(x.index({-1, -3})), (std::vector<float>{12, 13, 14, 15}));
  EXPECT_EQ(x.index({0, -1, -1}).item<float>(), 11.f);
  EXPECT_EQ(values(x.index({Slice(), Slice(), 1})), (std::vector<float>{1, 5, 9, 13, 17, 21}));
}

TEST(Indexing, SlicesClampAndStepLikePython) {
  Tensor x = iota({10});
  EXPECT_EQ(values(x.index({Slice(1, None, 2)})), (std::vector<float>{1, 3, 5, 7, 9}));
  EXPECT_EQ(values(x.index({Slice(None, -7)})), (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(values(x.index({Slice(-3)})), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(values(x.index({Slice(-100, 100, 4)})), (std::vector<float>{0, 4, 8}));
  EXPECT_EQ(values(x.index({Slice(None, None, 3)})), (std::vector<float>{0, 3, 6, 9}));
  EXPECT_EQ(x.index({Slice(5, 2)}).sizes(), (Shape{0}));
  EXPECT_EQ(x.index({Slice(20, None)}).sizes(), (Shape{0}));
  EXPECT_EQ(x.index({Slice(-2, -1)}).item<float>(), 8.f);
  // A step as large as int64 allows (Python accepts it): one element, no overflow.
  EXPECT_EQ(values(x.index({Slice(3, None, std::numeric_limits<int64_t>::max())})),
            (std::vector<float>{3}));
}

TEST(Indexing, NoneAndEllipsis) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.index({Ellipsis, 0}).sizes(), (Shape{2, 3}));
  EXPECT_EQ(values(x.index({Ellipsis, 0})), (std::vector<float>{0, 4, 8, 12, 16, 20}));
  EXPECT_EQ(x.index({Slice(), None, 1}).sizes(), (Shape{2, 1, 4}));
  EXPECT_EQ(x.index({None, Ellipsis, None}).sizes(), (Shape{1, 2, 3, 4, 1}));
  EXPECT_EQ(x.index({1, Ellipsis, 1, 1}).item<float>(), 17.f);  // the ellipsis covers nothing
  // x[1::2, ..., None, -1]: x[1, :, 3] as (1, 3, 1)
  Tensor y = x.index({Slice(1, None, 2), Ellipsis, None, -1});
  EXPECT_EQ(y.sizes(), (Shape{1, 3, 1}));
  EXPECT_EQ(values(y), (std::vector<float>{15, 19, 23}));
  Tensor s = scalar_tensor(3.f);
  EXPECT_EQ(s.index({None}).sizes(), (Shape{1}));
  EXPECT_EQ(s.index({"..."}).item<float>(), 3.f);
}

TEST(Indexing, BasicIndicesGiveViewsAdvancedGiveCopies) {
  Tensor x = iota({3, 4});
  Tensor col = x.index({Slice(), 1});
  EXPECT_TRUE(col.shares_storage(x));
  col.fill_(-1);
  EXPECT_EQ(values(x.index({Slice(), 1})), (std::vector<float>{-1, -1, -1}));
  Tensor alias = x.index({"..."});
  EXPECT_TRUE(alias.shares_storage(x));
  EXPECT_FALSE(alias.is_same(x));
  x.index({Slice(1, None), Slice(None, None, 3)}).zero_();
  EXPECT_EQ(values(x), (std::vector<float>{0, -1, 2, 3, 0, -1, 6, 0, 0, -1, 10, 0}));

  Tensor picked = x.index({longs({0, 2})});
  EXPECT_FALSE(picked.shares_storage(x));
  picked.fill_(42);
  EXPECT_EQ(x.index({0, 0}).item<float>(), 0.f);
  EXPECT_FALSE(x.index({bools({1, 0, 1})}).shares_storage(x));
  EXPECT_FALSE(x.index({true}).shares_storage(x));
}

TEST(Indexing, OneIndexTensor) {
  Tensor x = iota({3, 4});
  EXPECT_EQ(values(x.index({longs({2, 0, -1})})),
            (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  Tensor cols = x.index({Slice(), longs({3, 0})});
  EXPECT_EQ(cols.sizes(), (Shape{3, 2}));
  EXPECT_EQ(values(cols), (std::vector<float>{3, 0, 7, 4, 11, 8}));
  Tensor grid = x.index({Slice(), longs({0, 1, 1, 0}, Shape{2, 2})});
  EXPECT_EQ(grid.sizes(), (Shape{3, 2, 2}));
  EXPECT_EQ(values(grid.index({2})), (std::vector<float>{8, 9, 9, 8}));
  Tensor zero_dim = x.index({Slice(), longs({2}).reshape({})});  // drops the dim, as an integer
  EXPECT_EQ(values(zero_dim), (std::vector<float>{2, 6, 10}));
  EXPECT_EQ(x.index({longs({})}).sizes(), (Shape{0, 4}));
}

TEST(Indexing, SeveralIndexTensorsBroadcast) {
  Tensor x = iota({2, 3, 4});
  // Adjacent: the broadcast dims replace the indexed ones in place.
  Tensor a = x.index({Slice(), longs({0, 2}), longs({1, 3})});
  EXPECT_EQ(a.sizes(), (Shape{2, 2}));
  EXPECT_EQ(values(a), (std::vector<float>{1, 11, 13, 23}));
  Tensor b = x.index({Slice(), longs({0, 2}, Shape{2, 1}), longs({1, 3})});
  EXPECT_EQ(b.sizes(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(b.index({1})), (std::vector<float>{13, 15, 21, 23}));
  Tensor c = x.index({longs({1, 0}), longs({2, -3})});
  EXPECT_EQ(values(c), (std::vector<float>{20, 21, 22, 23, 0, 1, 2, 3}));
  // Not adjacent: the broadcast dims go first.
  Tensor d = x.index({longs({0, 1}), Slice(), longs({0, 3})});
  EXPECT_EQ(d.sizes(), (Shape{2, 3}));
  EXPECT_EQ(values(d), (std::vector<float>{0, 4, 8, 15, 19, 23}));
  Tensor e = x.index({Slice(), 1, longs({0, 3})});
  // An integer is a select (as in PyTorch): the index tensors around it stay adjacent.
  EXPECT_EQ(values(x.index({longs({0, 1}), 1, longs({0, 3})})), (std::vector<float>{4, 19}));
  EXPECT_EQ(values(e), (std::vector<float>{4, 7, 16, 19}));
  Tensor f = x.index({longs({1}), Slice(1), None, longs({2, 1})});
  EXPECT_EQ(f.sizes(), (Shape{2, 2, 1}));
  EXPECT_EQ(values(f), (std::vector<float>{18, 22, 17, 21}));
}

TEST(Indexing, BoolMasks) {
  Tensor x = iota({2, 3});
  Tensor all = x.index({gt(x, 2.5)});
  EXPECT_EQ(values(all), (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(values(x.index({bools({0, 1})})), (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(x.index({bools({0, 1})}).sizes(), (Shape{1, 3}));
  EXPECT_EQ(values(x.index({Slice(), bools({1, 0, 1})})), (std::vector<float>{0, 2, 3, 5}));
  EXPECT_EQ(x.index({bools({0, 0, 0, 0, 0, 0}, Shape{2, 3})}).sizes(), (Shape{0}));
  Tensor y = iota({2, 3, 2});
  Tensor m = bools({1, 0, 0, 0, 0, 1}, Shape{2, 3});
  EXPECT_EQ(y.index({m}).sizes(), (Shape{2, 2}));
  EXPECT_EQ(values(y.index({m})), (std::vector<float>{0, 1, 10, 11}));
  EXPECT_EQ(values(y.index({Ellipsis, bools({0, 1})})), (std::vector<float>{1, 3, 5, 7, 9, 11}));
  // A mask next to an index tensor broadcasts with it as its nonzero() coordinates do.
  EXPECT_EQ(values(y.index({bools({1, 1}), longs({2, 0}), 1})), (std::vector<float>{5, 7}));
  // Bool scalars and 0-dim bool tensors: a new dim kept (true) or emptied (false).
  EXPECT_EQ(x.index({true}).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(x.index({false}).sizes(), (Shape{0, 2, 3}));
  EXPECT_EQ(x.index({Slice(), true, 1}).sizes(), (Shape{2, 1}));
  EXPECT_EQ(x.index({bools({1}).reshape({})}).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(values(x.index({1, true})), (std::vector<float>{3, 4, 5}));
}

TEST(Indexing, IndexPutBasic) {
  Tensor x = zeros({3, 4});
  const uint32_t v0 = x.version();
  x.index_put_({1}, 5.0);
  EXPECT_GT(x.version(), v0);
  x.index_put_({Slice(), 0}, tensor({1, 2, 3}));
  x.index_put_({Slice(None, None, 2), Slice(2, None)}, tensor({7, 8}));
  x.index_put_({Ellipsis, -1, None}, tensor({9}), /*accumulate=*/true);
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, 7, 17, 2, 5, 5, 14, 3, 0, 7, 17}));
  Tensor y = iota({2, 2});
  y.index_put_({Slice(), 0}, y.index({Slice(), 1}));  // the source overlaps the target
  EXPECT_EQ(values(y), (std::vector<float>{1, 1, 3, 3}));
}

TEST(Indexing, IndexPutAdvanced) {
  Tensor x = zeros({3, 4});
  x.index_put_({longs({2, 0})}, 1.0);
  EXPECT_EQ(values(x), (std::vector<float>{1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1}));
  x.index_put_({Slice(), longs({1, -1})}, from_vector<float>({4, 5, 6, 7, 8, 9}, Shape{3, 2}));
  EXPECT_EQ(values(x), (std::vector<float>{1, 4, 1, 5, 0, 6, 0, 7, 1, 8, 1, 9}));
  x.index_put_({gt(x, 4.5)}, 0.0);
  EXPECT_EQ(values(x), (std::vector<float>{1, 4, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0}));
  Tensor y = zeros({2, 3, 4});
  y.index_put_({longs({0, 1}), Slice(), longs({1, 2})}, tensor({1, 2, 3}));  // not adjacent
  EXPECT_EQ(values(y.index({0, Slice(), 1})), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(values(y.index({1, Slice(), 2})), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(y.sum().item<float>(), 12.f);
  // Repeated indices: the last write wins; with accumulate they all add up.
  Tensor z = zeros({3});
  z.index_put_({longs({0, 2, 0})}, tensor({1, 2, 3}));
  EXPECT_EQ(values(z), (std::vector<float>{3, 0, 2}));
  z.index_put_({longs({0, 2, 0})}, tensor({1, 2, 3}), /*accumulate=*/true);
  EXPECT_EQ(values(z), (std::vector<float>{7, 0, 4}));
  // Integer and bool tensors.
  Tensor n = zeros({4}, kInt64);
  n.index_put_({bools({0, 1, 1, 0})}, 7.0);
  EXPECT_EQ(n.to_vector<int64_t>(), (std::vector<int64_t>{0, 7, 7, 0}));
  Tensor b = zeros({4}, kBool);
  b.index_put_({longs({3, 1})}, 1.0);
  EXPECT_EQ(b.to(kInt64).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 1}));
  // Out of place: x stays as it was.
  Tensor w = zeros({3});
  Tensor put = w.index_put({longs({1})}, tensor({5}));
  EXPECT_EQ(values(put), (std::vector<float>{0, 5, 0}));
  EXPECT_EQ(values(w), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(values(index_put(w, {Slice(1)}, tensor({2}), true)), (std::vector<float>{0, 2, 2}));
}

TEST(Indexing, GradcheckIndex) {
  Tensor a = rand_double({3, 4, 2}, 11);
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        return x[0].index({Slice(1, None, 2), Ellipsis, None, -1});
      },
      {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].index({longs({2, 0, 2})}); }, {a}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        return x[0].index({Slice(), longs({0, 3}), longs({1, 0})});
      },
      {a}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        return x[0].index({longs({0, 1}), Slice(), longs({1, 0})});
      },
      {a}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        return x[0].index({bools({1, 0, 1}), Slice(None, 1)});
      },
      {a}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        return x[0].index({Slice(), bools({1, 0, 1, 1})});
      },
      {a}));
  EXPECT_TRUE(gradcheck([](const V& x) { return x[0].index({true, 1}); }, {a}));
}

TEST(Indexing, GradcheckIndexPut) {
  Tensor a = rand_double({3, 4}, 12), v = rand_double({2, 4}, 13), s = rand_double({4}, 14);
  // In place into a non-leaf, gradients to both the tensor written into and the values.
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        Tensor y = x[0] * 1.0;
        y.index_put_({longs({2, 0})}, x[1]);
        return y;
      },
      {a, v}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        Tensor y = x[0] * 1.0;
        y.index_put_({longs({2, 0, 2})}, x[1], /*accumulate=*/true);
        return y;
      },
      {a, s}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        Tensor y = x[0] * 1.0;
        y.index_put_({Slice(None, None, 2)}, x[1]);  // basic, values broadcast over rows
        return y * y;
      },
      {a, s}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        Tensor y = x[0] * 1.0;
        y.index_put_({bools({1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1}, Shape{3, 4})}, x[1]);
        return y;
      },
      {a, rand_double({5}, 15)}));
  // The out-of-place form, and a buffer that requires no grad filled with values that do.
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        return x[0].index_put({Slice(), longs({1})}, x[1]);
      },
      {a, rand_double({3, 1}, 17)}));
  EXPECT_TRUE(gradcheck(
      [](const V& x) {
        Tensor buf = zeros({3, 4}, kFloat64);
        buf.index_put_({1, longs({0, 3})}, x[0]);
        return buf;
      },
      {rand_double({2}, 16)}));
}

TEST(Indexing, AutogradRules) {
  Tensor w = zeros({3}, TensorOptions().dtype(kFloat64).requires_grad(true));
  expect_error<AutogradError>([&] { w.index_put_({0}, 1.0); }, {"index_put_", "leaf", "[3]"});
  {
    NoGradGuard no_grad;  // how optimizers and init write parameters
    w.index_put_({0}, 1.0);
  }
  EXPECT_EQ(w.to_vector<double>(), (std::vector<double>{1, 0, 0}));
  Tensor v = ones({1}, TensorOptions().dtype(kFloat64).requires_grad(true));
  Tensor y = w * 2.0;
  Tensor view = y.index({Slice(1)});
  expect_error<AutogradError>([&] { y.index_put_({0}, v); }, {"index_put_", "share"});
  // A saved tensor written afterwards: the version counter reports it at backward.
  Tensor z = w * 1.0;
  Tensor sq = z * z;
  z.index_put_({1}, 5.0);
  expect_error<AutogradError>([&] { sq.sum().backward(); }, {"modified by an in-place"});
  // The gradient through a put buffer reaches the values and the old contents.
  Tensor u = w * 3.0;
  u.index_put_({longs({2})}, v * 4.0);
  EXPECT_FALSE(u.is_leaf());
  u.sum().backward();
  EXPECT_EQ(v.grad().to_vector<double>(), (std::vector<double>{4}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{3, 3, 0}));
}

TEST(Indexing, Errors) {
  Tensor x = iota({2, 3});
  expect_error<IndexError>(
      [&] {
        x.index({0, 0, 0});
      },
      {"index", "too many indices", "2 dims", "[2, 3]"});
  expect_error<IndexError>(
      [&] {
        x.index({0, 3});
      },
      {"index", "index 3", "out of bounds", "dim 1", "size 3"});
  expect_error<IndexError>([&] { x.index({-3}); }, {"index", "-3", "dim 0", "size 2"});
  expect_error<IndexError>([&] { x.index({Ellipsis, "..."}); }, {"index", "single ellipsis"});
  expect_error<ValueError>([&] { x.index({Slice(None, None, 0)}); }, {"index", "step", "0"});
  expect_error<ValueError>(
      [&] {
        x.index({Slice(), Slice(2, 0, -1)});
      },
      {"index", "step", "-1", "dim 1"});
  expect_error<ValueError>([&] { x.index({".."}); }, {"index", "\"..\""});
  expect_error<ValueError>([&] { x.index({Tensor()}); }, {"index", "undefined"});
  expect_error<IndexError>([&] { x.index({tensor({0})}); }, {"index", "int64 or bool", "float32"});
  expect_error<IndexError>(
      [&] {
        x.index({bools({1, 0, 1})});
      },
      {"index", "mask", "[3]", "[2, 3]", "dim 0"});
  expect_error<IndexError>(
      [&] {
        x.index({Slice(), bools({1, 0})});
      },
      {"index", "mask", "[2]", "dim 1"});
  expect_error<ShapeError>(
      [&] {
        x.index({longs({0, 1}), longs({0, 1, 2})});
      },
      {"index", "[2]", "[3]", "broadcast"});
  // Index tensors out of range: on the CPU named here; on a GPU found by the kernel without a
  // host wait and thrown at the next wait.
  expect_error<IndexError>([&] { x.index({longs({0, 2})}); }, {"index", "2", "out of bounds"});
  // (A GPU reports a negative index after wrapping it: -4 + 3.)
  expect_error<IndexError>(
      [&] {
        x.index({Slice(), longs({-4})});
      },
      {ember_test::on_cuda() ? "-1" : "-4", "out of bounds", "size 3"});
  expect_error<IndexError>([&] { x.index({longs({1}), longs({7})}); }, {"7", "out of bounds"});

  expect_error<ShapeError>(
      [&] {
        x.index_put_({0}, tensor({1, 2}));
      },
      {"index_put_", "[2]", "[3]"});
  expect_error<ShapeError>(
      [&] {
        x.index_put_({longs({0, 1})}, tensor({1, 2}));
      },
      {"index_put_", "[2]", "[2, 3]"});
  expect_error<IndexError>([&] { x.index_put_({5}, 1.0); }, {"index_put_", "5", "dim 0"});
  expect_error<ValueError>([&] { x.index_put_({0}, Tensor()); }, {"index_put_", "undefined"});
  Tensor n = zeros({2}, kInt64);
  expect_error<ValueError>([&] { n.index_put_({0}, std::nan("")); }, {"index_put_", "value"});
  expect_error<ShapeError>(
      [&] {
        x.index_put({Slice()}, tensor({1, 2}));
      },
      {"index_put", "[2]", "[2, 3]"});
}
