// The CUDA backend's raw allocators, under core's caching allocator: device memory of one GPU
// (cudaMalloc) and pinned host memory (cudaMallocHost) for staging copies. Plain C++, no CUDA
// header, so core can hold them.
#pragma once

#include <cstddef>
#include <string>

#include <ember/kernels/common/raw_allocator.h>

namespace ember::kernels::cuda {

// Segments of device memory on GPU `device`. Under cudasim it also registers the guard bytes
// behind every block, so an overrun into a neighbouring block fails the launch that did it.
class DeviceRawAllocator final : public RawAllocator {
 public:
  explicit DeviceRawAllocator(int device);
  void* raw_alloc(size_t nbytes) override;
  void raw_free(void* ptr, size_t nbytes) override;
  const char* name() const override { return name_.c_str(); }
  void on_block_allocated(void* ptr, size_t usable, size_t guard) override;
  void on_block_freed(void* ptr) override;

 private:
  int device_;
  std::string name_;
};

// Page-locked host memory, which asynchronous copies need.
class PinnedRawAllocator final : public RawAllocator {
 public:
  void* raw_alloc(size_t nbytes) override;
  void raw_free(void* ptr, size_t nbytes) override;
  const char* name() const override { return "cuda pinned host"; }
};

}  // namespace ember::kernels::cuda
