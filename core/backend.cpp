// backend(Device) and each device's memory: the CPU backend, or a CUDA device's backend and
// caching allocator, made on first use of the device and never destroyed (tensors may
// outlive static destructors, and the CUDA runtime may already be gone at exit).
#include <ember/core/backend.h>

#include <atomic>
#include <mutex>
#include <string>

#include <ember/core/cuda.h>
#include <ember/kernels/cpu/backend.h>

#if defined(EMBER_WITH_CUDA)
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/device.h>
#include <ember/kernels/cuda/memory.h>
#include <ember/kernels/cuda/raw_allocators.h>
#endif

namespace ember {
namespace {

constexpr int kMaxCudaDevices = 64;

#if defined(EMBER_WITH_CUDA)
// Guard bytes after every block under cudasim, so an overrun into the neighbouring tensor of
// the same segment fails the launch that did it (cudasim checks them after every kernel).
constexpr size_t kSimGuardBytes = 64;

CachingAllocatorConfig device_allocator_config() {
  CachingAllocatorConfig config;  // 512-byte rounding, <= 1 MiB from 2 MiB segments, 2 MiB large
  config.guard_bytes = kernels::cuda::is_simulated() ? kSimGuardBytes : 0;
  return config;
}

// One pinned host pool for the process, shared by every device's staging copies.
CachingAllocator& pinned_allocator() {
  static auto* raw = new kernels::cuda::PinnedRawAllocator();
  static auto* allocator = new CachingAllocator(*raw, CachingAllocatorConfig{}, "cuda pinned host");
  return *allocator;
}

// A CUDA device as core holds it: its memory and its backend, in that order of construction.
struct CudaDevice {
  explicit CudaDevice(int device)
      : raw(device),
        allocator(raw, device_allocator_config(),
                  "cuda:" + std::to_string(device) + " caching allocator"),
        backend(device, allocator, pinned_allocator()),
        stream(reinterpret_cast<uintptr_t>(backend.stream())) {}

  kernels::cuda::DeviceRawAllocator raw;
  CachingAllocator allocator;
  kernels::cuda::CudaBackend backend;
  const StreamId stream;  // the tag of every block this device's tensors use
};
#else
struct CudaDevice {
  kernels::Backend& backend;
  CachingAllocator& allocator;
  StreamId stream;
};
#endif

std::atomic<CudaDevice*> g_cuda_devices[kMaxCudaDevices];
std::mutex g_cuda_create;

CudaDevice& create_cuda_device(Device device) {
  std::lock_guard<std::mutex> lock(g_cuda_create);
  std::atomic<CudaDevice*>& slot = g_cuda_devices[device.index];
  if (CudaDevice* d = slot.load(std::memory_order_acquire)) return *d;
#if defined(EMBER_WITH_CUDA)
  EMBER_CHECK(device.index < kernels::cuda::device_count(), DeviceError, "device ", device.str(),
              " is not available: this machine has ", cuda::device_count(),
              " CUDA device(s) (see ember::cuda::device_count())");
  auto* d = new CudaDevice(device.index);
  slot.store(d, std::memory_order_release);
  return *d;
#else
  throw DeviceError(detail::str_cat("device ", device.str(),
                                    " is not available: this build of ember has no CUDA backend "
                                    "(configure with -DEMBER_CUDA=ON or SIM)"));
#endif
}

CudaDevice& cuda_device(Device device) {
  EMBER_CHECK(device.index >= 0 && device.index < kMaxCudaDevices, DeviceError, "device ",
              device.str(), " is not available: CUDA device indices run from 0 to ",
              kMaxCudaDevices - 1);
  if (CudaDevice* d = g_cuda_devices[device.index].load(std::memory_order_acquire)) [[likely]]
    return *d;
  return create_cuda_device(device);
}

}  // namespace

Backend& backend(Device device) {
  if (device.is_cpu()) [[likely]]
    return kernels::cpu::cpu_backend;
  return cuda_device(device).backend;
}

Backend* backend_if_used(Device device) {
  if (device.is_cpu()) return &kernels::cpu::cpu_backend;
  if (device.index < 0 || device.index >= kMaxCudaDevices) return nullptr;
  CudaDevice* d = g_cuda_devices[device.index].load(std::memory_order_acquire);
  return d != nullptr ? &d->backend : nullptr;
}

CachingAllocator& device_allocator(Device device) {
  if (device.is_cpu()) return cpu_caching_allocator();
  return cuda_device(device).allocator;
}

CachingAllocator* device_allocator_if_used(Device device) {
  if (device.is_cpu()) return &cpu_caching_allocator();
  if (device.index < 0 || device.index >= kMaxCudaDevices) return nullptr;
  CudaDevice* d = g_cuda_devices[device.index].load(std::memory_order_acquire);
  return d != nullptr ? &d->allocator : nullptr;
}

void* device_allocate(Device device, size_t nbytes) {
  if (device.is_cpu()) [[likely]]
    return cpu_caching_allocator().allocate(nbytes);
  CudaDevice& d = cuda_device(device);
#if defined(EMBER_WITH_CUDA)
  kernels::cuda::ensure_device(device.index);
#endif
  return d.allocator.allocate(nbytes, d.stream);
}

StreamId device_stream_tag(Device device) {
  return device.is_cpu() ? 0 : cuda_device(device).stream;
}

void device_deallocate(Device device, void* ptr) {
  device_allocator(device).deallocate(ptr);
}

}  // namespace ember
