// CUDA device queries through the registered CUDA backend (none in a CPU-only build).
#include <ember/core/cuda.h>

#include <ember/core/backend.h>
#include <ember/core/error.h>

namespace ember::cuda {

int device_count() {
  try {
    backend(Device::cuda());
    return 1;
  } catch (const DeviceError&) {
    return 0;
  }
}

bool is_available() {
  return device_count() > 0;
}

void synchronize() {
  if (is_available()) backend(Device::cuda()).synchronize();
}

}  // namespace ember::cuda
