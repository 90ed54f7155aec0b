// cudasim's runtime surface: CUDA's error codes and strings, the simulated device's properties,
// streams and events, ember's check macro, and ember's kernels/cuda/device.cu running on it.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/device.h>

#include "cudasim/counters.h"
#include "cudasim/modes.h"
#include "sim_test_util.h"

namespace cudasim_test {
namespace {

namespace ek = ember::kernels::cuda;

// The numeric codes are CUDA's, so logs from both builds read the same.
static_assert(cudaErrorInvalidValue == 1 && cudaErrorMemoryAllocation == 2 &&
              cudaErrorInvalidConfiguration == 9 && cudaErrorInvalidMemcpyDirection == 21 &&
              cudaErrorInvalidDevice == 101 && cudaErrorInvalidResourceHandle == 400 &&
              cudaErrorIllegalAddress == 700 && cudaErrorLaunchFailure == 719);

TEST(CudasimRuntime, ErrorNamesAndStrings) {
  EXPECT_STREQ(cudaGetErrorName(cudaSuccess), "cudaSuccess");
  EXPECT_STREQ(cudaGetErrorString(cudaSuccess), "no error");
  EXPECT_STREQ(cudaGetErrorName(cudaErrorIllegalAddress), "cudaErrorIllegalAddress");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorIllegalAddress),
               "an illegal memory access was encountered");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidConfiguration), "invalid configuration argument");
  EXPECT_STREQ(cudaGetErrorString(static_cast<cudaError_t>(12345)), "unrecognized error code");
}

// One device unless CUDASIM_DEVICES (or a test before this one, in the same process) says more.
TEST(CudasimRuntime, SimulatedDevices) {
  const int n = cudasim::device_count();
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, n);
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_STREQ(prop.name, "cudasim");
  EXPECT_EQ(prop.multiProcessorCount, 80);
  EXPECT_EQ(prop.sharedMemPerBlock, 48u * 1024);
  EXPECT_EQ(prop.maxThreadsPerBlock, 1024);
  EXPECT_EQ(prop.warpSize, 32);
  EXPECT_EQ(prop.totalGlobalMem, size_t{16} << 30);
  EXPECT_EQ(cudaGetDeviceProperties(&prop, n), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(n), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(0), cudaSuccess);
  int device = -1;
  EXPECT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 0);
  (void)cudaGetLastError();
}

TEST(CudasimRuntime, CheckMacroReportsFileLineExpressionAndErrorString) {
  try {
    EMBER_CUDA_CHECK(cudaSetDevice(3));
    FAIL() << "expected a throw";
  } catch (const ember::CudaError& e) {
    const std::string msg = e.what();
    for (const char* part :
         {"runtime_test.cpp:", "cudaSetDevice(3) failed", "cudaErrorInvalidDevice",
          "(invalid device ordinal)", "[cudasim: cudaSetDevice(3): "}) {
      EXPECT_NE(msg.find(part), std::string::npos) << part << " in " << msg;
    }
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the macro clears the error it reported";
  EXPECT_NO_THROW(EMBER_CUDA_CHECK(cudaSetDevice(0)));
}

TEST(CudasimRuntime, StreamsAndEvents) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t start = nullptr, stop = nullptr, untimed = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  float ms = -1;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaErrorInvalidResourceHandle)
      << "not recorded yet";
  // As on a GPU, an unconsumed error would be reported by the next launch's check.
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);

  DeviceArray<float> d(1000);
  cudasim::reset_counters();
  ASSERT_EQ(cudaEventRecord(start, stream), cudaSuccess);
  ek::fill_f32(d.get(), 1000, 3.0f, stream);
  ASSERT_EQ(cudaEventRecord(stop, stream), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(untimed, stream), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(nullptr, stop), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(cudasim::counters().host_syncs, 2);
  ASSERT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 0.0f);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, untimed), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(d.download(), std::vector<float>(1000, 3.0f));

  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorInvalidResourceHandle);
  // A launch on a destroyed stream fails, naming the kernel.
  try {
    ek::fill_f32(d.get(), 10, 1.0f, stream);
    FAIL() << "expected a throw";
  } catch (const ember::CudaError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'fill_f32'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cudaErrorInvalidResourceHandle"), std::string::npos) << msg;
  }
  for (cudaEvent_t e : {start, stop, untimed}) EXPECT_EQ(cudaEventDestroy(e), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(start), cudaErrorInvalidResourceHandle);
  (void)cudaGetLastError();
}

TEST(CudasimRuntime, EmberDeviceFunctionsRunOnTheSimulator) {
  EXPECT_EQ(ek::device_count(), cudasim::device_count());
  const int64_t n = 2 * 4096 * 256 + 77;  // more than the fill's grid: exercises its stride
  DeviceArray<float> d(n);
  cudasim::reset_counters();
  ek::fill_f32(d.get(), n, -1.5f, nullptr);
  ek::fill_f32(d.get(), 0, 9.0f, nullptr);  // nothing to do: no launch
  ek::synchronize();
  const cudasim::Counters c = cudasim::counters();
  EXPECT_EQ(c.launches_by_kernel.at("fill_f32"), 1);
  EXPECT_EQ(c.host_syncs, 1);
  const std::vector<float> got = d.download();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], -1.5f) << i;
  EXPECT_THROW(ek::fill_f32(d.get(), -1, 0.0f, nullptr), ember::ValueError);
}

}  // namespace
}  // namespace cudasim_test
