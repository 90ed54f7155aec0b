// The allocator interfaces between core and the kernels. RawAllocator: where the caching
// allocator (core/allocator.h) gets its segments, supplied by each backend's kernels
// (kernels/cuda/raw_allocators.h: cudaMalloc and pinned host memory). BlockAllocator: what the
// caching allocator offers back, for kernels that keep buffers of their own (the CUDA
// backend's staging copies). Defined here, below core; core/allocator.h re-exports them.
#pragma once

#include <cstddef>
#include <cstdint>

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

// Blocks are tagged with the stream that will use them (a cudaStream_t as an integer; 0 on
// the CPU).
using StreamId = uint64_t;

// A pool of blocks (core's CachingAllocator). allocate throws OutOfMemoryError when even an
// emptied cache cannot serve the request.
class BlockAllocator {
 public:
  virtual void* allocate(size_t nbytes, StreamId stream = 0) = 0;
  virtual void deallocate(void* ptr) = 0;
  // Returns the memory of blocks nobody holds to the raw allocator.
  virtual void empty_cache() = 0;

 protected:
  ~BlockAllocator() = default;
};

}  // namespace ember
