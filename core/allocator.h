// Caching allocator, generic over a raw allocator (Note [Caching allocator]).
//
// Raw allocations (malloc, cudaMalloc) are slow and, on a GPU, synchronise the device, so
// freed blocks are kept in size-ordered pools and handed out again. Layers, as in
// PyTorch's c10 allocator: Block (size, stream, split neighbours) -> BlockPool (small /
// large) -> CachingAllocator. The logic knows nothing about CUDA: the CPU device uses it
// over aligned malloc, the CUDA device over cudaMalloc, and tests over counting and
// failing raw allocators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <ember/kernels/common/raw_allocator.h>

namespace ember {

// 64-byte aligned host memory (cache-line and AVX-512 friendly).
RawAllocator& cpu_raw_allocator();

struct AllocatorStats {
  int64_t allocated_bytes = 0;       // handed out now (rounded block sizes)
  int64_t peak_allocated_bytes = 0;  // high-water mark of allocated_bytes
  int64_t reserved_bytes = 0;        // held from the raw allocator (cached + in use)
  int64_t peak_reserved_bytes = 0;
  int64_t active_blocks = 0;    // blocks handed out now
  int64_t alloc_calls = 0;      // allocate() calls
  int64_t cache_hits = 0;       // allocate() calls served without a raw allocation
  int64_t raw_alloc_calls = 0;  // successful raw_alloc calls
  int64_t raw_free_calls = 0;
  int64_t oom_retries = 0;  // raw_alloc failures followed by empty_cache + retry
};

struct CachingAllocatorConfig {
  size_t rounding = 512;            // every request rounded up to a multiple of this
  size_t small_limit = 1 << 20;     // requests <= this come from the small pool
  size_t small_segment = 2 << 20;   // small-pool segments are this big
  size_t large_rounding = 2 << 20;  // large segments are rounded to this
  size_t guard_bytes = 0;           // checked padding after each block (cudasim)
};

class CachingAllocator final : public BlockAllocator {
 public:
  CachingAllocator(RawAllocator& raw, CachingAllocatorConfig config = {}, std::string name = "");
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // A block of at least nbytes (nbytes == 0 gives a valid unique pointer), aligned to
  // config.rounding. Blocks freed on `stream` are reused only by that stream. On raw OOM:
  // empty_cache() and retry once, then throw OutOfMemoryError naming the request and stats.
  void* allocate(size_t nbytes, StreamId stream = 0) override;
  // Returns the block to its pool, coalescing with free neighbours of the same segment.
  // Throws ember::Error for a pointer this allocator did not hand out.
  void deallocate(void* ptr) override;
  // Releases every fully-free segment to the raw allocator.
  void empty_cache() override;

  // Note [Capture pools]
  // ~~~~~~~~~~~~~~~~~~~~
  // A CUDA graph replays the addresses it was captured with, so its memory must stay its own
  // for as long as it lives, as with PyTorch's graph pools. Between begin_capture and
  // end_capture every allocation for `stream` comes from segments of a private pool tagged
  // `pool` (a tag no stream uses), and no block freed meanwhile -- pool block or not -- is
  // handed out again while the capture runs, since the captured work may still use it when
  // replayed. At end_capture the pool's freed blocks become free pool blocks, which only
  // `pool` allocations could take (there are none any more), and the other freed blocks stay
  // held. release_pool (the graph is gone) returns the held blocks and releases the pool's
  // free segments; a pool block still in use (a graph's output) is released with its segment
  // when that becomes wholly free. empty_cache throws ValueError during a capture.
  // During a capture a raw allocation that fails is not retried after releasing the cache:
  // that would free memory, which a capture forbids.
  void begin_capture(StreamId stream, StreamId pool);
  void end_capture(StreamId pool);
  void release_pool(StreamId pool);

  AllocatorStats stats() const;
  void reset_peak_stats();
  const CachingAllocatorConfig& config() const;
  std::string stats_string() const;  // one line, for error messages and logs

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The CPU device's allocator (over cpu_raw_allocator()).
CachingAllocator& cpu_caching_allocator();

}  // namespace ember
