// cudasim's CUB subset against CPU reductions: BlockReduce (sum, max, num_valid, 2D blocks,
// per-thread arrays), WarpReduce (full and logical warps, valid_items) and DeviceReduce with
// CUB's two-phase temporary-storage API.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <cub/cub.cuh>
#include <cuda/functional>

#include <ember/core/error.h>

#include "cudasim/counters.h"
#include "sim_test_util.h"
#include "test_kernels.h"

namespace cudasim_test {
namespace {

TEST(CudasimCub, BlockReduceSumAndMaxWithPartialLastBlock) {
  const int n = 1000;  // 8 blocks of 128; the last has 104 valid threads
  const std::vector<float> host = random_floats(n, 7);
  DeviceArray<float> in(host);
  DeviceArray<float> sums(8), maxes(8);
  cub_block_reduce(in.get(), sums.get(), maxes.get(), n);
  const std::vector<float> got_sum = sums.download();
  const std::vector<float> got_max = maxes.download();
  for (int b = 0; b < 8; ++b) {
    const auto first = host.begin() + b * 128;
    const auto last = host.begin() + std::min(n, b * 128 + 128);
    EXPECT_NEAR(got_sum[b], std::accumulate(first, last, 0.0), 1e-4) << b;
    EXPECT_EQ(got_max[b], *std::max_element(first, last)) << b;
  }
}

TEST(CudasimCub, BlockReduceOver2DBlocksAndThreadArrays) {
  std::vector<int> host(2 * 192);
  std::iota(host.begin(), host.end(), -50);
  DeviceArray<int> in(host);
  DeviceArray<int> sums(2);
  cub_block_reduce_2d(in.get(), sums.get());
  const std::vector<int> got = sums.download();
  EXPECT_EQ(got[0], std::accumulate(host.begin(), host.begin() + 192, 0));
  EXPECT_EQ(got[1], std::accumulate(host.begin() + 192, host.end(), 0));
}

TEST(CudasimCub, WarpReduceFullLogicalAndPartialWarps) {
  const int threads = 128;
  std::vector<float> host(threads);
  for (int i = 0; i < threads; ++i) host[i] = static_cast<float>(i % 13) - 4.0f;
  DeviceArray<float> in(host);
  struct Case {
    int logical, valid;
  };
  for (const Case c : {Case{32, 32}, Case{32, 20}, Case{8, 8}, Case{8, 5}}) {
    DeviceArray<float> out(threads / c.logical);
    cub_warp_reduce(in.get(), out.get(), threads, c.logical, c.valid);
    const std::vector<float> got = out.download();
    for (int g = 0; g < threads / c.logical; ++g) {
      float want = 0;
      for (int l = 0; l < c.valid; ++l) want += host[g * c.logical + l];
      EXPECT_EQ(got[g], want) << "logical " << c.logical << " valid " << c.valid << " group " << g;
    }
  }
}

TEST(CudasimCub, BlockReduceInABlockOfTheWrongSizeFails) {
  DeviceArray<float> in(std::vector<float>(64, 1.0f));
  DeviceArray<float> out(1);
  try {
    cub_block_reduce_wrong_size(in.get(), out.get());
    wait_for_device();
    FAIL() << "expected a launch failure";
  } catch (const ember::CudaError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cub_block_reduce_wrong_size"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cub::BlockReduce<T, 128, ALGORITHM, 1, 1> used in a block of (64,1,1)"),
              std::string::npos)
        << msg;
  }
}

// Runs a DeviceReduce call the way CUB documents: size query, allocate, run.
template <typename Call>
cudaError_t two_phase(Call call) {
  size_t bytes = 0;
  cudaError_t err = call(nullptr, bytes);
  if (err != cudaSuccess) return err;
  EXPECT_GT(bytes, 0u);
  void* temp = nullptr;
  if (cudaMalloc(&temp, bytes) != cudaSuccess) return cudaErrorMemoryAllocation;
  err = call(temp, bytes);
  cudaFree(temp);
  return err;
}

TEST(CudasimCub, DeviceReduceSumMaxMinAndCustomReduce) {
  for (const int n : {1, 1000, 300000}) {  // one item, one partial pass, grid-stride passes
    const std::vector<float> host = random_floats(n, 8 + n);
    DeviceArray<float> in(host);
    DeviceArray<float> out(4);
    float* o = out.get();
    const float* d_in = in.get();
    ASSERT_EQ(
        two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Sum(t, b, d_in, o, n); }),
        cudaSuccess);
    ASSERT_EQ(
        two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Max(t, b, d_in, o + 1, n); }),
        cudaSuccess);
    ASSERT_EQ(
        two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Min(t, b, d_in, o + 2, n); }),
        cudaSuccess);
    ASSERT_EQ(two_phase([&](void* t, size_t& b) {
                return cub::DeviceReduce::Reduce(t, b, d_in, o + 3, n, ::cuda::maximum<>{}, 0.75f);
              }),
              cudaSuccess);
    const std::vector<float> got = out.download();
    const double sum = std::accumulate(host.begin(), host.end(), 0.0);
    const float mx = *std::max_element(host.begin(), host.end());
    EXPECT_NEAR(got[0], sum, 1e-5 * n + 1e-6) << n;
    EXPECT_EQ(got[1], mx) << n;
    EXPECT_EQ(got[2], *std::min_element(host.begin(), host.end())) << n;
    EXPECT_EQ(got[3], std::max(mx, 0.75f)) << n;
  }
}

TEST(CudasimCub, DeviceReduceEdgeCasesAndLaunches) {
  DeviceArray<int> in(std::vector<int>{3, -8, 5});
  DeviceArray<int> out(3);
  int* o = out.get();
  const int* d_in = in.get();
  // An empty input yields the identity of each reduction, as in CUB 3.
  ASSERT_EQ(two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Sum(t, b, d_in, o, 0); }),
            cudaSuccess);
  ASSERT_EQ(
      two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Max(t, b, d_in, o + 1, 0); }),
      cudaSuccess);
  ASSERT_EQ(
      two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Min(t, b, d_in, o + 2, 0); }),
      cudaSuccess);
  EXPECT_EQ(out.download(), (std::vector<int>{0, std::numeric_limits<int>::lowest(),
                                              std::numeric_limits<int>::max()}));

  cudasim::reset_counters();
  ASSERT_EQ(two_phase([&](void* t, size_t& b) { return cub::DeviceReduce::Sum(t, b, d_in, o, 3); }),
            cudaSuccess);
  EXPECT_EQ(cudasim::counters().kernel_launches, 2) << "a tile pass and a final pass, as CUB";
  EXPECT_EQ(out.download()[0], 0);

  size_t bytes = 0;
  ASSERT_EQ(cub::DeviceReduce::Sum(nullptr, bytes, d_in, o, 3), cudaSuccess);
  DeviceArray<char> small(1);
  size_t too_few = bytes - 1;
  EXPECT_EQ(cub::DeviceReduce::Sum(small.get(), too_few, d_in, o, 3), cudaErrorInvalidValue);
  std::vector<char> host_temp(bytes);
  EXPECT_EQ(cub::DeviceReduce::Sum(host_temp.data(), bytes, d_in, o, 3), cudaErrorInvalidValue)
      << "temporary storage must be device memory";
}

}  // namespace
}  // namespace cudasim_test
