// The CUDA backend's memory entry points, its waits and the index-check read-back (Note
// [Host-device synchronisation] in kernels/cuda/backend.h).
#include <ember/kernels/cuda/backend.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/gemm.h>
#include <ember/kernels/cuda/graph.h>
#include <ember/kernels/cuda/memory.h>

namespace ember::kernels::cuda {
namespace {

std::atomic<bool>& eager_checks_flag() {
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("EMBER_CUDA_EAGER_CHECKS");
    return env != nullptr && std::string_view(env) != "" && std::string_view(env) != "0";
  }()};
  return flag;
}

}  // namespace

void set_eager_checks(bool on) {
  eager_checks_flag().store(on, std::memory_order_relaxed);
}

bool eager_checks() {
  return eager_checks_flag().load(std::memory_order_relaxed);
}

CudaBackend::CudaBackend(int device, BlockAllocator& device_memory, BlockAllocator& pinned_memory)
    : device_(device),
      stream_(current_stream(device)),
      device_memory_(device_memory),
      staging_(device, pinned_memory) {
  ensure_device(device_);
  // The checked kernels' record lives in device memory for the backend's lifetime. Its
  // pristine value sits in pinned memory that never changes, so the asynchronous copies
  // that (re)initialise it can read it whenever they run.
  check_ = static_cast<IndexCheck*>(
      device_memory.allocate(sizeof(IndexCheck), reinterpret_cast<uintptr_t>(stream_)));
  void* pinned = pinned_malloc(2 * sizeof(IndexCheck));
  EMBER_CHECK(pinned != nullptr, OutOfMemoryError, "CUDA backend: cannot allocate ",
              2 * sizeof(IndexCheck), " bytes of pinned host memory");
  pristine_check_ = new (pinned) IndexCheck{};
  read_check_ = new (static_cast<char*>(pinned) + sizeof(IndexCheck)) IndexCheck{};
  memcpy_h2d_async(check_, pristine_check_, sizeof(IndexCheck), stream_);
  blocks_done_ = static_cast<unsigned int*>(
      device_memory.allocate(sizeof(unsigned int), reinterpret_cast<uintptr_t>(stream_)));
  memset_async(blocks_done_, 0, sizeof(unsigned int), stream_);
}

// Chunk by chunk through staging blocks, each waited for before the host reads it: the caller
// reads dst_host as soon as we return.
void CudaBackend::memcpy_to_host(void* dst_host, const void* src, size_t nbytes) {
  refuse_during_capture("a copy to the host (item(), to(cpu), printing, a checkpoint save)",
                        "read results after a replay");
  ensure_device(device_);
  const size_t chunk = staging_.chunk_bytes();
  for (size_t done = 0; done < nbytes;) {
    const size_t n = std::min(chunk, nbytes - done);
    void* staging = staging_.acquire(n);
    try {
      memcpy_d2h_async(staging, static_cast<const char*>(src) + done, n, stream_);
      wait();
      std::memcpy(static_cast<char*>(dst_host) + done, staging, n);
    } catch (...) {
      staging_.release_now(staging, n);
      throw;
    }
    staging_.release_now(staging, n);
    done += n;
  }
}

// The caller may reuse src_host as soon as we return, so its bytes move to pinned staging
// first, a chunk at a time; each chunk's copy then runs asynchronously from there, and the
// staging waits for old copies only when its limit is reached.
void CudaBackend::memcpy_from_host(void* dst, const void* src_host, size_t nbytes) {
  refuse_during_capture("a copy from host memory (to(cuda), a tensor made from host values)",
                        "copy new inputs into the graph's input tensors before each replay");
  ensure_device(device_);
  const size_t chunk = staging_.chunk_bytes();
  for (size_t done = 0; done < nbytes;) {
    const size_t n = std::min(chunk, nbytes - done);
    void* staging = staging_.acquire(n);
    std::memcpy(staging, static_cast<const char*>(src_host) + done, n);
    try {
      memcpy_h2d_async(static_cast<char*>(dst) + done, staging, n, stream_);
    } catch (...) {
      staging_.release_now(staging, n);
      throw;
    }
    staging_.release_after_copy(staging, n, stream_);
    done += n;
  }
}

// On this device's stream, after the source device's earlier work (which wrote src); the
// source device's later work waits for the copy in turn, since its caching allocator may hand
// src's block to that work as soon as the tensor is dropped. Both waits stay on the GPUs.
void CudaBackend::memcpy_from_peer(void* dst, Backend& src_backend, const void* src,
                                   size_t nbytes) {
  auto* peer = dynamic_cast<CudaBackend*>(&src_backend);
  EMBER_CHECK(peer != nullptr, DeviceError,
              "CUDA memcpy_from_peer: the source is not a CUDA device's memory");
  if (nbytes == 0) return;
  refuse_during_capture("a copy between devices", "copy before or after the captured work");
  peer->refuse_during_capture("a copy between devices", "copy before or after the captured work");
  auto ordered_after = [](void* waiting_stream, int device, void* stream) {
    ensure_device(device);
    void* event = event_create(/*timing=*/false);
    event_record(event, stream);
    stream_wait_event(waiting_stream, event);
    event_destroy(event);  // released once the wait is done with it
  };
  ordered_after(stream_, peer->device_, peer->stream_);
  ensure_device(device_);
  memcpy_peer_async(dst, device_, src, peer->device_, nbytes, stream_);
  ordered_after(peer->stream_, device_, stream_);
}

// Streams and copies may be used from any current device: cuda::synchronize() waits for every
// device in use without switching this thread to each of them.
void CudaBackend::synchronize() {
  wait();
}

// When a checked kernel was queued since the last look, its record comes back in the same
// wait, and a recorded error is thrown here.
void CudaBackend::wait() {
  refuse_during_capture("waiting for the device (synchronize, or an eager index check)",
                        "wait after the capture, or turn eager checks off while capturing");
  std::lock_guard<std::mutex> lock(check_mutex_);
  const int64_t queued = checks_queued_.load(std::memory_order_acquire);
  const bool look = queued != checks_read_;
  if (look) memcpy_d2h_async(read_check_, check_, kReportedBytes, stream_);
  stream_synchronize(stream_);
  ++host_syncs_;
  if (!look) return;
  checks_read_ = queued;
  if (read_check_->position == kNoBadIndex) return;
  const IndexCheck found = *read_check_;
  // Only the record, not the scratch of a launch another thread may have queued since.
  memcpy_h2d_async(check_, pristine_check_, kReportedBytes, stream_);
  throw check_error(found);
}

void CudaBackend::refuse_during_capture(const char* what, const char* instead) const {
  if (!capturing()) [[likely]]
    return;
  throw CudaError(detail::str_cat("cuda:", device_, ": ", what,
                                  " is not allowed while a CUDA graph is being captured on the "
                                  "device (",
                                  instead, ")"));
}

void CudaBackend::begin_capture() {
  EMBER_CHECK(!capturing_.exchange(true), CudaError, "cuda:", device_,
              ": a CUDA graph is already being captured on the device");
  checks_before_capture_ = checks_queued_.load(std::memory_order_acquire);
  try {
    ensure_device(device_);
    prepare_for_capture(stream_);
    capture_begin(stream_);
  } catch (...) {
    capturing_.store(false);
    throw;
  }
}

CudaBackend::CapturedGraph CudaBackend::end_capture() {
  EMBER_CHECK(capturing(), CudaError, "cuda:", device_, ": no CUDA graph is being captured");
  CapturedGraph graph;
  graph.has_checked_kernels =
      checks_queued_.load(std::memory_order_acquire) != checks_before_capture_;
  try {
    ensure_device(device_);
    graph.exec = capture_end(stream_);
  } catch (...) {
    capturing_.store(false, std::memory_order_release);
    throw;
  }
  capturing_.store(false, std::memory_order_release);
  return graph;
}

void CudaBackend::abort_capture() noexcept {
  if (!capturing()) return;
  capture_abort(stream_);
  capturing_.store(false, std::memory_order_release);
}

void CudaBackend::replay(const CapturedGraph& graph) {
  refuse_during_capture("replaying a CUDA graph", "replay it after the capture");
  ensure_device(device_);
  graph_launch(graph.exec, stream_);
  if (graph.has_checked_kernels) checks_queued_.fetch_add(1, std::memory_order_release);
}

void CudaBackend::checked_kernel_queued() {
  checks_queued_.fetch_add(1, std::memory_order_release);
  if (eager_checks()) wait();
}

// The IndexError the CPU backend would have thrown at the call, saying where it surfaced.
IndexError CudaBackend::check_error(const IndexCheck& c) const {
  const bool loss = c.kernel == CheckedKernel::CrossEntropy || c.kernel == CheckedKernel::NllLoss;
  const char* op = c.kernel == CheckedKernel::CrossEntropy  ? "cross_entropy"
                   : c.kernel == CheckedKernel::NllLoss     ? "nll_loss"
                   : c.kernel == CheckedKernel::Gather      ? "gather"
                   : c.kernel == CheckedKernel::IndexSelect ? "index_select"
                                                            : "scatter_add";
  const IndexError error = loss ? bad_target_error(op, c.value, c.position, c.bound)
                                : bad_index_error(op, c.value, c.position, c.dim, c.bound);
  if (eager_checks()) return error;
  return IndexError(detail::str_cat(
      error.what(), " [found on cuda:", device_, " by an earlier ", op,
      " call, reported at this wait for the device; ember::cuda::set_eager_checks(true) or "
      "EMBER_CUDA_EAGER_CHECKS=1 reports it at the call]"));
}

}  // namespace ember::kernels::cuda
