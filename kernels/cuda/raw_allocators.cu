// The CUDA backend's raw allocators (kernels/cuda/raw_allocators.h), over kernels/cuda/memory.h.
#include <ember/kernels/cuda/raw_allocators.h>

#include <ember/kernels/cuda/graph.h>
#include <ember/kernels/cuda/memory.h>

namespace ember::kernels::cuda {

DeviceRawAllocator::DeviceRawAllocator(int device)
    : device_(device), name_("cuda:" + std::to_string(device)) {}

// Relaxed: a graph's capture pool takes its segments while the capture runs (Note [Capture
// pools] in core/allocator.h); outside a capture the mode changes nothing.
void* DeviceRawAllocator::raw_alloc(size_t nbytes) {
  ensure_device(device_);
  const RelaxedCaptureMode relaxed;
  return device_malloc(nbytes);
}

void DeviceRawAllocator::raw_free(void* ptr, size_t /*nbytes*/) {
  ensure_device(device_);
  device_free(ptr);
}

void DeviceRawAllocator::on_block_allocated(void* ptr, size_t usable, size_t guard) {
  register_block_guard(ptr, usable, guard);
}

void DeviceRawAllocator::on_block_freed(void* ptr) {
  unregister_block_guard(ptr);
}

void* PinnedRawAllocator::raw_alloc(size_t nbytes) {
  return pinned_malloc(nbytes);
}

void PinnedRawAllocator::raw_free(void* ptr, size_t /*nbytes*/) {
  pinned_free(ptr);
}

}  // namespace ember::kernels::cuda
