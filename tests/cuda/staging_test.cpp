// The CUDA backend's pinned staging is bounded: large copies go through it in chunks, a loop
// that stages faster than the GPU drains waits instead of pinning more, and idle pinned memory
// goes back with cuda::empty_cache(). Measured on cudasim's pinned accounting
// (cudasim/memory.h), with deferred streams so that copies pile up as behind a busy GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include <cudasim/memory.h>
#include <cudasim/modes.h>
#include <ember/ember.h>

namespace ember {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
const Device kCuda = Device::cuda(0);

// Restores the staging limit, the simulated machine's pinned limit and the mode on exit.
class CudaStaging : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)zeros({1}, kCuda);  // the backend and its fixed pinned records exist
    old_limit_ = cuda::staging_limit();
    was_deferred_ = cudasim::deferred();
  }
  void TearDown() override {
    cudasim::set_deferred(was_deferred_);
    cudasim::set_pinned_memory_limit(SIZE_MAX);
    cuda::set_staging_limit(old_limit_);
  }
  int64_t old_limit_ = 0;
  bool was_deferred_ = false;
};

TEST_F(CudaStaging, ATensorLargerThanTheLimitIsCopiedInChunksBothWays) {
  cuda::set_staging_limit(8 * kMiB);
  cuda::empty_cache();
  // The machine can pin 16 MiB more than now: a one-piece staging of 64 MiB would fail.
  cudasim::set_pinned_memory_limit(cudasim::pinned_bytes() + 16 * kMiB);
  const size_t pinned_before = cudasim::pinned_bytes();
  cudasim::reset_peak_pinned_bytes();
  const int64_t n = 16 * kMiB;  // 64 MiB of float32
  const Tensor host = arange(0, static_cast<double>(n), 1, kFloat32);
  const Tensor dev = host.to(kCuda);
  const Tensor back = (dev + 1.0).cpu();
  const std::vector<float> got = back.to_vector<float>();
  for (int64_t i = 0; i < n; i += 4099) ASSERT_EQ(got[i], static_cast<float>(i + 1)) << i;
  EXPECT_EQ(got[n - 1], static_cast<float>(n));
  EXPECT_LE(cuda::max_staging_bytes(), 8 * kMiB);
  EXPECT_LE(cudasim::peak_pinned_bytes() - pinned_before, static_cast<size_t>(10 * kMiB));
}

TEST_F(CudaStaging, AGpuBoundLoopWaitsInsteadOfPinningMore) {
  cuda::set_staging_limit(8 * kMiB);
  cudasim::set_deferred(true);  // nothing runs until the host waits: copies pile up
  const size_t pinned_before = cudasim::pinned_bytes();
  cudasim::reset_peak_pinned_bytes();
  const int64_t syncs = cuda::host_syncs();
  const Tensor batch = full({512 * 1024}, 3.0);  // 2 MiB
  Tensor total = zeros({512 * 1024}, kCuda);
  for (int step = 0; step < 30; ++step) total = total + batch.to(kCuda);  // 60 MiB staged
  EXPECT_EQ(total.sum().item<float>(), 30.0f * 3.0f * 512 * 1024);
  EXPECT_LE(cuda::max_staging_bytes(), 8 * kMiB);
  EXPECT_LE(cudasim::peak_pinned_bytes() - pinned_before, static_cast<size_t>(10 * kMiB));
  EXPECT_GE(cuda::host_syncs() - syncs, 1) << "the full staging waited for the GPU";
}

// The host runs short of pinned memory below the staging limit: staging waits for a queued
// copy to finish and reuses its block instead of failing.
TEST_F(CudaStaging, ShortOfPinnedMemoryStagingWaitsForAQueuedCopy) {
  cuda::set_staging_limit(64 * kMiB);
  cuda::empty_cache();
  cudasim::set_deferred(true);
  // Room for one 4 MiB chunk beyond what is pinned now, though the limit allows sixteen.
  cudasim::set_pinned_memory_limit(cudasim::pinned_bytes() + 5 * kMiB);
  const Tensor batch = full({1024 * 1024}, 2.0);  // 4 MiB: one chunk
  Tensor total = zeros({1024 * 1024}, kCuda);
  for (int step = 0; step < 6; ++step) total = total + batch.to(kCuda);
  EXPECT_EQ(total.sum().item<float>(), 6.0f * 2.0f * 1024 * 1024);
}

TEST_F(CudaStaging, TheLimitIsCheckedAndIdlePinnedMemoryIsReleased) {
  EXPECT_THROW(cuda::set_staging_limit(1000), ValueError);
  EXPECT_THROW(cuda::set_staging_limit(-1), ValueError);
  cuda::set_staging_limit(8 * kMiB);
  EXPECT_EQ(cuda::staging_limit(), 8 * kMiB);
  (void)full({1024 * 1024}, 1.0).to(kCuda).cpu();  // 4 MiB each way
  const size_t held = cudasim::pinned_bytes();
  cuda::empty_cache();
  EXPECT_LT(cudasim::pinned_bytes(), held) << "idle staging memory stayed pinned";
  EXPECT_EQ(cuda::staging_bytes(), 0);
}

}  // namespace
}  // namespace ember
