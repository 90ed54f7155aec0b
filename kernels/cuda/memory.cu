// The CUDA runtime calls behind kernels/cuda/memory.h: devices, per-device streams (Note
// [Current stream]), raw and pinned allocations, async copies, events and cudasim's guards.
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <mutex>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/counters.h>

#if defined(EMBER_CUDASIM)
#include <cudasim/memory.h>
#endif

namespace ember::kernels::cuda {
namespace {

constexpr int kMaxDevices = 64;

cudaStream_t as_stream(void* stream) {
  return static_cast<cudaStream_t>(stream);
}
cudaEvent_t as_event(void* event) {
  return static_cast<cudaEvent_t>(event);
}

// Streams live until the process exits: destroying them from a static destructor would race
// the runtime's own teardown.
struct StreamTable {
  std::array<std::atomic<cudaStream_t>, kMaxDevices> streams{};
  std::mutex create;
};

StreamTable& stream_table() {
  static auto* table = new StreamTable;
  return *table;
}

}  // namespace

void set_device(int device) {
  EMBER_CUDA_CHECK(cudaSetDevice(device));
}

// Asks the runtime every time (cudaGetDevice reads a thread-local there, a few ns): a cache of
// ember's own would go stale when the program calls cudaSetDevice itself, and then memory
// would be allocated on, and kernels sent to, the wrong GPU.
void ensure_device(int device) {
  int current = -1;
  EMBER_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device) set_device(device);
}

int current_device() {
  int device = 0;
  EMBER_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

DeviceProperties device_properties(int device) {
  cudaDeviceProp prop{};
  EMBER_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceProperties out;
  out.name = prop.name;
  out.total_memory = prop.totalGlobalMem;
  out.multiprocessors = prop.multiProcessorCount;
  out.major = prop.major;
  out.minor = prop.minor;
  out.max_threads_per_block = prop.maxThreadsPerBlock;
  out.shared_memory_per_block = prop.sharedMemPerBlock;
  return out;
}

bool is_simulated() {
#if defined(EMBER_CUDASIM)
  return true;
#else
  return false;
#endif
}

void* current_stream(int device) {
  EMBER_CHECK(device >= 0 && device < kMaxDevices, DeviceError, "CUDA device index ", device,
              " is out of range (ember supports devices 0..", kMaxDevices - 1, ")");
  StreamTable& table = stream_table();
  // The fast path is one acquire load: every op asks for its stream.
  cudaStream_t stream = table.streams[device].load(std::memory_order_acquire);
  if (stream != nullptr) return stream;
  std::lock_guard<std::mutex> lock(table.create);
  stream = table.streams[device].load(std::memory_order_relaxed);
  if (stream == nullptr) {
    ensure_device(device);  // the stream belongs to the device current at its creation
    EMBER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    table.streams[device].store(stream, std::memory_order_release);
  }
  return stream;
}

void stream_synchronize(void* stream) {
  EMBER_CUDA_CHECK(cudaStreamSynchronize(as_stream(stream)));
}

void* device_malloc(size_t nbytes) {
  void* ptr = nullptr;
  const cudaError_t err = cudaMalloc(&ptr, nbytes);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // an answer for the caching allocator, not a sticky failure
    return nullptr;
  }
  EMBER_CUDA_CHECK(err);
  return ptr;
}

void device_free(void* ptr) {
  EMBER_CUDA_CHECK(cudaFree(ptr));
}

void* pinned_malloc(size_t nbytes) {
  void* ptr = nullptr;
  const cudaError_t err = cudaMallocHost(&ptr, nbytes);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return nullptr;
  }
  EMBER_CUDA_CHECK(err);
  return ptr;
}

void pinned_free(void* ptr) {
  EMBER_CUDA_CHECK(cudaFreeHost(ptr));
}

void memcpy_h2d_async(void* dst_device, const void* src_host, size_t nbytes, void* stream) {
  detail::count(detail::Counter::kH2D, static_cast<int64_t>(nbytes));
  EMBER_CUDA_CHECK(
      cudaMemcpyAsync(dst_device, src_host, nbytes, cudaMemcpyHostToDevice, as_stream(stream)));
}

void memcpy_d2h_async(void* dst_host, const void* src_device, size_t nbytes, void* stream) {
  detail::count(detail::Counter::kD2H, static_cast<int64_t>(nbytes));
  EMBER_CUDA_CHECK(
      cudaMemcpyAsync(dst_host, src_device, nbytes, cudaMemcpyDeviceToHost, as_stream(stream)));
}

void memcpy_d2d_async(void* dst_device, const void* src_device, size_t nbytes, void* stream) {
  detail::count(detail::Counter::kD2D, static_cast<int64_t>(nbytes));
  EMBER_CUDA_CHECK(
      cudaMemcpyAsync(dst_device, src_device, nbytes, cudaMemcpyDeviceToDevice, as_stream(stream)));
}

void memcpy_peer_async(void* dst, int dst_device, const void* src, int src_device, size_t nbytes,
                       void* stream) {
  detail::count(detail::Counter::kD2D, static_cast<int64_t>(nbytes));
  EMBER_CUDA_CHECK(
      cudaMemcpyPeerAsync(dst, dst_device, src, src_device, nbytes, as_stream(stream)));
}

void memset_async(void* dst_device, int value, size_t nbytes, void* stream) {
  EMBER_CUDA_CHECK(cudaMemsetAsync(dst_device, value, nbytes, as_stream(stream)));
}

void* event_create(bool timing) {
  cudaEvent_t event = nullptr;
  EMBER_CUDA_CHECK(
      cudaEventCreateWithFlags(&event, timing ? cudaEventDefault : cudaEventDisableTiming));
  return event;
}

void event_destroy(void* event) {
  EMBER_CUDA_CHECK(cudaEventDestroy(as_event(event)));
}

void event_record(void* event, void* stream) {
  EMBER_CUDA_CHECK(cudaEventRecord(as_event(event), as_stream(stream)));
}

void event_synchronize(void* event) {
  EMBER_CUDA_CHECK(cudaEventSynchronize(as_event(event)));
}

void stream_wait_event(void* stream, void* event) {
  EMBER_CUDA_CHECK(cudaStreamWaitEvent(as_stream(stream), as_event(event), 0));
}

bool event_query(void* event) {
  const cudaError_t err = cudaEventQuery(as_event(event));
  if (err == cudaErrorNotReady) {
    (void)cudaGetLastError();  // "not yet" is an answer, not a failure
    return false;
  }
  EMBER_CUDA_CHECK(err);
  return true;
}

float event_elapsed_ms(void* start, void* end) {
  float ms = 0;
  EMBER_CUDA_CHECK(cudaEventElapsedTime(&ms, as_event(start), as_event(end)));
  return ms;
}

void register_block_guard(void* ptr, size_t usable, size_t guard) {
#if defined(EMBER_CUDASIM)
  cudasim::register_subblock_guard(ptr, usable, guard);
#else
  (void)ptr, (void)usable, (void)guard;
#endif
}

void unregister_block_guard(void* ptr) {
#if defined(EMBER_CUDASIM)
  // Launches, copies and cuBLAS calls check guards as they go, so a damaged guard found only
  // now means a write nothing else saw; fail loudly rather than hand the block out again.
  if (!cudasim::unregister_subblock_guard(ptr)) {
    throw CudaError(::ember::detail::str_cat(
        "cudasim: the guard after device block ", ptr,
        " was overwritten (found when the block was freed): ", cudasim::last_error_detail()));
  }
#else
  (void)ptr;
#endif
}

}  // namespace ember::kernels::cuda
