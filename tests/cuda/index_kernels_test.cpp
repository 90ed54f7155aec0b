// kernels::cuda gather / scatter_add on cudasim against kernels::cpu: every dim of a 3-d
// tensor with a transposed (strided) operand and an index smaller than the tensor, every
// dtype, duplicate targets for scatter_add's atomics, the 0-d case, and out-of-range indices
// recorded in the device IndexCheck at the same position the CPU kernel returns.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cpu/index.h>
#include <ember/kernels/cuda/index.h>

#include "cuda/kernels_test_util.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;
using testing::make_layout;

constexpr int64_t kNoBadPosition = cuda::kNoBadIndex;

// The tensor: logical sizes (4, 5, 6) stored transposed in its last two dims, so its strides
// are (30, 1, 5). The index has sizes (3, 4, 5): smaller everywhere but along `dim`, where
// it may be anything.
constexpr int64_t kSizes[3] = {4, 5, 6};
constexpr int64_t kStrides[3] = {30, 1, 5};

Layout tensor_over_index(const Layout& index) {
  return make_layout({index.sizes[0], index.sizes[1], index.sizes[2]},
                     {kStrides[0], kStrides[1], kStrides[2]});
}

Layout index_shape(int dim) {
  int64_t s[3] = {3, 4, 5};
  s[dim] = 7;  // larger than the tensor along dim: repeated targets
  return make_layout({s[0], s[1], s[2]});
}

std::vector<int64_t> indices(int64_t n, int64_t size, uint32_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = (i * 7 + seed) % size;
  return v;
}

template <class S>
std::vector<S> values(int64_t n, uint32_t seed) {
  std::vector<S> v(static_cast<size_t>(n));
  // Integer-valued, so float sums are exact whatever order the atomics add in.
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<S>((i * 13 + seed) % 9);
  return v;
}

// The device IndexCheck (kernels/cuda/index_check.h); value() is the recorded position.
struct DeviceFlag {
  DeviceBuffer<cuda::IndexCheck> buf{std::vector<cuda::IndexCheck>(1)};
  cuda::IndexCheck record() const {
    const cuda::IndexCheck c = buf.download()[0];
    // Every launch's last block leaves the scratch as it found it.
    EXPECT_EQ(c.launch_first_bad, kNoBadPosition);
    EXPECT_EQ(c.blocks_done, 0u);
    return c;
  }
  int64_t value() const { return record().position; }
};

template <class S>
void check_gather(DType dt) {
  for (int dim = 0; dim < 3; ++dim) {
    SCOPED_TRACE(std::string(dtype_name(dt)) + " dim " + std::to_string(dim));
    const Layout il = index_shape(dim);
    const Layout xl = tensor_over_index(il);
    const int64_t n = il.numel();
    const std::vector<S> x = values<S>(120, 3);
    const std::vector<int64_t> index = indices(n, kSizes[dim], 1);
    std::vector<S> want(static_cast<size_t>(n));
    ASSERT_EQ(cpu::gather(dt, dim, xl, kSizes[dim], x.data(), index.data(), want.data()), -1);
    DeviceBuffer<S> dx(x), dout(static_cast<size_t>(n));
    DeviceBuffer<int64_t> di(index);
    DeviceFlag flag;
    const auto l = launches_during("gather", [&] {
      cuda::gather(dt, dim, xl, kSizes[dim], dx.get(), di.get(), dout.get(), flag.buf.get(),
                   nullptr);
    });
    EXPECT_EQ(l.total, 1);
    EXPECT_EQ(l.named, 1);
    EXPECT_EQ(flag.value(), kNoBadPosition);
    EXPECT_TRUE(all_close(dout.download(), want));
  }
}

TEST(CudaIndex, GatherMatchesCpuForEveryDimAndDtype) {
  check_gather<float>(kFloat32);
  check_gather<double>(kFloat64);
  check_gather<int64_t>(kInt64);
  check_gather<uint8_t>(kBool);
}

template <class S>
void check_scatter_add(DType dt) {
  for (int dim = 0; dim < 3; ++dim) {
    SCOPED_TRACE(std::string(dtype_name(dt)) + " dim " + std::to_string(dim));
    const Layout il = index_shape(dim);
    const Layout ol = tensor_over_index(il);
    const int64_t n = il.numel();
    std::vector<S> want = values<S>(120, 5);
    const std::vector<S> src = values<S>(n, 7);
    const std::vector<int64_t> index = indices(n, kSizes[dim], 2);
    DeviceBuffer<S> dout(want), dsrc(src);
    DeviceBuffer<int64_t> di(index);
    ASSERT_EQ(cpu::scatter_add(dt, dim, ol, kSizes[dim], want.data(), index.data(), src.data()),
              -1);
    DeviceFlag flag;
    const auto l = launches_during("scatter_add", [&] {
      cuda::scatter_add(dt, dim, ol, kSizes[dim], dout.get(), di.get(), dsrc.get(), flag.buf.get(),
                        nullptr);
    });
    EXPECT_EQ(l.total, 1);
    EXPECT_EQ(l.named, 1);
    EXPECT_EQ(flag.value(), kNoBadPosition);
    EXPECT_TRUE(all_close(dout.download(), want));
  }
}

TEST(CudaIndex, ScatterAddMatchesCpuWithRepeatedTargets) {
  check_scatter_add<float>(kFloat32);
  check_scatter_add<double>(kFloat64);
  check_scatter_add<int64_t>(kInt64);
}

TEST(CudaIndex, NonIntegerFloatSumsMatchWithinRounding) {
  const Layout ol = make_layout({1000}, {1});
  const int64_t n = 1000;
  std::vector<float> src = testing::random_vector<float>(n, 4);
  std::vector<int64_t> index(n);
  for (int64_t i = 0; i < n; ++i) index[i] = i % 3;  // ~333 additions per target
  std::vector<float> want(n, 0.0f);
  cpu::scatter_add(kFloat32, 0, ol, 3, want.data(), index.data(), src.data());
  DeviceBuffer<float> dout(std::vector<float>(n, 0.0f)), dsrc(src);
  DeviceBuffer<int64_t> di(index);
  DeviceFlag flag;
  cuda::scatter_add(kFloat32, 0, ol, 3, dout.get(), di.get(), dsrc.get(), flag.buf.get(), nullptr);
  EXPECT_TRUE(all_close(dout.download(), want, 1e-4));
}

// Bad indices at several positions (negative and too large): the record holds the first, the
// position the CPU kernel returns, with the index found there.
TEST(CudaIndex, OutOfRangeIndicesAreReportedAtTheFirstPosition) {
  const Layout il = index_shape(1);
  const Layout xl = tensor_over_index(il);
  const int64_t n = il.numel();
  std::vector<int64_t> index = indices(n, kSizes[1], 0);
  index[n - 1] = -1;
  index[77] = kSizes[1];
  index[40] = -1000;
  index[41] = std::numeric_limits<int64_t>::max();
  const std::vector<float> x = values<float>(120, 1);
  std::vector<float> out(n);
  const int64_t cpu_bad =
      cpu::gather(kFloat32, 1, xl, kSizes[1], x.data(), index.data(), out.data());
  ASSERT_EQ(cpu_bad, 40);
  DeviceBuffer<float> dx(x), dout(n);
  DeviceBuffer<int64_t> di(index);
  DeviceFlag gflag;
  cuda::gather(kFloat32, 1, xl, kSizes[1], dx.get(), di.get(), dout.get(), gflag.buf.get(),
               nullptr);
  cuda::IndexCheck rec = gflag.record();
  EXPECT_EQ(rec.position, cpu_bad);
  EXPECT_EQ(rec.value, -1000);
  EXPECT_EQ(rec.bound, kSizes[1]);
  EXPECT_EQ(rec.dim, 1);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::Gather);

  std::vector<float> target = values<float>(120, 2);
  const int64_t cpu_bad_scatter =
      cpu::scatter_add(kFloat32, 1, xl, kSizes[1], target.data(), index.data(), out.data());
  EXPECT_EQ(cpu_bad_scatter, 40);
  DeviceBuffer<float> dtarget(target), dsrc(out);
  DeviceFlag sflag;
  cuda::scatter_add(kFloat32, 1, xl, kSizes[1], dtarget.get(), di.get(), dsrc.get(),
                    sflag.buf.get(), nullptr);
  rec = sflag.record();
  EXPECT_EQ(rec.position, cpu_bad_scatter);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::ScatterAdd);
}

// index_select: one launch, the CPU kernel's rows, for every element size; bad indices are
// recorded at their first position, as the CPU throws them.
template <class S>
void check_index_select(DType dt) {
  const int64_t outer = 3, r = 5, inner = 7;
  const std::vector<S> x = values<S>(outer * r * inner, 5);
  const std::vector<int64_t> index = {4, 0, 0, 1, 2, 3, 2};
  const int64_t n = static_cast<int64_t>(index.size());
  std::vector<S> want(static_cast<size_t>(outer * n * inner));
  cpu::cpu_backend.index_select(dt, 1, x.data(), outer, r, inner, index.data(), n, want.data());
  DeviceBuffer<S> dx(x), dout(want.size());
  DeviceBuffer<int64_t> di(index);
  DeviceFlag flag;
  const auto l = launches_during("index_select", [&] {
    cuda::index_select(dt, 1, dx.get(), outer, r, inner, di.get(), n, dout.get(), flag.buf.get(),
                       nullptr);
  });
  EXPECT_EQ(l.total, 1);
  EXPECT_EQ(l.named, 1);
  EXPECT_TRUE(all_close(dout.download(), want));
  EXPECT_EQ(flag.record().position, cuda::kNoBadIndex);

  const std::vector<int64_t> bad = {4, 0, 5, 1, -1, 3, 2};
  DeviceBuffer<int64_t> dbad(bad);
  cuda::index_select(dt, 1, dx.get(), outer, r, inner, dbad.get(), n, dout.get(), flag.buf.get(),
                     nullptr);
  const cuda::IndexCheck rec = flag.record();
  EXPECT_EQ(rec.position, 2);
  EXPECT_EQ(rec.value, 5);
  EXPECT_EQ(rec.bound, r);
  EXPECT_EQ(rec.dim, 1);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::IndexSelect);
  try {
    cpu::cpu_backend.index_select(dt, 1, x.data(), outer, r, inner, bad.data(), n, want.data());
    ADD_FAILURE() << "the CPU took a bad index";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("index_select: index 5 at position 2"), std::string::npos)
        << e.what();
  }
}

TEST(CudaIndex, IndexSelectMatchesCpuForEveryElementSize) {
  check_index_select<float>(kFloat32);
  check_index_select<double>(kFloat64);
  check_index_select<int64_t>(kInt64);
}

TEST(CudaIndex, ZeroDim) {
  const Layout l = make_layout({});
  DeviceBuffer<double> dx(std::vector<double>{2.5}), dout(1);
  DeviceBuffer<int64_t> di(std::vector<int64_t>{0});
  DeviceFlag flag;
  cuda::gather(kFloat64, 0, l, 1, dx.get(), di.get(), dout.get(), flag.buf.get(), nullptr);
  EXPECT_EQ(dout.download()[0], 2.5);
  cuda::scatter_add(kFloat64, 0, l, 1, dout.get(), di.get(), dx.get(), flag.buf.get(), nullptr);
  EXPECT_EQ(dout.download()[0], 5.0);
  EXPECT_EQ(flag.value(), kNoBadPosition);
}

TEST(CudaIndex, BadArgumentsThrowBeforeLaunching) {
  const Layout l = make_layout({4});
  DeviceBuffer<uint8_t> b(4);
  DeviceBuffer<int64_t> i(4);
  DeviceFlag flag;
  const auto launched = launches_during("gather", [&] {
    EXPECT_THROW(
        cuda::scatter_add(kBool, 0, l, 4, b.get(), i.get(), b.get(), flag.buf.get(), nullptr),
        DTypeError);
    EXPECT_THROW(cuda::gather(kInt64, 1, l, 4, i.get(), i.get(), i.get(), flag.buf.get(), nullptr),
                 ValueError);
  });
  EXPECT_EQ(launched.total, 0);
}

}  // namespace
}  // namespace ember::kernels
