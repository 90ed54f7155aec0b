// Pinned staging for host<->device copies. The CUDA backend copies through page-locked
// buffers so that its copies are asynchronous: the host's bytes go into a staging block, the
// copy is queued behind the stream's earlier work, and the call returns.
//
// A block whose asynchronous copy may still be in flight returns to the pool only once the
// event recorded behind that copy has completed, so the next acquire can never overwrite bytes
// the GPU has not read yet.
//
// Pinned memory is bounded: blocks are at most chunk_bytes() (the backend copies larger
// tensors chunk by chunk through them), and the bytes held by blocks in use plus blocks whose
// copy is in flight stay within limit() -- an acquire that would exceed it first waits for the
// oldest copies. Page-locked memory is taken from the whole machine, and a GPU-bound loop that
// staged every batch without a bound would pin gigabytes. The limit is EMBER_CUDA_STAGING_MB
// (default 64 MiB) per device, or set_limit().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include <ember/kernels/common/raw_allocator.h>

namespace ember::kernels::cuda {

class PinnedStaging {
 public:
  static constexpr size_t kDefaultLimit = size_t{64} << 20;
  static constexpr size_t kMinLimit = size_t{64} << 10;
  static constexpr size_t kMaxChunk = size_t{4} << 20;

  // Blocks come from `pinned` (a pool over pinned host memory, shared by every device).
  PinnedStaging(int device, BlockAllocator& pinned);

  // The limit a new staging starts with: EMBER_CUDA_STAGING_MB, else kDefaultLimit. Throws
  // ValueError for a malformed or out-of-range value.
  static size_t initial_limit();

  // The most one acquire may ask for: min(4 MiB, limit / 2).
  size_t chunk_bytes() const;
  size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  // Throws ValueError below kMinLimit.
  void set_limit(size_t bytes);

  // A block of nbytes <= chunk_bytes(), waiting for in-flight copies first if needed.
  void* acquire(size_t nbytes);
  // For a block the host is done with (its copy has been waited for).
  void release_now(void* ptr, size_t nbytes);
  // For a block an asynchronous copy on `stream` still reads.
  void release_after_copy(void* ptr, size_t nbytes, void* stream);
  // Returns the pool's idle pinned memory to the system (cuda::empty_cache).
  void release_idle();

  // Times this staging waited for the GPU to free room (counted as host syncs).
  int64_t waits() const { return waits_.load(std::memory_order_relaxed); }
  // Bytes in blocks handed out or waiting for their copy, now and at most since construction.
  size_t held_bytes() const;
  size_t peak_held_bytes() const;

 private:
  struct Pending {
    void* ptr;
    size_t nbytes;
    void* event;
  };
  void reclaim_completed();
  void wait_for_oldest();

  const int device_;
  BlockAllocator& pinned_;
  std::atomic<size_t> limit_;
  mutable std::mutex mutex_;
  std::deque<Pending> pending_;
  std::vector<void*> free_events_;
  size_t held_ = 0;
  size_t peak_held_ = 0;
  std::atomic<int64_t> waits_{0};
};

}  // namespace ember::kernels::cuda
