// backend(Device): the CPU backend, or a CUDA device's backend, made on its first use.
#include <atomic>
#include <mutex>

#include <ember/core/backend.h>
#include <ember/core/cuda.h>
#include <ember/core/device_backends.h>
#include <ember/core/error.h>

namespace ember {
namespace {

// CUDA backends, one per device, created on first use (Note [Backend registration]).
constexpr int kMaxCudaDevices = 64;
std::atomic<Backend*> g_cuda_backends[kMaxCudaDevices];
std::atomic<Backend*> g_registered_cuda{nullptr};  // register_backend's override, all devices
std::mutex g_cuda_create;

Backend& create_cuda_backend(Device device) {
  std::lock_guard<std::mutex> lock(g_cuda_create);
  std::atomic<Backend*>& slot = g_cuda_backends[device.index];
  if (Backend* b = slot.load(std::memory_order_acquire)) return *b;
  if (Backend* b = g_registered_cuda.load(std::memory_order_acquire)) return *b;
#if defined(EMBER_WITH_CUDA)
  Backend* b = make_cuda_backend(device.index);
  EMBER_CHECK(b != nullptr, DeviceError, "device ", device.str(),
              " is not available: this machine has ", cuda::device_count(),
              " CUDA device(s) (see ember::cuda::device_count())");
  slot.store(b, std::memory_order_release);
  return *b;
#else
  throw DeviceError(detail::str_cat("device ", device.str(),
                                    " is not available: this build of ember has no CUDA backend "
                                    "(configure with -DEMBER_CUDA=ON or SIM)"));
#endif
}

}  // namespace

void register_backend(DeviceType type, Backend* b) {
  EMBER_CHECK(type == DeviceType::CUDA, DeviceError, "register_backend: only CUDA is pluggable");
  g_registered_cuda.store(b, std::memory_order_release);
}

// Note [Backend registration]: the CUDA backend is not registered by a static initialiser in
// its own file: in a static libember the linker drops object files nothing references, and
// the registration would silently vanish. backend() references make_cuda_backend directly
// instead (under EMBER_WITH_CUDA), creating a device's backend on first use; a device that
// does not exist gets a DeviceError naming it and the device count.
Backend& backend(Device device) {
  if (device.is_cpu()) [[likely]]
    return *g_cpu_backend;
  EMBER_CHECK(device.index >= 0 && device.index < kMaxCudaDevices, DeviceError, "device ",
              device.str(), " is not available: CUDA device indices run from 0 to ",
              kMaxCudaDevices - 1);
  if (Backend* b = g_cuda_backends[device.index].load(std::memory_order_acquire)) [[likely]]
    return *b;
  return create_cuda_backend(device);
}

}  // namespace ember
