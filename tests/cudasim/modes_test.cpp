// cudasim's modes (cudasim/modes.h), each shown catching the bug it exists for: deferred
// streams catch host code that reads or reuses a buffer before waiting; shuffled blocks catch a
// kernel that assumes block order; two devices catch work on the wrong device. Plus the pinned
// host memory accounting, and the contexts record.
#include <gtest/gtest.h>

#include <cublas_v2.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cudasim/counters.h"
#include "cudasim/memory.h"
#include "cudasim/modes.h"
#include "sim_test_util.h"
#include "test_kernels.h"

namespace cudasim_test {
namespace {

// Deferred streams on (or off) for the test's lifetime, whatever CUDASIM_DEFERRED says.
class Deferred {
 public:
  explicit Deferred(bool on = true) : was_on_(cudasim::deferred()) { cudasim::set_deferred(on); }
  ~Deferred() { cudasim::set_deferred(was_on_); }
  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;

 private:
  bool was_on_;
};

// Pinned host memory, freed at scope exit.
template <typename T>
class PinnedArray {
 public:
  explicit PinnedArray(size_t n) : n_(n) {
    if (cudaMallocHost(&p_, n * sizeof(T)) != cudaSuccess) throw std::runtime_error("pinned");
  }
  ~PinnedArray() { cudaFreeHost(p_); }
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
  T* get() const { return p_; }
  T& operator[](size_t i) const { return p_[i]; }

 private:
  T* p_ = nullptr;
  size_t n_;
};

class CudasimDeferred : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, 1), cudaSuccess); }
  void TearDown() override { EXPECT_EQ(cudaStreamDestroy(stream_), cudaSuccess); }
  cudaStream_t stream_ = nullptr;
};

// The planted bug: reading a device-to-host copy's destination before waiting for the stream.
TEST_F(CudasimDeferred, HostReadBeforeTheWaitSeesTheOldBytes) {
  const Deferred deferred;
  DeviceArray<float> d(64);
  PinnedArray<float> host(64);
  std::memset(host.get(), 0, 64 * sizeof(float));
  fill_on(d.get(), 64, 3.0f, stream_);
  ASSERT_EQ(
      cudaMemcpyAsync(host.get(), d.get(), 64 * sizeof(float), cudaMemcpyDeviceToHost, stream_),
      cudaSuccess);
  EXPECT_EQ(host[0], 0.0f) << "the copy ran before anything waited for it";
  EXPECT_EQ(host[63], 0.0f);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(host[0], 3.0f);
  EXPECT_EQ(host[63], 3.0f);
}

// The planted bug: rewriting a pinned staging buffer whose host-to-device copy has not run.
TEST_F(CudasimDeferred, ReusingAPinnedSourceBeforeTheWaitCorruptsTheCopy) {
  const Deferred deferred;
  DeviceArray<float> d(4);
  PinnedArray<float> staging(4);
  for (int i = 0; i < 4; ++i) staging[i] = 1.0f;
  ASSERT_EQ(
      cudaMemcpyAsync(d.get(), staging.get(), 4 * sizeof(float), cudaMemcpyHostToDevice, stream_),
      cudaSuccess);
  for (int i = 0; i < 4; ++i) staging[i] = 2.0f;  // too early
  EXPECT_EQ(d.download(), std::vector<float>(4, 2.0f)) << "the copy read the buffer at once";

  // Pageable memory is staged by the call itself, so reusing it at once is fine.
  std::vector<float> pageable(4, 5.0f);
  ASSERT_EQ(
      cudaMemcpyAsync(d.get(), pageable.data(), 4 * sizeof(float), cudaMemcpyHostToDevice, stream_),
      cudaSuccess);
  pageable.assign(4, 6.0f);
  EXPECT_EQ(d.download(), std::vector<float>(4, 5.0f));
}

TEST_F(CudasimDeferred, AKernelFailureIsReportedByTheWait) {
  const Deferred deferred;
  DeviceArray<float> d(100);
  // An overrun: validated at launch (a fine configuration), detected when it runs.
  fill_on(d.get(), 103, 1.0f, stream_);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorIllegalAddress);
  const std::string detail = cudasim::last_error_detail();
  EXPECT_NE(detail.find("kernel 'fill_on'"), std::string::npos) << detail;
  EXPECT_NE(detail.find("wrote past the end of the 400-byte device allocation"), std::string::npos)
      << detail;
  (void)cudaGetLastError();
  // A bad configuration still fails at the launch itself, as on a GPU.
  EXPECT_THROW(fill_on(d.get(), 0, 1.0f, stream_), ember::CudaError);
}

TEST_F(CudasimDeferred, QueriesSayNotReadyOnceThenTheWorkRuns) {
  const Deferred deferred;
  DeviceArray<float> d(8);
  PinnedArray<float> host(8);
  std::memset(host.get(), 0, 8 * sizeof(float));
  cudaEvent_t done = nullptr;
  ASSERT_EQ(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), cudaSuccess);
  fill_on(d.get(), 8, 4.0f, stream_);
  ASSERT_EQ(
      cudaMemcpyAsync(host.get(), d.get(), 8 * sizeof(float), cudaMemcpyDeviceToHost, stream_),
      cudaSuccess);
  ASSERT_EQ(cudaEventRecord(done, stream_), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(done), cudaErrorNotReady);
  (void)cudaGetLastError();
  EXPECT_EQ(host[0], 0.0f);
  EXPECT_EQ(cudaEventQuery(done), cudaSuccess);
  EXPECT_EQ(host[0], 4.0f);

  fill_on(d.get(), 8, 5.0f, stream_);
  EXPECT_EQ(cudaStreamQuery(stream_), cudaErrorNotReady);
  (void)cudaGetLastError();
  EXPECT_EQ(cudaStreamQuery(stream_), cudaSuccess);
  EXPECT_EQ(cudaStreamQuery(stream_), cudaSuccess) << "nothing is pending any more";
  EXPECT_EQ(d.download(), std::vector<float>(8, 5.0f));
  EXPECT_EQ(cudaEventDestroy(done), cudaSuccess);
}

// Destroying a recorded event is not a wait (a GPU releases it once the record completes),
// and the record still runs, later, without touching the freed event.
TEST_F(CudasimDeferred, DestroyingARecordedEventDoesNotWait) {
  const Deferred deferred;
  DeviceArray<float> d(8);
  PinnedArray<float> host(8);
  std::memset(host.get(), 0, 8 * sizeof(float));
  fill_on(d.get(), 8, 7.0f, stream_);
  ASSERT_EQ(
      cudaMemcpyAsync(host.get(), d.get(), 8 * sizeof(float), cudaMemcpyDeviceToHost, stream_),
      cudaSuccess);
  cudaEvent_t e = nullptr;
  ASSERT_EQ(cudaEventCreate(&e), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(e, stream_), cudaSuccess);
  const int64_t syncs = cudasim::counters().host_syncs;
  ASSERT_EQ(cudaEventDestroy(e), cudaSuccess);
  EXPECT_EQ(host[0], 0.0f) << "destroying the event ran the queued work";
  EXPECT_EQ(cudasim::counters().host_syncs, syncs);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(host[7], 7.0f);
}

// A host-to-host copy on a stream comes after the stream's earlier work: out of a pinned
// buffer that a queued device-to-host copy fills, it copies the filled bytes.
TEST_F(CudasimDeferred, HostToHostCopiesKeepStreamOrder) {
  const Deferred deferred;
  DeviceArray<float> d(4);
  PinnedArray<float> pinned(4);
  std::memset(pinned.get(), 0, 4 * sizeof(float));
  fill_on(d.get(), 4, 9.0f, stream_);
  ASSERT_EQ(
      cudaMemcpyAsync(pinned.get(), d.get(), 4 * sizeof(float), cudaMemcpyDeviceToHost, stream_),
      cudaSuccess);
  std::vector<float> out(4, -1.0f);
  ASSERT_EQ(
      cudaMemcpyAsync(out.data(), pinned.get(), 4 * sizeof(float), cudaMemcpyHostToHost, stream_),
      cudaSuccess);
  EXPECT_EQ(out, std::vector<float>(4, 9.0f));
}

TEST_F(CudasimDeferred, OffRunsEverythingAtOnce) {
  const Deferred off(false);
  DeviceArray<float> d(4);
  PinnedArray<float> host(4);
  std::memset(host.get(), 0, 4 * sizeof(float));
  fill_on(d.get(), 4, 7.0f, stream_);
  ASSERT_EQ(
      cudaMemcpyAsync(host.get(), d.get(), 4 * sizeof(float), cudaMemcpyDeviceToHost, stream_),
      cudaSuccess);
  EXPECT_EQ(host[0], 7.0f) << "without deferral every call runs to completion";
  EXPECT_EQ(cudaEventQuery(nullptr), cudaErrorInvalidResourceHandle);
  (void)cudaGetLastError();
}

// Shuffled blocks for the test's lifetime.
class Shuffled {
 public:
  explicit Shuffled(uint64_t seed) : was_on_(cudasim::block_shuffle(&old_seed_)) {
    cudasim::set_block_shuffle(true, seed);
  }
  ~Shuffled() { cudasim::set_block_shuffle(was_on_, old_seed_); }
  Shuffled(const Shuffled&) = delete;
  Shuffled& operator=(const Shuffled&) = delete;

 private:
  uint64_t old_seed_ = 0;
  bool was_on_;
};

std::vector<int> block_order(int blocks) {
  DeviceArray<int> order(static_cast<size_t>(blocks));
  DeviceArray<int> counter(std::vector<int>{0});
  record_block_order(order.get(), counter.get(), blocks);
  return order.download();
}

TEST(CudasimShuffle, AKernelThatAssumesBlockOrderFails) {
  const int blocks = 64;
  std::vector<int> want(blocks);
  for (int b = 0; b < blocks; ++b) want[b] = b + 1;
  {
    const InOrderBlocks in_order;
    DeviceArray<int> out(blocks);
    chained_blocks(out.get(), blocks);
    EXPECT_EQ(out.download(), want) << "in index order the planted bug hides";
  }
  const Shuffled shuffled(1);
  DeviceArray<int> out(blocks);
  chained_blocks(out.get(), blocks);
  EXPECT_NE(out.download(), want) << "shuffled, it shows";
}

TEST(CudasimShuffle, TheOrderIsAPermutationDrawnFromTheSeedAndChangesPerLaunch) {
  const int blocks = 200;
  std::vector<int> first, second, again;
  {
    const Shuffled shuffled(42);
    first = block_order(blocks);
    second = block_order(blocks);
  }
  std::vector<int> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int b = 0; b < blocks; ++b) ASSERT_EQ(sorted[b], b) << "every block runs exactly once";
  EXPECT_NE(first, second) << "each launch draws its own order";
  std::vector<int> identity(blocks);
  for (int b = 0; b < blocks; ++b) identity[b] = b;
  EXPECT_NE(first, identity);
  {
    const InOrderBlocks in_order;
    EXPECT_EQ(block_order(blocks), identity);
  }
}

// Two simulated devices from here on (the count only grows; other tests use device 0).
class CudasimTwoDevices : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cudasim::device_count() < 2) cudasim::set_device_count(2);
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  }
  void TearDown() override { EXPECT_EQ(cudaSetDevice(0), cudaSuccess); }
};

TEST_F(CudasimTwoDevices, DevicesAreCountedSelectedAndDescribed) {
  int n = 0;
  ASSERT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
  EXPECT_EQ(n, 2);
  cudaDeviceProp prop{};
  EXPECT_EQ(cudaGetDeviceProperties(&prop, 1), cudaSuccess);
  EXPECT_EQ(cudaGetDeviceProperties(&prop, 2), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(2), cudaErrorInvalidDevice);
  (void)cudaGetLastError();
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  int current = -1;
  ASSERT_EQ(cudaGetDevice(&current), cudaSuccess);
  EXPECT_EQ(current, 1);
  std::thread([] {
    int other = -1;
    EXPECT_EQ(cudaGetDevice(&other), cudaSuccess);
    EXPECT_EQ(other, 0) << "the current device is per host thread";
  }).join();
  EXPECT_THROW(cudasim::set_device_count(1), std::invalid_argument);
}

TEST_F(CudasimTwoDevices, ALaunchOnAnotherDevicesStreamFails) {
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  cudaStream_t stream1 = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream1), cudaSuccess);
  DeviceArray<float> on1(4);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  try {
    fill_on(on1.get(), 4, 1.0f, stream1);
    FAIL() << "expected a launch failure";
  } catch (const ember::CudaError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cudaErrorInvalidResourceHandle"), std::string::npos) << msg;
    EXPECT_NE(msg.find("a stream of device 1 while device 0 is current"), std::string::npos) << msg;
  }
  cudaEvent_t event0 = nullptr;
  ASSERT_EQ(cudaEventCreate(&event0), cudaSuccess);
  EXPECT_EQ(cudaEventRecord(event0, stream1), cudaErrorInvalidResourceHandle);
  (void)cudaGetLastError();
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  fill_on(on1.get(), 4, 1.0f, stream1);
  EXPECT_EQ(cudaStreamSynchronize(stream1), cudaSuccess);
  EXPECT_EQ(on1.download(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(cudaStreamDestroy(stream1), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(event0), cudaSuccess);
}

// The planted bug: memory allocated while device 1 was current, used by a kernel on device 0.
TEST_F(CudasimTwoDevices, AKernelTouchingAnotherDevicesMemoryDiesNamingBoth) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  DeviceArray<float> on1(4);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  EXPECT_DEATH((fill_on(on1.get(), 4, 1.0f, nullptr), wait_for_device()),
               "kernel 'fill_on' on device 0 accessed 0x[0-9a-f]+, memory of device 1");
}

TEST_F(CudasimTwoDevices, CublasRefusesOperandsOfAnotherDevice) {
  cublasHandle_t handle = nullptr;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);  // on device 0
  DeviceArray<float> a(4), c(4);
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  DeviceArray<float> b(4);
  const float one = 1.0f, zero = 0.0f;
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), 2, b.get(), 2,
                        &zero, c.get(), 2),
            CUBLAS_STATUS_EXECUTION_FAILED);
  const std::string detail = cudasim::last_error_detail();
  EXPECT_NE(detail.find("B = "), std::string::npos) << detail;
  EXPECT_NE(detail.find("memory of device 1, the handle works on device 0"), std::string::npos)
      << detail;
  EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
}

TEST_F(CudasimTwoDevices, PeerCopiesCheckWhichDeviceHoldsEachSide) {
  DeviceArray<float> on0(std::vector<float>{1, 2, 3, 4});
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  DeviceArray<float> on1(4);
  ASSERT_EQ(cudaMemcpyPeerAsync(on1.get(), 1, on0.get(), 0, 4 * sizeof(float), nullptr),
            cudaSuccess);
  EXPECT_EQ(on1.download(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(cudaMemcpyPeerAsync(on1.get(), 0, on0.get(), 0, 4 * sizeof(float), nullptr),
            cudaErrorInvalidValue);
  (void)cudaGetLastError();
}

TEST_F(CudasimTwoDevices, ContextsAreRecordedPerDevice) {
  cudasim::forget_contexts();
  std::thread([] {
    int device = -1;
    EXPECT_EQ(cudaGetDevice(&device), cudaSuccess);  // reading creates no context
    EXPECT_FALSE(cudasim::has_context(0));
    ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
    DeviceArray<float> on1(4);
  }).join();
  EXPECT_TRUE(cudasim::has_context(1));
  EXPECT_FALSE(cudasim::has_context(0)) << "only device 1 was used";
  DeviceArray<float> on0(4);
  EXPECT_TRUE(cudasim::has_context(0));
}

TEST(CudasimPinned, PinnedBytesAreCountedAndLimited) {
  const size_t before = cudasim::pinned_bytes();
  cudasim::reset_peak_pinned_bytes();
  {
    PinnedArray<char> a(1000);
    PinnedArray<char> b(24);
    EXPECT_EQ(cudasim::pinned_bytes(), before + 1024);
  }
  EXPECT_EQ(cudasim::pinned_bytes(), before);
  EXPECT_EQ(cudasim::peak_pinned_bytes(), before + 1024);
  cudasim::set_pinned_memory_limit(before + 4096);
  void* p = nullptr;
  EXPECT_EQ(cudaMallocHost(&p, 4096), cudaSuccess);
  void* q = nullptr;
  EXPECT_EQ(cudaMallocHost(&q, 1), cudaErrorMemoryAllocation);
  EXPECT_NE(std::string(cudasim::last_error_detail()).find("pinned bytes in use"),
            std::string::npos)
      << cudasim::last_error_detail();
  (void)cudaGetLastError();
  EXPECT_EQ(cudaFreeHost(p), cudaSuccess);
  cudasim::set_pinned_memory_limit(SIZE_MAX);
}

}  // namespace
}  // namespace cudasim_test
