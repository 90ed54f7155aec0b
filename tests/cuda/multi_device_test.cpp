// ember on two simulated GPUs (CUDASIM_DEVICES semantics, switched on here with
// cudasim::set_device_count): work on one device never creates a context on the other, and a
// cudaSetDevice of the program's own never sends ember's memory or kernels to the wrong GPU.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include <cuda_runtime.h>

#include <cudasim/counters.h>
#include <cudasim/modes.h>
#include <ember/ember.h>

namespace ember {
namespace {

class CudaTwoDevices : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cudasim::device_count() < 2) cudasim::set_device_count(2);
  }
};

TEST_F(CudaTwoDevices, WorkOnCuda1FromAFreshThreadNeverTouchesCuda0) {
  cudasim::forget_contexts();
  std::thread([] {
    const Device cuda1 = Device::cuda(1);
    const Tensor x = ones({16, 8}, cuda1);
    const Tensor y = matmul(relu(x * 2.0), ones({8, 4}, cuda1));
    EXPECT_EQ(y.cpu().to_vector<float>(), std::vector<float>(64, 16.0f));
    cuda::synchronize();
    cuda::Event done(1);
    done.record();
    done.synchronize();
  }).join();
  EXPECT_TRUE(cudasim::has_context(1));
  EXPECT_FALSE(cudasim::has_context(0))
      << "a stream, a restore of the previous device or cuda::synchronize() made a context on "
         "GPU 0, which this work never used";
}

TEST_F(CudaTwoDevices, SynchronizeWaitsOnlyForDevicesInUse) {
  std::thread([] {
    (void)(ones({4}, Device::cuda(0)) * 3.0).sum().item<float>();
    cudasim::forget_contexts();
    cuda::synchronize();
  }).join();
  EXPECT_FALSE(cudasim::has_context(1)) << "cuda::synchronize() created a backend on cuda:1";
}

// Memory and staging queries, and empty_cache, about a GPU nothing has used answer from
// defaults: they create no backend (context, stream, memory) there.
TEST_F(CudaTwoDevices, QueriesAboutAnUnusedDeviceCreateNothing) {
  if (cudasim::device_count() < 3) cudasim::set_device_count(3);
  const int unused = 2;  // no other test in this file touches cuda:2
  cudasim::forget_contexts();
  std::thread([] {
    EXPECT_EQ(cuda::memory_allocated(unused), 0);
    EXPECT_EQ(cuda::max_memory_allocated(unused), 0);
    EXPECT_EQ(cuda::memory_reserved(unused), 0);
    EXPECT_EQ(cuda::memory_stats(unused).raw_alloc_calls, 0);
    cuda::reset_peak_memory_stats(unused);
    cuda::empty_cache(unused);
    EXPECT_EQ(cuda::staging_bytes(unused), 0);
    EXPECT_EQ(cuda::max_staging_bytes(unused), 0);
    EXPECT_GT(cuda::staging_limit(unused), 0);
    EXPECT_EQ(cuda::host_syncs(unused), 0);
  }).join();
  EXPECT_FALSE(cudasim::has_context(unused)) << "a query created a backend on cuda:2";
  EXPECT_THROW(cuda::memory_allocated(7), DeviceError);  // a device that does not exist
}

// The program switches devices behind ember's back; ember's next allocation and kernels for a
// cuda:0 tensor must still go to GPU 0. (If memory were allocated on GPU 1, the kernel on GPU
// 0 would fault on it; if the kernel were sent while GPU 1 is current, the launch would fail.)
TEST_F(CudaTwoDevices, AProgramsOwnCudaSetDeviceDoesNotMisdirectEmber) {
  std::thread([] {
    const Device cuda0 = Device::cuda(0);
    const Tensor warm = ones({8}, cuda0) + 1.0;  // ember has made GPU 0 current
    ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
    // Large enough for a fresh cudaMalloc segment, not a cached block.
    const Tensor big = full({4096, 1024}, 2.0, TensorOptions().device(cuda0));
    const Tensor sum = (big * warm.narrow(0, 0, 1)).sum();
    EXPECT_EQ(sum.item<float>(), 4096.0f * 1024 * 4);
    ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
    const Tensor moved = from_vector<float>({1, 2, 3}).to(cuda0);
    EXPECT_EQ(moved.cpu().to_vector<float>(), (std::vector<float>{1, 2, 3}));
  }).join();
}

// Peer to peer, ordered on both devices' streams, with no host wait.
TEST_F(CudaTwoDevices, TensorsMoveBetweenDevices) {
  const Tensor a = arange(0, 12, 1, kFloat32).reshape({3, 4}).to(Device::cuda(0));
  (void)zeros({1}, Device::cuda(1));  // cuda:1's backend exists (its set-up copies a record)
  cudasim::reset_counters();
  const Tensor b = a.to(Device::cuda(1));
  const cudasim::Counters c = cudasim::counters();
  EXPECT_EQ(c.bytes_d2h + c.bytes_h2d, 0) << "the copy went through the host";
  EXPECT_EQ(c.bytes_d2d, 12 * 4);
  EXPECT_EQ(c.host_syncs, 0) << "a device-to-device copy made the host wait";
  EXPECT_EQ(b.device(), Device::cuda(1));
  EXPECT_EQ((b * 2.0).cpu().to_vector<float>(), (a * 2.0).cpu().to_vector<float>());
  const Tensor back = (b + 1.0).to(Device::cuda(0));
  EXPECT_EQ(back.device(), Device::cuda(0));
  EXPECT_EQ(back.cpu().to_vector<float>(), (a + 1.0).cpu().to_vector<float>());
}

}  // namespace
}  // namespace ember
