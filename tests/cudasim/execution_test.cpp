// The simulator's execution model: barriers, shared memory, warp intrinsics, atomics and launch
// geometry compute what a GPU would, and broken kernels (divergent barriers, shuffles with
// missing lanes, invalid configurations) fail with an error that names the kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <ember/core/error.h>

#include "cudasim/counters.h"
#include "sim_test_util.h"
#include "test_kernels.h"

namespace cudasim_test {
namespace {

// The CudaError message of f(), or "<no error>".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
    wait_for_device();
  } catch (const ember::CudaError& e) {
    return e.what();
  }
  return "<no error>";
}

void expect_contains(const std::string& text, std::initializer_list<const char*> parts) {
  for (const char* part : parts) {
    EXPECT_NE(text.find(part), std::string::npos) << "missing '" << part << "' in: " << text;
  }
}

TEST(CudasimExecution, BlockReductionWithSyncthreadsMatchesCpu) {
  const int n = 1000;  // four blocks of 256, the last one partial
  const std::vector<float> host = random_floats(n, 1);
  DeviceArray<float> in(host);
  DeviceArray<float> out(4);
  block_sum(in.get(), out.get(), n);
  const std::vector<float> got = out.download();
  for (int b = 0; b < 4; ++b) {
    double want = 0;
    for (int i = b * 256; i < std::min(n, b * 256 + 256); ++i) want += host[i];
    EXPECT_NEAR(got[b], want, 1e-4) << "block " << b;
  }
}

TEST(CudasimExecution, WarpShuffleReductions) {
  const int warps = 8;
  std::vector<float> host(warps * 32);
  for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(i % 7) + 0.5f;
  DeviceArray<float> in(host);
  DeviceArray<float> sums(warps);
  DeviceArray<float> all(warps * 32);
  warp_sum_down(in.get(), sums.get(), warps);
  warp_sum_xor(in.get(), all.get(), warps);
  const std::vector<float> got_sums = sums.download();
  const std::vector<float> got_all = all.download();
  for (int w = 0; w < warps; ++w) {
    float want = 0;
    for (int l = 0; l < 32; ++l) want += host[w * 32 + l];
    EXPECT_FLOAT_EQ(got_sums[w], want) << "shfl_down, warp " << w;
    for (int l = 0; l < 32; ++l) EXPECT_FLOAT_EQ(got_all[w * 32 + l], want) << "xor lane " << l;
  }
}

TEST(CudasimExecution, BallotUpAndIndexedShuffles) {
  std::vector<int> pred(64);
  for (int i = 0; i < 64; ++i) pred[i] = (i % 3 == 0) || i == 40;
  DeviceArray<int> in(pred);
  DeviceArray<unsigned> votes(2);
  warp_ballot(in.get(), votes.get());
  const std::vector<unsigned> got = votes.download();
  for (int w = 0; w < 2; ++w) {
    unsigned want = 0;
    for (int l = 0; l < 32; ++l) want |= pred[w * 32 + l] ? 1u << l : 0u;
    EXPECT_EQ(got[w], want) << "warp " << w;
  }

  DeviceArray<int> up(32);
  DeviceArray<int> idx(32);
  warp_shfl_up_idx(up.get(), idx.get());
  const std::vector<int> got_up = up.download();
  const std::vector<int> got_idx = idx.download();
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(got_up[i], i % 8 == 0 ? i : i - 1) << "lane " << i;  // width 8: no crossing
    EXPECT_EQ(got_idx[i], i / 8 * 8 + 3) << "lane " << i;
  }
}

TEST(CudasimExecution, GridStrideLoopVisitsEveryElementOnce) {
  const int64_t n = 10007;
  DeviceArray<float> x(std::vector<float>(n, 1.0f));
  grid_stride_axpi(x.get(), n, 2.0f, 7, 96);
  const std::vector<float> got = x.download();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], 2.0f + static_cast<float>(i)) << i;
}

TEST(CudasimExecution, EveryThreadSeesItsOwn3DIndices) {
  const dim3 grid(3, 2, 2);
  const dim3 block(4, 3, 2);
  const int total = 12 * 24;
  DeviceArray<int> ids(total);
  DeviceArray<int> coords(total);
  record_indices(ids.get(), coords.get(), grid, block);
  const std::vector<int> got_ids = ids.download();
  const std::vector<int> got_coords = coords.download();
  std::set<int> unique(got_coords.begin(), got_coords.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(total));
  for (int i = 0; i < total; ++i) EXPECT_EQ(got_ids[i], i);
  // Thread 5 of block 7: block (1,0,1), thread (1,1,0).
  EXPECT_EQ(got_coords[7 * 24 + 5], ((1 * 8 + 0) * 8 + 1) * 4096 + (0 * 16 + 1) * 16 + 1);
}

TEST(CudasimExecution, DynamicSharedMemoryIsPerBlockAndStartsAsNaN) {
  const int n = 300;
  const int threads = 128;
  const std::vector<float> host = random_floats(n, 2);
  DeviceArray<float> in(host);
  DeviceArray<float> out(n);
  reverse_in_smem(in.get(), out.get(), n, threads);
  const std::vector<float> got = out.download();
  for (int j = 0; j < n; ++j) {
    const int b = j / threads;
    const int src = b * threads + (threads - 1 - (j - b * threads));
    EXPECT_EQ(got[j], src < n ? host[src] : 0.0f) << j;
  }
  DeviceArray<float> nan(3);
  smem_starts_nan(nan.get(), 3);
  EXPECT_EQ(nan.download(), std::vector<float>(3, 1.0f));
}

TEST(CudasimExecution, AtomicsAcrossBlocks) {
  const InOrderBlocks in_order;
  const int n = 1000;
  std::vector<int> host(n);
  for (int i = 0; i < n; ++i) host[i] = i % 10;
  DeviceArray<int> in(host);
  DeviceArray<int> bins(std::vector<int>(10, 0));
  DeviceArray<int> stats(std::vector<int>{-1, 100, 0, 0});
  atomic_histogram(in.get(), n, bins.get(), stats.get());
  EXPECT_EQ(bins.download(), std::vector<int>(10, 100));
  // Blocks and threads run in order, so thread 0 of block 0 wins the CAS.
  EXPECT_EQ(stats.download(), (std::vector<int>{9, 0, 1, 7}));
}

TEST(CudasimErrors, ThreadExitingBeforeABarrierIsReported) {
  DeviceArray<float> p(64);
  const std::string msg = error_of([&] { exit_before_barrier(p.get()); });
  expect_contains(msg, {"exit_before_barrier", "is not reached by every thread",
                        "thread (0,0,0) of block (0,0,0) exited", "exec_kernels.cu"});
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the launcher consumes the error";
}

TEST(CudasimErrors, ThreadsAtDifferentBarriersAreReported) {
  DeviceArray<float> p(64);
  expect_contains(error_of([&] { two_barriers(p.get()); }),
                  {"two_barriers", "divergent __syncthreads()", "cudaErrorLaunchFailure"});
}

TEST(CudasimErrors, ShuffleNamingAnExitedLaneIsReported) {
  DeviceArray<float> p(32);
  expect_contains(error_of([&] { shuffle_after_exit(p.get()); }),
                  {"shuffle_after_exit", "thread (31,0,0)", "exited while lanes 0x7fffffff",
                   "__shfl_down_sync"});
}

TEST(CudasimErrors, ShuffleReadingALaneOutsideTheMaskIsReported) {
  DeviceArray<float> p(32);
  expect_contains(error_of([&] { shuffle_outside_mask(p.get()); }),
                  {"shuffle_outside_mask", "reads lane 16", "not in the mask"});
}

TEST(CudasimErrors, InvalidLaunchConfigurationsAreRejected) {
  struct Case {
    dim3 grid, block;
    size_t smem;
    const char* code;
  };
  const Case bad[] = {
      {dim3(1), dim3(1025), 0, "cudaErrorInvalidConfiguration"},
      {dim3(1), dim3(32, 32, 2), 0, "cudaErrorInvalidConfiguration"},  // 2048 threads
      {dim3(1), dim3(1, 1, 65), 0, "cudaErrorInvalidConfiguration"},
      {dim3(0), dim3(32), 0, "cudaErrorInvalidConfiguration"},
      {dim3(1), dim3(0), 0, "cudaErrorInvalidConfiguration"},
      {dim3(1, 65536), dim3(32), 0, "cudaErrorInvalidConfiguration"},
      {dim3(1), dim3(32), 48 * 1024 + 1, "cudaErrorInvalidValue"},
  };
  cudasim::reset_counters();
  for (const Case& c : bad) {
    expect_contains(error_of([&] { launch_noop(c.grid, c.block, c.smem); }),
                    {"CUDA kernel 'noop'", c.code});
  }
  EXPECT_EQ(cudasim::counters().kernel_launches, 0) << "rejected launches do not run";
  // The limits themselves are valid.
  EXPECT_EQ(error_of([] { launch_noop(dim3(1), dim3(1024), 48 * 1024); }), "<no error>");
  EXPECT_EQ(error_of([] { launch_noop(dim3(1, 65535, 2), dim3(1), 0); }), "<no error>");
  EXPECT_EQ(error_of([] { launch_noop(dim3(1), dim3(2, 2, 64), 0); }), "<no error>");
}

TEST(CudasimErrors, DynamicSharedMemoryOverrunIsReported) {
  expect_contains(error_of([] { smem_overrun(64); }),
                  {"smem_overrun", "block (0,0,0) wrote past its 64 bytes of dynamic shared memory",
                   "cudaErrorIllegalAddress"});
}

TEST(CudasimErrors, ExceptionInAKernelFailsTheLaunch) {
  expect_contains(error_of([] { throwing_kernel(); }),
                  {"throwing_kernel", "thread (5,0,0)", "thrown by a test kernel"});
  // The simulator is usable afterwards.
  EXPECT_EQ(error_of([] { launch_noop(dim3(4), dim3(64), 0); }), "<no error>");
}

// The budget: an elementwise launch of 256 blocks x 256 threads well under 20 ms.
TEST(CudasimPerformance, ElementwiseLaunchOf65536Threads) {
  const int64_t n = 256 * 256;
  DeviceArray<float> x(std::vector<float>(n, 0.0f));
  grid_stride_axpi(x.get(), n, 1.0f, 256, 256);  // warm the fiber stacks
  double best_ms = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    grid_stride_axpi(x.get(), n, 1.0f, 256, 256);
    const auto t1 = std::chrono::steady_clock::now();
    best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::printf("[ cudasim ] 256x256 elementwise launch: %.2f ms\n", best_ms);
  RecordProperty("elementwise_256x256_ms", std::to_string(best_ms));
#if defined(NDEBUG)
  EXPECT_LT(best_ms, 20.0);
#endif
}

}  // namespace
}  // namespace cudasim_test
