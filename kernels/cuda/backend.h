// The CUDA backend: every entry point of kernels/common/backend_kernels.inc queued on its
// device's stream (Note [Current stream] in kernels/cuda/memory.h). Each kernel entry point is
// defined beside its launcher (elementwise.cu, reduce.cu, softmax.cu, norm.cu, index.cu, copy.cu,
// random.cu, dropout.cu, optimizer.cu, gemm.cu); the memory entry points, the wait and the
// index-check read-back in backend.cu. Plain C++, no CUDA header, so core can hold it.
//
// Note [Host-device synchronisation]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Kernels are queued and the host runs ahead. The backend waits for the GPU only where the
// host needs a result:
//   - memcpy_to_host (the caller is about to read the bytes: item(), to(cpu), printing);
//   - synchronize().
// A training step has none: its loss stays on the device until the user reads it.
//
// Checks of data only the GPU sees do not wait either. cross_entropy / nll_loss validate
// their targets and gather / scatter_add their indices inside the kernel (kernels/cuda/
// index_check.h): the first bad one is recorded in a per-backend IndexCheck in device
// memory, the loss's valid count (the mean's divisor) is written to a device scalar that
// the forward divides by in its own last block and the backward kernel reads, so nothing
// goes to the host. Whenever a checked kernel ran since the last look, wait() copies the
// record back in the same stream synchronisation it makes anyway (40 bytes into pinned
// memory, no extra sync) and throws the IndexError the CPU backend would have thrown --
// naming the op, the bad value, its position and the class count / dim size -- at that
// item() / to(cpu) / synchronize(), then resets the record so the backend stays usable.
// The op's result was computed with the bad elements skipped and must not be trusted; the
// throw guarantees no value computed after it reaches the host unreported. To get the
// error at the call instead (one sync per checked op, for debugging), turn on eager
// checks: set_eager_checks(true) (ember::cuda::set_eager_checks), or
// EMBER_CUDA_EAGER_CHECKS=1 at start-up.
//
// Note [Graph capture]
// ~~~~~~~~~~~~~~~~~~~~
// Between begin_capture and end_capture the stream's work is recorded into a CUDA graph
// (kernels/cuda/graph.h) instead of running; core's cuda::Graph replays it. What cannot be
// recorded is refused with a CudaError naming it, before it reaches the runtime (which would
// only invalidate the capture): waiting for the device (synchronize, item(), to(cpu),
// printing), copies from host memory (whose staging block would be reused while the graph
// still reads it), copies between devices, and random numbers (their seed and offset are
// launch arguments, so every replay would draw the same numbers). The checked kernels'
// record works across replays: a replay of a graph that holds checked kernels counts as
// queued checks, so a bad target in a replayed step is thrown at the next wait, as eagerly.
//
// Every wait is counted (host_syncs()), so benchmarks can report it on real GPUs too.
// memcpy_from_host waits only when its pinned staging is full: the bytes are copied into
// staging, the H2D copy is queued, and the staging block is reused only after an event
// recorded behind the copy has completed (kernels/cuda/pinned_staging.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include <ember/kernels/common/backend.h>
#include <ember/kernels/common/raw_allocator.h>
#include <ember/kernels/cuda/index_check.h>
#include <ember/kernels/cuda/pinned_staging.h>

namespace ember::kernels::cuda {

class CudaBackend final : public Backend {
 public:
  // `device_memory`: the caching allocator core keeps for this device's memory;
  // `pinned_memory`: the process's pool of pinned host memory (staging copies). Both outlive
  // the backend, which core never destroys.
  CudaBackend(int device, BlockAllocator& device_memory, BlockAllocator& pinned_memory);
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  int device() const { return device_; }
  // The stream all of this device's work is queued on (a cudaStream_t).
  void* stream() const { return stream_; }
  // Every time this backend waited for the GPU (Note [Host-device synchronisation]).
  int64_t host_syncs() const {
    return host_syncs_.load(std::memory_order_relaxed) + staging_.waits();
  }
  // The pinned staging of this device's host<->device copies (its limit, its idle memory).
  PinnedStaging& staging() { return staging_; }

  // Note [Graph capture]. One capture per device at a time; begin_capture throws CudaError
  // if one is running.
  struct CapturedGraph {
    void* exec = nullptr;  // a cudaGraphExec_t
    bool has_checked_kernels = false;
  };
  void begin_capture();
  // Throws CudaError when the capture failed; the stream works eagerly again either way.
  CapturedGraph end_capture();
  void abort_capture() noexcept;  // after a failure on the host: drops what was recorded
  void replay(const CapturedGraph& graph);
  bool capturing() const { return capturing_.load(std::memory_order_acquire); }

#define EMBER_BACKEND_ENTRY(...) __VA_ARGS__ override
#include <ember/kernels/common/backend_kernels.inc>
#undef EMBER_BACKEND_ENTRY

 private:
  // Waits for everything queued on the stream; throws a recorded bad target or index.
  void wait();
  // After each launch of a checked kernel (the losses' forwards, gather, scatter_add).
  void checked_kernel_queued();
  IndexError check_error(const IndexCheck& c) const;
  // Throws CudaError if the stream is capturing: `what` cannot be recorded (Note [Graph
  // capture]); `instead` says what to do.
  void refuse_during_capture(const char* what, const char* instead) const;

  const int device_;
  void* const stream_;
  BlockAllocator& device_memory_;  // for the scratch of multi-pass kernels (sort)
  PinnedStaging staging_;
  IndexCheck* check_ = nullptr;            // device: the checked kernels' record
  IndexCheck* pristine_check_ = nullptr;   // pinned, never written after construction
  IndexCheck* read_check_ = nullptr;       // pinned: where wait() reads the record back
  unsigned int* blocks_done_ = nullptr;    // device, zeroed: the multi-tensor updates' counter
  std::mutex check_mutex_;                 // one wait (and record read-back) at a time
  std::atomic<int64_t> checks_queued_{0};  // checked kernels queued so far
  int64_t checks_read_ = 0;                // checks_queued_ at the last read-back
  std::atomic<int64_t> host_syncs_{0};
  std::atomic<bool> capturing_{false};
  int64_t checks_before_capture_ = 0;
};

// Eager checks (Note [Host-device synchronisation]): off unless EMBER_CUDA_EAGER_CHECKS is set
// to something other than "" or "0" at start-up.
void set_eager_checks(bool on);
bool eager_checks();

}  // namespace ember::kernels::cuda
