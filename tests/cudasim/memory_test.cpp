// Device memory behaves like a GPU's: host code cannot touch it (death tests), fresh memory
// reads as NaN, guards after allocations and caching-allocator blocks catch overruns naming
// the kernel, and copies are validated against where their pointers really live.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <ember/core/error.h>

#include "cudasim/counters.h"
#include "cudasim/memory.h"
#include "sim_test_util.h"
#include "test_kernels.h"

namespace cudasim_test {
namespace {

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

std::string detail() {
  return cudasim::last_error_detail();
}

TEST(CudasimMemory, FreshAllocationsReadAsNaN) {
  DeviceArray<float> d(1000);
  for (float v : d.download()) ASSERT_TRUE(std::isnan(v));
  void* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(&pinned, 64), cudaSuccess);
  EXPECT_TRUE(std::isnan(static_cast<float*>(pinned)[3]));
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  void* zero = reinterpret_cast<void*>(1);
  EXPECT_EQ(cudaMalloc(&zero, 0), cudaSuccess);
  EXPECT_EQ(zero, nullptr);
}

TEST(CudasimMemory, ProtectionMechanismFollowsTheEnvironment) {
  const char* forced = std::getenv("CUDASIM_PROTECTION");
  const std::string mechanism = cudasim::protection_mechanism();
  if (forced != nullptr && std::string(forced) == "mprotect") {
    EXPECT_EQ(mechanism, "mprotect");
  } else {
    EXPECT_TRUE(mechanism == "pkey" || mechanism == "mprotect") << mechanism;
  }
  RecordProperty("protection", mechanism);
}

TEST(CudasimMemoryDeathTest, HostDereferenceOfADevicePointerCrashes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  DeviceArray<float> d(16);
  float* p = d.get();
  EXPECT_DEATH(
      {
        volatile float x = p[3];
        (void)x;
      },
      "host code dereferenced device pointer 0x[0-9a-f]+: device memory is only accessible");
  EXPECT_DEATH(p[0] = 1.0f, "host code dereferenced device pointer");
}

TEST(CudasimMemoryDeathTest, KernelAccessFarOutsideAnAllocationCrashesNamingIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  DeviceArray<float> out(1);
  DeviceArray<float> d(64);
  // 64 floats sit 256 bytes into a one-page mapping; the page after it is never accessible.
  float* past_page = d.get() + (4096 - 256) / sizeof(float);
  EXPECT_DEATH((copy_first(past_page, out.get()), wait_for_device()),
               "kernel 'copy_first' accessed device address 0x[0-9a-f]+, outside every live");
  float* freed = nullptr;
  ASSERT_EQ(cudaMalloc(&freed, 1024), cudaSuccess);
  ASSERT_EQ(cudaFree(freed), cudaSuccess);
  EXPECT_DEATH((copy_first(freed, out.get()), wait_for_device()),
               "kernel 'copy_first' accessed device address");
}

TEST(CudasimMemory, OutOfBoundsWriteIsCaughtNamingTheKernel) {
  DeviceArray<float> d(100);
  expect_contains(error_of([&] { planted_overrun(d.get(), 100, 3); }),
                  {"kernel 'planted_overrun'", "cudaErrorIllegalAddress",
                   "wrote past the end of the 400-byte device allocation",
                   "first damaged byte: 0 after the end"});
  // The guard is re-armed: the next correct kernel passes and the data it wrote is intact.
  EXPECT_EQ(error_of([&] { write_at(d.get(), 99, 5.0f); }), "<no error>");
  EXPECT_EQ(d.download()[99], 5.0f);
  expect_contains(error_of([&] { write_at(d.get(), -1, 1.0f); }),
                  {"'write_at'", "wrote 4 bytes before the start of the 400-byte device"});
}

TEST(CudasimMemory, SubBlockGuardsCatchOverrunsInsideASegment) {
  DeviceArray<float> segment(1024);  // 4 KiB, carved like the caching allocator does
  char* base = reinterpret_cast<char*>(segment.get());
  ASSERT_EQ(cudaMemset(base, 0, 4096), cudaSuccess);
  cudasim::register_subblock_guard(base, 512, 64);
  cudasim::register_subblock_guard(base + 576, 512, 64);
  // (Reading the whole segment would cross the guards, which copies refuse: read around them.)
  std::vector<float> block(128), outside(1);
  ASSERT_EQ(cudaMemcpy(block.data(), base, 512, cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(outside.data(), base + 2048, 4, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_TRUE(std::isnan(block[0]) && std::isnan(block[127])) << "a handed-out block reads NaN";
  EXPECT_EQ(outside[0], 0.0f) << "memory outside blocks is untouched";

  // Writing element 128 of the first block lands in its guard, inside the same cudaMalloc.
  expect_contains(error_of([&] { write_at(segment.get(), 128, 1.0f); }),
                  {"'write_at'", "wrote past the end of the 512-byte block (caching allocator)"});
  EXPECT_EQ(error_of([&] { write_at(segment.get(), 127, 1.0f); }), "<no error>");

  // Copies are checked against the guards before anything is written.
  std::vector<float> ones(129, 1.0f);
  EXPECT_EQ(cudaMemcpy(base, ones.data(), 129 * sizeof(float), cudaMemcpyHostToDevice),
            cudaErrorInvalidValue);
  EXPECT_NE(detail().find("overruns the 512-byte block"), std::string::npos) << detail();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);

  EXPECT_THROW(cudasim::register_subblock_guard(base + 600, 16, 0), std::invalid_argument);
  EXPECT_THROW(cudasim::register_subblock_guard(base + 4000, 512, 64), std::invalid_argument);
  EXPECT_TRUE(cudasim::unregister_subblock_guard(base));
  EXPECT_TRUE(cudasim::unregister_subblock_guard(base + 576));
  EXPECT_THROW(cudasim::unregister_subblock_guard(base), std::invalid_argument);
  EXPECT_EQ(error_of([&] { write_at(segment.get(), 128, 1.0f); }), "<no error>");
}

TEST(CudasimMemory, MemcpyKindsAreValidatedAgainstThePointers) {
  DeviceArray<float> d(16);
  DeviceArray<float> d2(16);
  std::vector<float> h(16, 2.0f);
  std::vector<float> h2(16);
  const size_t bytes = 16 * sizeof(float);
  EXPECT_EQ(cudaMemcpy(h2.data(), h.data(), bytes, cudaMemcpyHostToDevice),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_NE(detail().find("cudaMemcpyHostToDevice): dst"), std::string::npos) << detail();
  EXPECT_NE(detail().find("is host memory"), std::string::npos) << detail();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "cudaGetLastError resets";
  EXPECT_EQ(cudaMemcpy(h2.data(), d.get(), bytes, cudaMemcpyHostToDevice),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), bytes, cudaMemcpyDeviceToHost),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), bytes, cudaMemcpyDeviceToDevice),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), bytes, cudaMemcpyHostToHost),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), bytes, static_cast<cudaMemcpyKind>(7)),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidMemcpyDirection) << "peek does not reset";
  (void)cudaGetLastError();

  // cudaMemcpyDefault infers the direction; correct kinds work.
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), bytes, cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(d2.get(), d.get(), bytes, cudaMemcpyDeviceToDevice), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(h2.data(), d2.get(), bytes, cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(h2, h);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(CudasimMemory, CopiesAndSetsAreRangeChecked) {
  DeviceArray<float> d(100);
  std::vector<float> h(101, 1.0f);
  EXPECT_EQ(cudaMemcpy(d.get(), h.data(), 101 * sizeof(float), cudaMemcpyHostToDevice),
            cudaErrorInvalidValue);
  EXPECT_NE(detail().find("runs 4 bytes past the end of the 400-byte device allocation"),
            std::string::npos)
      << detail();
  EXPECT_EQ(cudaMemset(d.get() + 50, 0, 51 * sizeof(float)), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemset(h.data(), 0, 4), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemset(d.get() + 50, 0, 50 * sizeof(float)), cudaSuccess);
  const std::vector<float> got = d.download();
  EXPECT_TRUE(std::isnan(got[49]));
  EXPECT_EQ(got[50], 0.0f);
  EXPECT_EQ(got[99], 0.0f);

  float* freed = nullptr;
  ASSERT_EQ(cudaMalloc(&freed, 64), cudaSuccess);
  ASSERT_EQ(cudaFree(freed), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(h.data(), freed, 16, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_NE(detail().find("not inside any live device allocation"), std::string::npos);
  (void)cudaGetLastError();
}

TEST(CudasimMemory, FreeValidatesItsPointer) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 256), cudaSuccess);
  std::vector<float> h(4);
  EXPECT_EQ(cudaFree(h.data()), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(d + 1), cudaErrorInvalidValue);
  EXPECT_NE(detail().find("not the start of an allocation"), std::string::npos);
  void* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(&pinned, 32), cudaSuccess);
  EXPECT_EQ(cudaFree(pinned), cudaErrorInvalidValue);
  EXPECT_NE(detail().find("cudaMallocHost pointer"), std::string::npos);
  EXPECT_EQ(cudaFreeHost(d), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(d), cudaSuccess);
  EXPECT_EQ(cudaFree(d), cudaErrorInvalidValue) << "double free";
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
  (void)cudaGetLastError();
}

TEST(CudasimMemory, MemoryLimitAndInfo) {
  const size_t old_limit = cudasim::device_memory_limit();
  size_t free0 = 0;
  size_t total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free0, &total), cudaSuccess);
  EXPECT_EQ(total, old_limit);
  cudasim::set_device_memory_limit(size_t{1} << 20);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, size_t{2} << 20), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  ASSERT_EQ(cudaMalloc(&p, 1000), cudaSuccess);
  size_t free1 = 0;
  ASSERT_EQ(cudaMemGetInfo(&free1, &total), cudaSuccess);
  EXPECT_EQ(total - free1, 1000u);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  cudasim::set_device_memory_limit(old_limit);
}

TEST(CudasimCounters, CountLaunchesAllocationsSyncsAndBytes) {
  cudasim::reset_counters();
  DeviceArray<float> a(256);
  DeviceArray<float> b(256);
  std::vector<float> h(256, 1.0f);
  a.upload(h);                       // H2D 1024 bytes, sync
  block_sum(a.get(), b.get(), 256);  // 1 launch
  block_sum(a.get(), b.get(), 256);
  ASSERT_EQ(cudaMemcpy(b.get(), a.get(), 512, cudaMemcpyDeviceToDevice), cudaSuccess);
  (void)a.download();  // D2H 1024 bytes, sync
  float* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&pinned), 1024), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(pinned, a.get(), 1024, cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(h.data(), a.get(), 1024, cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaFreeHost(pinned), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);

  const cudasim::Counters c = cudasim::counters();
  EXPECT_EQ(c.device_allocations, 2);
  EXPECT_EQ(c.kernel_launches, 2);
  EXPECT_EQ(c.launches_by_kernel.at("block_sum"), 2);
  EXPECT_EQ(cudasim::launches_of("block_sum"), 2);
  EXPECT_EQ(cudasim::launches_of("never_launched"), 0);
  EXPECT_EQ(c.bytes_h2d, 1024);
  EXPECT_EQ(c.bytes_d2d, 512);
  EXPECT_EQ(c.bytes_d2h, 3 * 1024);
  // upload, download, the async copy into pageable memory, cudaDeviceSynchronize; the async
  // copy into pinned memory does not wait.
  EXPECT_EQ(c.host_syncs, 4);
  EXPECT_EQ(c.device_frees, 0);
  cudasim::reset_counters();
  EXPECT_EQ(cudasim::counters().kernel_launches, 0);
  EXPECT_TRUE(cudasim::counters().launches_by_kernel.empty());
}

}  // namespace
}  // namespace cudasim_test
