// gather / scatter_add against naive coordinate loops, along every dim of a 3-d tensor,
// with a strided (transposed) operand, duplicate indices, and out-of-range indices reported
// by position with nothing written.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cpu/index.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using testing::coords_of;
using testing::make_layout;
using testing::offset_at;

// x: (4, 5, 6) contiguous; index: (3, 4, 2) shaped, values in [0, x.size(dim)).
TEST(Gather, EveryDimMatchesNaive) {
  const Layout x_full = make_layout({4, 5, 6});
  const std::vector<double> x = testing::random_vector<double>(120, 61);
  const int64_t isz[3] = {3, 4, 2};
  for (int dim = 0; dim < 3; ++dim) {
    Layout xl = make_layout({isz[0], isz[1], isz[2]});              // index sizes ...
    for (int d = 0; d < 3; ++d) xl.strides[d] = x_full.strides[d];  // ... x strides
    std::vector<int64_t> index(24);
    for (int64_t p = 0; p < 24; ++p) index[p] = (p * 5 + 1) % x_full.sizes[dim];
    std::vector<double> out(24);
    ASSERT_EQ(cpu::gather(kFloat64, dim, xl, x_full.sizes[dim], x.data(), index.data(), out.data()),
              -1);
    for (int64_t p = 0; p < 24; ++p) {
      auto c = coords_of(xl, p);
      c[dim] = index[p];
      ASSERT_EQ(out[p], x[offset_at(x_full, c)]) << "dim " << dim << " p " << p;
    }
  }
}

TEST(Gather, StridedSourceAndAllDtypes) {
  // x is the transpose of a (6, 4) buffer: sizes (4, 6), strides (1, 4). Gather along dim 1
  // (the cross-entropy pick pattern: one column per row).
  std::vector<int64_t> xi(24);
  for (int64_t k = 0; k < 24; ++k) xi[k] = 100 + k;
  const Layout xl = make_layout({4, 1}, {1, 4});
  const std::vector<int64_t> index = {5, 0, 3, 2};
  std::vector<int64_t> out(4);
  ASSERT_EQ(cpu::gather(kInt64, 1, xl, 6, xi.data(), index.data(), out.data()), -1);
  for (int64_t r = 0; r < 4; ++r) EXPECT_EQ(out[r], xi[r + 4 * index[r]]);

  const std::vector<float> xf = {1, 2, 3, 4, 5, 6};  // (2, 3)
  std::vector<float> of(2);
  const std::vector<int64_t> idx = {2, 1};
  ASSERT_EQ(
      cpu::gather(kFloat32, 1, make_layout({2, 1}, {3, 1}), 3, xf.data(), idx.data(), of.data()),
      -1);
  EXPECT_EQ(of, (std::vector<float>{3, 5}));
  const bool xb[4] = {true, false, false, true};
  bool ob[2];
  const std::vector<int64_t> ib = {1, 0};
  ASSERT_EQ(cpu::gather(kBool, 0, make_layout({2}), 4, xb, ib.data(), ob), -1);
  EXPECT_FALSE(ob[0]);
  EXPECT_TRUE(ob[1]);
}

TEST(Gather, LargeParallel) {
  const int64_t rows = 50000, cols = 3;
  std::vector<double> x(rows * cols);
  for (int64_t k = 0; k < rows * cols; ++k) x[k] = double(k);
  std::vector<int64_t> index(rows);
  for (int64_t r = 0; r < rows; ++r) index[r] = r % cols;
  std::vector<double> out(rows);
  ASSERT_EQ(cpu::gather(kFloat64, 1, make_layout({rows, 1}, {cols, 1}), cols, x.data(),
                        index.data(), out.data()),
            -1);
  for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(out[r], double(r * cols + r % cols));
}

// gather along dim 0 over contiguous rows (the memcpy path): rows of equal indices, rows of
// mixed indices, and an index narrower than x (each row a segment of x's row).
TEST(Gather, Dim0RowsMatchNaive) {
  const int64_t n = 7, c = 12, narrow = 9;
  const std::vector<float> x = testing::random_vector<float>(n * c, 83);
  const int64_t m = 5;
  std::vector<int64_t> index(m * narrow);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < narrow; ++j)
      index[r * narrow + j] = r == 2 ? (j * 3 + 1) % n : (r * 4 + 3) % n;  // row 2 is mixed
  const Layout xl = make_layout({m, narrow}, {c, 1});
  std::vector<float> out(m * narrow, -1.0f);
  ASSERT_EQ(cpu::gather(kFloat32, 0, xl, n, x.data(), index.data(), out.data()), -1);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < narrow; ++j)
      ASSERT_EQ(out[r * narrow + j], x[index[r * narrow + j] * c + j]) << r << "," << j;
  // A bad index in a row of otherwise equal indices is still found, and nothing is written.
  index[3 * narrow + 4] = n;
  std::vector<float> untouched(m * narrow, -1.0f);
  EXPECT_EQ(cpu::gather(kFloat32, 0, xl, n, x.data(), index.data(), untouched.data()),
            3 * narrow + 4);
  EXPECT_EQ(untouched, std::vector<float>(m * narrow, -1.0f));
}

TEST(Gather, ReportsFirstOutOfRange) {
  const std::vector<double> x = {1, 2, 3};
  std::vector<double> out(4, -7.0);
  const std::vector<int64_t> index = {0, 2, 3, -1};
  EXPECT_EQ(cpu::gather(kFloat64, 0, make_layout({4}), 3, x.data(), index.data(), out.data()), 2);
  EXPECT_EQ(out, (std::vector<double>(4, -7.0)));  // nothing written
  const std::vector<int64_t> neg = {0, -1};
  EXPECT_EQ(cpu::gather(kFloat64, 0, make_layout({2}), 3, x.data(), neg.data(), out.data()), 1);
  EXPECT_THROW(cpu::gather(kFloat64, 1, make_layout({2}), 3, x.data(), neg.data(), out.data()),
               ValueError);
}

TEST(ScatterAdd, EveryDimWithDuplicatesMatchesNaive) {
  const Layout o_full = make_layout({3, 4, 5});
  const int64_t isz[3] = {3, 4, 2};
  const std::vector<double> src = testing::random_vector<double>(24, 71);
  for (int dim = 0; dim < 3; ++dim) {
    Layout ol = make_layout({isz[0], isz[1], isz[2]});
    for (int d = 0; d < 3; ++d) ol.strides[d] = o_full.strides[d];
    std::vector<int64_t> index(24);
    for (int64_t p = 0; p < 24; ++p) index[p] = (p * 3) % 2;  // many collisions
    std::vector<double> out(60, 1.0), want(60, 1.0);
    ASSERT_EQ(cpu::scatter_add(kFloat64, dim, ol, o_full.sizes[dim], out.data(), index.data(),
                               src.data()),
              -1);
    for (int64_t p = 0; p < 24; ++p) {
      auto c = coords_of(ol, p);
      c[dim] = index[p];
      want[offset_at(o_full, c)] += src[p];
    }
    for (int64_t k = 0; k < 60; ++k) ASSERT_EQ(out[k], want[k]) << "dim " << dim << " k " << k;
  }
}

TEST(ScatterAdd, EmbeddingBackwardPatternAndErrors) {
  // out (5,) += src (6,) at index: the embedding-gradient shape along dim 0.
  const std::vector<int64_t> index = {4, 0, 4, 4, 2, 0};
  const std::vector<float> src = {1, 2, 3, 4, 5, 6};
  std::vector<float> out(5, 0.0f);
  ASSERT_EQ(
      cpu::scatter_add(kFloat32, 0, make_layout({6}), 5, out.data(), index.data(), src.data()), -1);
  EXPECT_EQ(out, (std::vector<float>{8, 0, 5, 0, 8}));
  std::vector<int64_t> oi(2, 0);
  const std::vector<int64_t> si = {7, 9, 11};
  const std::vector<int64_t> ii = {1, 1, 0};
  ASSERT_EQ(cpu::scatter_add(kInt64, 0, make_layout({3}), 2, oi.data(), ii.data(), si.data()), -1);
  EXPECT_EQ(oi, (std::vector<int64_t>{11, 16}));
  const std::vector<int64_t> bad = {0, 1, 5};
  std::vector<int64_t> before = oi;
  EXPECT_EQ(cpu::scatter_add(kInt64, 0, make_layout({3}), 2, oi.data(), bad.data(), si.data()), 2);
  EXPECT_EQ(oi, before);
  bool ob[1];
  const bool sb[1] = {true};
  const std::vector<int64_t> z = {0};
  EXPECT_THROW(cpu::scatter_add(kBool, 0, make_layout({1}), 1, ob, z.data(), sb), DTypeError);
}

// index_select over (outer, r, inner) against a naive loop: runs of consecutive indices (one
// long copy), repeats, reversed order, and every element size.
template <class T>
void check_index_select(DType dt) {
  for (auto [outer, r, inner] :
       {std::tuple<int64_t, int64_t, int64_t>{1, 7, 5}, {3, 4, 1}, {2, 6, 3}, {1, 1000, 40}}) {
    std::vector<T> x(static_cast<size_t>(outer * r * inner));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i % 251 + 1);
    std::vector<int64_t> index;
    for (int64_t i = 0; i < r; ++i) index.push_back(i);       // one run
    for (int64_t i = r - 1; i >= 0; --i) index.push_back(i);  // reversed
    index.push_back(0);
    index.push_back(0);  // a repeat
    const int64_t n = static_cast<int64_t>(index.size());
    std::vector<T> out(static_cast<size_t>(outer * n * inner));
    cpu::cpu_backend.index_select(dt, 1, x.data(), outer, r, inner, index.data(), n, out.data());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < inner; ++j)
          ASSERT_EQ(out[(o * n + i) * inner + j], x[(o * r + index[i]) * inner + j])
              << "outer " << outer << " r " << r << " inner " << inner << " at " << o << "," << i
              << "," << j;
  }
}

TEST(IndexSelect, RowsMatchNaiveForEveryElementSize) {
  check_index_select<uint8_t>(kBool);
  check_index_select<float>(kFloat32);
  check_index_select<double>(kFloat64);
  check_index_select<int64_t>(kInt64);
}

}  // namespace
}  // namespace ember::kernels
