// Pinned staging for host<->device copies. The CUDA backend copies through page-locked
// buffers so that its copies are asynchronous: the host's bytes go into a staging block, the
// copy is queued behind the stream's earlier work, and the call returns.
//
// A block whose asynchronous copy may still be in flight returns to the pool only once the
// event recorded behind that copy has completed, so the next acquire can never overwrite bytes
// the GPU has not read yet.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include <ember/kernels/common/raw_allocator.h>

namespace ember::kernels::cuda {

class PinnedStaging {
 public:
  // If the host runs this many staging copies ahead of the GPU, release_after_copy waits for
  // the oldest rather than pinning ever more host memory.
  static constexpr size_t kMaxPending = 256;

  // Blocks come from `pinned` (a pool over pinned host memory, shared by every device).
  PinnedStaging(int device, BlockAllocator& pinned) : device_(device), pinned_(pinned) {}

  void* acquire(size_t nbytes);
  // For a block the host is done with (its copy has been waited for).
  void release_now(void* ptr) { pinned_.deallocate(ptr); }
  // For a block an asynchronous copy on `stream` still reads. Returns true when it had to wait
  // for the GPU (the host ran kMaxPending copies ahead).
  bool release_after_copy(void* ptr, void* stream);

 private:
  struct Pending {
    void* ptr;
    void* event;
  };
  void reclaim_completed();

  const int device_;
  BlockAllocator& pinned_;
  std::mutex mutex_;
  std::deque<Pending> pending_;
  std::vector<void*> free_events_;
};

}  // namespace ember::kernels::cuda
