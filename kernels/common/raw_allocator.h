// The raw allocator interface: where the caching allocator (core/allocator.h) gets its
// segments. Defined here, below core, so that each backend's kernels can supply theirs
// (kernels/cuda/raw_allocators.h: cudaMalloc and pinned host memory); core/allocator.h
// re-exports it.
#pragma once

#include <cstddef>

namespace ember {

// Where segments come from. raw_alloc returns nullptr when memory is exhausted; it never
// throws for that.
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  virtual void* raw_alloc(size_t nbytes) = 0;
  virtual void raw_free(void* ptr, size_t nbytes) = 0;
  virtual const char* name() const = 0;
  // Told about every block the caching allocator hands out / takes back, with the guard
  // bytes that follow it (config.guard_bytes). cudasim's raw allocator fills and checks
  // those guards, so an overrun into a neighbouring block of one segment is caught too.
  virtual void on_block_allocated(void* /*ptr*/, size_t /*usable*/, size_t /*guard*/) {}
  virtual void on_block_freed(void* /*ptr*/) {}
};

}  // namespace ember
