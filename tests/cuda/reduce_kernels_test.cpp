// kernels::cuda::reduce / reduce_with_index on cudasim against kernels::cpu: every op and
// dtype over rows of every block size, columns (inner > 1), several outer slices, the
// whole-tensor CUB path, r == 0, NaN propagation, and first-index-on-ties for argmax/argmin
// (ties planted across threads, warps and the 8 rows of a columns block).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cuda/reduce.h>

#include "cuda/kernels_test_util.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;

struct Geometry {
  int64_t outer, r, inner;
};

// Rows with each block size (r <= 64: 32 threads, <= 4096: 128, else 512), several rows per
// launch, columns with partial tiles, and r shorter than the 8 rows of a columns block.
const Geometry kGeometries[] = {{5, 1, 1},    {7, 10, 1},  {3, 64, 1},  {4, 300, 1},
                                {2, 5000, 1}, {1, 999, 1}, {3, 17, 40}, {2, 100, 33},
                                {1, 3, 70},   {6, 2, 5},   {1, 256, 10}};

// Values for `op`: products stay near 1 (no overflow), integers are small so sums are exact.
template <class T>
std::vector<T> inputs(ReduceOp op, size_t n, uint32_t seed) {
  if (op == ReduceOp::Prod) {
    std::vector<T> v = testing::random_vector<T>(n, seed, 0.95, 1.05);
    if constexpr (std::is_integral_v<T>) {
      for (size_t i = 0; i < n; ++i) v[i] = (i % 17 == 3) ? -1 : 1;
    }
    return v;
  }
  if constexpr (std::is_integral_v<T>) {
    std::vector<T> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>((i * 7919 + seed) % 101) - 50;
    return v;
  }
  return testing::random_vector<T>(n, seed, -3.0, 3.0);
}

template <class T>
void check_reduce(DType dt, ReduceOp op, const Geometry& g, double rtol) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + " op " + std::to_string(static_cast<int>(op)) + " (" +
               std::to_string(g.outer) + ", " + std::to_string(g.r) + ", " +
               std::to_string(g.inner) + ")");
  const size_t n = static_cast<size_t>(g.outer * g.r * g.inner);
  const std::vector<T> x = inputs<T>(op, n, 11);
  std::vector<T> want(static_cast<size_t>(g.outer * g.inner));
  cpu::cpu_backend.reduce(op, dt, x.data(), want.data(), g.outer, g.r, g.inner);
  DeviceBuffer<T> dx(x), dout(want.size());
  const auto l = launches_during(
      "", [&] { cuda::reduce(op, dt, dx.get(), dout.get(), g.outer, g.r, g.inner, nullptr); });
  EXPECT_EQ(l.total, 1) << "one launch per reduction below the CUB threshold";
  EXPECT_TRUE(all_close(dout.download(), want, rtol));
}

template <class T>
void check_all_ops(DType dt, double rtol) {
  for (const Geometry& g : kGeometries) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min})
      check_reduce<T>(dt, op, g, rtol);
    if constexpr (!std::is_integral_v<T>) check_reduce<T>(dt, ReduceOp::Mean, g, rtol);
  }
}

TEST(CudaReduce, EveryOpMatchesCpuFloat32) {
  check_all_ops<float>(kFloat32, 1e-6);
}

TEST(CudaReduce, EveryOpMatchesCpuFloat64) {
  check_all_ops<double>(kFloat64, 1e-13);
}

TEST(CudaReduce, EveryOpMatchesCpuInt64) {
  check_all_ops<int64_t>(kInt64, 0);
}

TEST(CudaReduce, EmptyReductionGivesIdentityAndMeanNan) {
  DeviceBuffer<float> dx(std::vector<float>{1.0f}), dout(6);
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Mean}) {
    std::vector<float> want(6);
    cpu::cpu_backend.reduce(op, kFloat32, nullptr, want.data(), 2, 0, 3);
    cuda::reduce(op, kFloat32, dx.get(), dout.get(), 2, 0, 3, nullptr);
    EXPECT_TRUE(all_close(dout.download(), want));
    cuda::reduce(op, kFloat32, dx.get(), dout.get(), 6, 0, 1, nullptr);
    EXPECT_TRUE(all_close(dout.download(), want));
  }
}

// Whole tensors above the threshold go through cub::DeviceReduce (plus a finishing kernel
// for Mean); float32 still accumulates in double.
TEST(CudaReduce, WholeTensorUsesDeviceReduce) {
  const int64_t n = 70001;
  for (ReduceOp op :
       {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod}) {
    SCOPED_TRACE(static_cast<int>(op));
    const std::vector<float> x = inputs<float>(op, static_cast<size_t>(n), 5);
    float want = 0;
    cpu::cpu_backend.reduce(op, kFloat32, x.data(), &want, 1, n, 1);
    DeviceBuffer<float> dx(x), dout(1);
    const auto l = launches_during("cub::DeviceReduce(tiles)", [&] {
      cuda::reduce(op, kFloat32, dx.get(), dout.get(), 1, n, 1, nullptr);
    });
    EXPECT_EQ(l.named, 1);
    EXPECT_EQ(l.total, op == ReduceOp::Mean ? 3 : 2);
    EXPECT_TRUE(all_close(dout.download(), {want}, 1e-6));
  }
  std::vector<int64_t> xi(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) xi[static_cast<size_t>(i)] = i % 1000 - 400;
  int64_t want = 0;
  cpu::cpu_backend.reduce(ReduceOp::Sum, kInt64, xi.data(), &want, 1, n, 1);
  DeviceBuffer<int64_t> dxi(xi), douti(1);
  cuda::reduce(ReduceOp::Sum, kInt64, dxi.get(), douti.get(), 1, n, 1, nullptr);
  EXPECT_EQ(douti.download()[0], want);
}

TEST(CudaReduce, MaxAndMinPropagateNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Geometry& g : {Geometry{3, 300, 1}, Geometry{2, 40, 7}, Geometry{1, 70000, 1}}) {
    std::vector<float> x =
        inputs<float>(ReduceOp::Max, static_cast<size_t>(g.outer * g.r * g.inner), 3);
    x[x.size() / 2] = nan;  // in one output only
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum}) {
      std::vector<float> want(static_cast<size_t>(g.outer * g.inner));
      cpu::cpu_backend.reduce(op, kFloat32, x.data(), want.data(), g.outer, g.r, g.inner);
      DeviceBuffer<float> dx(x), dout(want.size());
      cuda::reduce(op, kFloat32, dx.get(), dout.get(), g.outer, g.r, g.inner, nullptr);
      const std::vector<float> got = dout.download();
      EXPECT_TRUE(all_close(got, want, 1e-6));
      int nans = 0;
      for (float v : got) nans += std::isnan(v) ? 1 : 0;
      EXPECT_EQ(nans, 1);
    }
  }
}

TEST(CudaReduce, BoolAndIntegerMeanAreRejected) {
  DeviceBuffer<int64_t> d(4);
  EXPECT_THROW(cuda::reduce(ReduceOp::Mean, kInt64, d.get(), d.get(), 1, 4, 1, nullptr),
               DTypeError);
  EXPECT_THROW(cuda::reduce(ReduceOp::Sum, kBool, d.get(), d.get(), 1, 4, 1, nullptr), DTypeError);
  EXPECT_THROW(
      cuda::reduce_with_index(ReduceOp::Sum, kFloat32, d.get(), d.get(), d.get(), 1, 4, 1, nullptr),
      DTypeError);
}

// ---------------------------------------------------------------------------------------
// reduce_with_index

template <class T>
void check_with_index(DType dt, ReduceOp op, const Geometry& g, const std::vector<T>& x,
                      bool with_values) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + (op == ReduceOp::Max ? " max" : " min") + " (" +
               std::to_string(g.outer) + ", " + std::to_string(g.r) + ", " +
               std::to_string(g.inner) + ")");
  const size_t outs = static_cast<size_t>(g.outer * g.inner);
  std::vector<T> want_v(outs);
  std::vector<int64_t> want_i(outs);
  cpu::cpu_backend.reduce_with_index(op, dt, x.data(), want_v.data(), want_i.data(), g.outer, g.r,
                                     g.inner);
  DeviceBuffer<T> dx(x), dv(outs);
  DeviceBuffer<int64_t> di(outs);
  const auto l = launches_during("", [&] {
    cuda::reduce_with_index(op, dt, dx.get(), with_values ? dv.get() : nullptr, di.get(), g.outer,
                            g.r, g.inner, nullptr);
  });
  EXPECT_EQ(l.total, 1);
  EXPECT_EQ(di.download(), want_i);
  if (with_values) {
    EXPECT_TRUE(all_close(dv.download(), want_v));
  }
}

// Few distinct values, so every row has many ties for its extreme, spread over threads.
template <class T>
std::vector<T> tied(size_t n, uint32_t seed) {
  std::vector<T> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>((i * 2654435761u + seed) % 5);
  return v;
}

template <class T>
void check_ties(DType dt) {
  for (const Geometry& g : kGeometries) {
    const std::vector<T> x = tied<T>(static_cast<size_t>(g.outer * g.r * g.inner), 7);
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
      check_with_index<T>(dt, op, g, x, true);
      check_with_index<T>(dt, op, g, x, false);
    }
  }
}

TEST(CudaReduceWithIndex, FirstIndexOnTiesFloat32) {
  check_ties<float>(kFloat32);
}
TEST(CudaReduceWithIndex, FirstIndexOnTiesFloat64) {
  check_ties<double>(kFloat64);
}
TEST(CudaReduceWithIndex, FirstIndexOnTiesInt64) {
  check_ties<int64_t>(kInt64);
}

// The extreme sits late in one thread's slice and early in another's: the block must pick
// the lower index, not the first thread's.
TEST(CudaReduceWithIndex, TieAcrossThreadsPicksLowestIndex) {
  const int64_t r = 5000;
  std::vector<float> x(static_cast<size_t>(r), 0.0f);
  x[4999] = 9.0f;  // thread 4999 % 512 = 391
  x[700] = 9.0f;   // thread 188
  x[1100] = 9.0f;  // thread 76, but a later index than 700
  check_with_index<float>(kFloat32, ReduceOp::Max, {1, r, 1}, x, true);
  std::vector<float> cols(static_cast<size_t>(40 * 3), 1.0f);
  cols[39 * 3 + 1] = -5.0f;  // column 1: rows 39 and 6 tie (rows 7 apart in a block of 8)
  cols[6 * 3 + 1] = -5.0f;
  check_with_index<float>(kFloat32, ReduceOp::Min, {1, 40, 3}, cols, true);
}

TEST(CudaReduceWithIndex, FirstNanWins) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Geometry& g :
       {Geometry{2, 300, 1}, Geometry{3, 5000, 1}, Geometry{2, 20, 9}, Geometry{4, 10, 1}}) {
    std::vector<float> x =
        testing::random_vector<float>(static_cast<size_t>(g.outer * g.r * g.inner), 9);
    // Row/column 0 of the first slice: NaNs at r-1 and r/2 (the second is the answer).
    x[static_cast<size_t>((g.r - 1) * g.inner)] = nan;
    x[static_cast<size_t>((g.r / 2) * g.inner)] = nan;
    x[static_cast<size_t>(g.inner)] = 100.0f;  // a larger value before the NaNs
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min})
      check_with_index<float>(kFloat32, op, g, x, true);
  }
}

TEST(CudaReduceWithIndex, AllInfinitePicksFirst) {
  const float inf = std::numeric_limits<float>::infinity();
  check_with_index<float>(kFloat32, ReduceOp::Max, {2, 100, 1}, std::vector<float>(200, -inf),
                          true);
  check_with_index<float>(kFloat32, ReduceOp::Min, {2, 10, 3}, std::vector<float>(60, inf), true);
}

}  // namespace
}  // namespace ember::kernels
