// The CUDA backend: every Backend call becomes kernels::cuda work queued on the device's
// stream (Note [Current stream] in kernels/cuda/memory.h). Device memory comes from core's
// caching allocator over cudaMalloc; host<->device copies go through pinned staging buffers.
// Compiled only when a CUDA mode (nvcc or cudasim) is on; reached through
// make_cuda_backend(), which core/backend.cpp's backend() calls on first use of a device.
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
// checks: ember::cuda::set_eager_checks(true), or EMBER_CUDA_EAGER_CHECKS=1 at start-up.
//
// Every wait is counted (host_syncs()), so benchmarks can report it on real GPUs too.
// memcpy_from_host never waits: the bytes are copied into pinned staging, the H2D copy is
// queued, and the staging block is reused only after an event recorded behind the copy has
// completed.
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include <ember/core/backend.h>
#include <ember/core/device_backends.h>
#include <ember/core/cuda.h>
#include <ember/core/error.h>
#include <ember/kernels/cuda/copy.h>
#include <ember/kernels/cuda/device.h>
#include <ember/kernels/cuda/dropout.h>
#include <ember/kernels/cuda/elementwise.h>
#include <ember/kernels/cuda/gemm.h>
#include <ember/kernels/cuda/index.h>
#include <ember/kernels/cuda/index_check.h>
#include <ember/kernels/cuda/memory.h>
#include <ember/kernels/cuda/optimizer.h>
#include <ember/kernels/cuda/random.h>
#include <ember/kernels/cuda/raw_allocators.h>
#include <ember/kernels/cuda/reduce.h>
#include <ember/kernels/cuda/softmax.h>

namespace ember {

namespace {

namespace k = kernels::cuda;

// Guard bytes after every block under cudasim, so an overrun into the neighbouring tensor of
// the same segment fails the launch that did it (cudasim checks them after every kernel).
constexpr size_t kSimGuardBytes = 64;
// If the host runs this many staging copies ahead of the GPU, wait for the oldest rather than
// pinning ever more host memory.
constexpr size_t kMaxPendingStaging = 256;

// One pinned host pool for the process, shared by every device's staging. Never destroyed:
// tensors may outlive static destructors, and the runtime may already be gone at exit.
CachingAllocator& pinned_allocator() {
  static auto* raw = new k::PinnedRawAllocator();
  static auto* allocator = new CachingAllocator(*raw, CachingAllocatorConfig{}, "cuda pinned host");
  return *allocator;
}

// Pinned staging blocks whose asynchronous copy may still be in flight. A block is returned
// to the pinned pool only once the event recorded behind its copy has completed, so the next
// acquire can never overwrite bytes the GPU has not read yet.
class PinnedStaging {
 public:
  explicit PinnedStaging(int device) : device_(device) {}

  void* acquire(size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    reclaim_completed();
    return pinned_allocator().allocate(nbytes);
  }
  // For a block the host is done with (its copy has been waited for).
  void release_now(void* ptr) { pinned_allocator().deallocate(ptr); }
  // For a block an asynchronous copy on `stream` still reads. Returns true when it had to wait
  // for the GPU (the host ran kMaxPendingStaging copies ahead).
  bool release_after_copy(void* ptr, void* stream) {
    std::lock_guard<std::mutex> lock(mutex_);
    void* event = nullptr;
    if (free_events_.empty()) {
      k::ensure_device(device_);
      event = k::event_create();
    } else {
      event = free_events_.back();
      free_events_.pop_back();
    }
    k::event_record(event, stream);
    pending_.push_back({ptr, event});
    if (pending_.size() <= kMaxPendingStaging) return false;
    k::event_synchronize(pending_.front().event);
    reclaim_completed();
    return true;
  }

 private:
  struct Pending {
    void* ptr;
    void* event;
  };
  // The stream runs in order, so the first incomplete event ends the scan.
  void reclaim_completed() {
    while (!pending_.empty() && k::event_query(pending_.front().event)) {
      pinned_allocator().deallocate(pending_.front().ptr);
      free_events_.push_back(pending_.front().event);
      pending_.pop_front();
    }
  }

  int device_;
  std::mutex mutex_;
  std::deque<Pending> pending_;
  std::vector<void*> free_events_;
};

CachingAllocatorConfig device_allocator_config() {
  CachingAllocatorConfig config;  // 512-byte rounding, <= 1 MiB from 2 MiB segments, 2 MiB large
  config.guard_bytes = k::is_simulated() ? kSimGuardBytes : 0;
  return config;
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device)
      : device_(device),
        stream_(k::current_stream(device)),
        raw_(device),
        allocator_(raw_, device_allocator_config(),
                   "cuda:" + std::to_string(device) + " caching allocator"),
        staging_(device) {
    k::ensure_device(device_);
    // The checked kernels' record lives in device memory for the backend's lifetime. Its
    // pristine value sits in pinned memory that never changes, so the asynchronous copies
    // that (re)initialise it can read it whenever they run.
    check_ = static_cast<k::IndexCheck*>(allocator_.allocate(sizeof(k::IndexCheck), stream_id()));
    void* pinned = k::pinned_malloc(2 * sizeof(k::IndexCheck));
    EMBER_CHECK(pinned != nullptr, OutOfMemoryError, "CUDA backend: cannot allocate ",
                2 * sizeof(k::IndexCheck), " bytes of pinned host memory");
    pristine_check_ = new (pinned) k::IndexCheck{};
    read_check_ = new (static_cast<char*>(pinned) + sizeof(k::IndexCheck)) k::IndexCheck{};
    k::memcpy_h2d_async(check_, pristine_check_, sizeof(k::IndexCheck), stream_);
  }

  // Every time this backend waited for the GPU (Note [Host-device synchronisation]).
  int64_t host_syncs() const { return host_syncs_.load(std::memory_order_relaxed); }

  // memory --------------------------------------------------------------------------------
  void* allocate(size_t nbytes) override {
    k::ensure_device(device_);
    return allocator_.allocate(nbytes, stream_id());
  }
  void deallocate(void* ptr) override { allocator_.deallocate(ptr); }
  CachingAllocator& allocator() override { return allocator_; }

  void memcpy_to_host(void* dst_host, const void* src, size_t nbytes) override {
    if (nbytes == 0) return;
    k::ensure_device(device_);
    void* staging = staging_.acquire(nbytes);
    try {
      k::memcpy_d2h_async(staging, src, nbytes, stream_);
      wait();  // the caller reads dst_host as soon as we return
      std::memcpy(dst_host, staging, nbytes);
    } catch (...) {
      staging_.release_now(staging);
      throw;
    }
    staging_.release_now(staging);
  }

  void memcpy_from_host(void* dst, const void* src_host, size_t nbytes) override {
    if (nbytes == 0) return;
    k::ensure_device(device_);
    // The caller may reuse src_host as soon as we return, so the bytes move to pinned staging
    // first; the H2D copy then runs asynchronously from there.
    void* staging = staging_.acquire(nbytes);
    std::memcpy(staging, src_host, nbytes);
    try {
      k::memcpy_h2d_async(dst, staging, nbytes, stream_);
    } catch (...) {
      staging_.release_now(staging);
      throw;
    }
    if (staging_.release_after_copy(staging, stream_)) ++host_syncs_;
  }

  void synchronize() override {
    k::ensure_device(device_);
    wait();
  }

  // elementwise ---------------------------------------------------------------------------
  void unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p) override {
    k::ensure_device(device_);
    k::unary(op, dt, x, y, n, p, stream_);
  }
  void unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy, void* gx,
                      int64_t n, UnaryParams p) override {
    k::ensure_device(device_);
    k::unary_backward(op, dt, x, y, gy, gx, n, p, stream_);
  }
  void binary(BinaryOp op, DType dt, const Layout& al, const void* a, const Layout& bl,
              const void* b, void* out) override {
    k::ensure_device(device_);
    k::binary(op, dt, al, a, bl, b, out, stream_);
  }
  void binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first, void* out,
                     int64_t n) override {
    k::ensure_device(device_);
    k::binary_scalar(op, dt, x, s, scalar_first, out, n, stream_);
  }
  void where(DType dt, const Layout& cl, const bool* cond, const Layout& al, const void* a,
             const Layout& bl, const void* b, void* out) override {
    k::ensure_device(device_);
    k::where(dt, cl, cond, al, a, bl, b, out, stream_);
  }

  // reductions ----------------------------------------------------------------------------
  void reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
              int64_t inner) override {
    k::ensure_device(device_);
    k::reduce(op, dt, x, out, outer, r, inner, stream_);
  }
  void reduce_with_index(ReduceOp op, DType dt, const void* x, void* values, int64_t* indices,
                         int64_t outer, int64_t r, int64_t inner) override {
    k::ensure_device(device_);
    k::reduce_with_index(op, dt, x, values, indices, outer, r, inner, stream_);
  }

  // softmax family and losses -------------------------------------------------------------
  void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner,
               bool log) override {
    k::ensure_device(device_);
    k::softmax(dt, x, y, outer, r, inner, log, stream_);
  }
  void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer, int64_t r,
                        int64_t inner, bool log) override {
    k::ensure_device(device_);
    k::softmax_backward(dt, y, gy, gx, outer, r, inner, log, stream_);
  }
  void cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                             int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                             void* reduced, int64_t* valid_count) override {
    k::ensure_device(device_);
    k::cross_entropy_forward(dt, logits, targets, n, c, ignore_index, reduction, losses, reduced,
                             valid_count, check_, stream_);
    checked_kernel_queued();
  }
  void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                              int64_t c, int64_t ignore_index, const void* grad_losses,
                              int64_t grad_stride, const int64_t* mean_count,
                              void* glogits) override {
    k::ensure_device(device_);
    k::cross_entropy_backward(dt, logits, targets, n, c, ignore_index, grad_losses, grad_stride,
                              mean_count, glogits, stream_);
  }
  void nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n, int64_t c,
                        int64_t ignore_index, LossReduction reduction, void* losses, void* reduced,
                        int64_t* valid_count) override {
    k::ensure_device(device_);
    k::nll_loss_forward(dt, logp, targets, n, c, ignore_index, reduction, losses, reduced,
                        valid_count, check_, stream_);
    checked_kernel_queued();
  }
  void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c,
                         int64_t ignore_index, const void* grad_losses, int64_t grad_stride,
                         const int64_t* mean_count, void* glogp) override {
    k::ensure_device(device_);
    k::nll_loss_backward(dt, targets, n, c, ignore_index, grad_losses, grad_stride, mean_count,
                         glogp, stream_);
  }

  // indexing ------------------------------------------------------------------------------
  void gather(DType dt, int dim, const Layout& xl, int64_t x_dim_size, const void* x,
              const int64_t* index, void* out) override {
    k::ensure_device(device_);
    k::gather(dt, dim, xl, x_dim_size, x, index, out, check_, stream_);
    checked_kernel_queued();
  }
  void scatter_add(DType dt, int dim, const Layout& ol, int64_t out_dim_size, void* out,
                   const int64_t* index, const void* src) override {
    k::ensure_device(device_);
    k::scatter_add(dt, dim, ol, out_dim_size, out, index, src, check_, stream_);
    checked_kernel_queued();
  }

  // data movement and random --------------------------------------------------------------
  void copy(DType src_dt, const Layout& sl, const void* src, DType dst_dt, const Layout& dl,
            void* dst) override {
    k::ensure_device(device_);
    k::copy(src_dt, sl, src, dst_dt, dl, dst, stream_);
  }
  void fill(DType dt, const Layout& l, void* dst, double value) override {
    k::ensure_device(device_);
    k::fill(dt, l, dst, value, stream_);
  }
  void arange(DType dt, void* out, int64_t n, double start, double step) override {
    k::ensure_device(device_);
    k::arange(dt, out, n, start, step, stream_);
  }
  void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
               double high) override {
    k::ensure_device(device_);
    k::uniform(dt, out, n, seed, offset, low, high, stream_);
  }
  void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
              double std) override {
    k::ensure_device(device_);
    k::normal(dt, out, n, seed, offset, mean, std, stream_);
  }
  void randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low,
               int64_t high) override {
    k::ensure_device(device_);
    k::randint(out, n, seed, offset, low, high, stream_);
  }

  // dropout and fused optimizer updates ---------------------------------------------------
  void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
               uint64_t offset) override {
    k::ensure_device(device_);
    k::dropout(dt, x, y, mask, n, p, seed, offset, stream_);
  }
  void sgd_step(DType dt, void* param, const void* grad, void* buf, int64_t n, double lr,
                double momentum, double dampening, double weight_decay, bool nesterov,
                bool first_step) override {
    k::ensure_device(device_);
    k::sgd_step(dt, param, grad, buf, n, lr, momentum, dampening, weight_decay, nesterov,
                first_step, stream_);
  }
  void adam_step(DType dt, void* param, const void* grad, void* m, void* v, void* vmax, int64_t n,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bool decoupled, int64_t step) override {
    k::ensure_device(device_);
    k::adam_step(dt, param, grad, m, v, vmax, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                 step, stream_);
  }

  // GEMM ----------------------------------------------------------------------------------
  void gemm(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t kk, double alpha,
            const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
            int64_t ldc) override {
    k::ensure_device(device_);
    k::gemm(dt, ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc, stream_);
  }
  void gemm_batched(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t kk, double alpha,
                    const void* a, int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb,
                    double beta, void* c, int64_t ldc, int64_t sc, int64_t batch) override {
    k::ensure_device(device_);
    k::gemm_batched(dt, ta, tb, m, n, kk, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch,
                    stream_);
  }

 private:
  StreamId stream_id() const { return reinterpret_cast<uintptr_t>(stream_); }

  // Waits for everything queued on the stream (Note [Host-device synchronisation]). When a
  // checked kernel was queued since the last look, its record comes back in the same wait,
  // and a recorded error is thrown here.
  void wait() {
    std::lock_guard<std::mutex> lock(check_mutex_);
    const int64_t queued = checks_queued_.load(std::memory_order_acquire);
    const bool look = queued != checks_read_;
    if (look) k::memcpy_d2h_async(read_check_, check_, k::kReportedBytes, stream_);
    k::stream_synchronize(stream_);
    ++host_syncs_;
    if (!look) return;
    checks_read_ = queued;
    if (read_check_->position == k::kNoBadIndex) return;
    const k::IndexCheck found = *read_check_;
    // Only the record, not the scratch of a launch another thread may have queued since.
    k::memcpy_h2d_async(check_, pristine_check_, k::kReportedBytes, stream_);
    throw check_error(found);
  }

  void checked_kernel_queued() {
    checks_queued_.fetch_add(1, std::memory_order_release);
    if (cuda::eager_checks()) wait();
  }

  // The IndexError the CPU backend would have thrown at the call, saying where it surfaced.
  IndexError check_error(const k::IndexCheck& c) const {
    const bool loss =
        c.kernel == k::CheckedKernel::CrossEntropy || c.kernel == k::CheckedKernel::NllLoss;
    const char* op = c.kernel == k::CheckedKernel::CrossEntropy ? "cross_entropy"
                     : c.kernel == k::CheckedKernel::NllLoss    ? "nll_loss"
                     : c.kernel == k::CheckedKernel::Gather     ? "gather"
                                                                : "scatter_add";
    const IndexError error = loss ? bad_target_error(op, c.value, c.position, c.bound)
                                  : bad_index_error(op, c.value, c.position, c.dim, c.bound);
    if (cuda::eager_checks()) return error;
    return IndexError(detail::str_cat(
        error.what(), " [found on cuda:", device_, " by an earlier ", op,
        " call, reported at this wait for the device; ember::cuda::set_eager_checks(true) or "
        "EMBER_CUDA_EAGER_CHECKS=1 reports it at the call]"));
  }

  const int device_;
  void* const stream_;
  k::DeviceRawAllocator raw_;
  CachingAllocator allocator_;
  PinnedStaging staging_;
  k::IndexCheck* check_ = nullptr;           // device: the checked kernels' record
  k::IndexCheck* pristine_check_ = nullptr;  // pinned, never written after construction
  k::IndexCheck* read_check_ = nullptr;      // pinned: where wait() reads the record back
  std::mutex check_mutex_;                   // one wait (and record read-back) at a time
  std::atomic<int64_t> checks_queued_{0};    // checked kernels queued so far
  int64_t checks_read_ = 0;                  // checks_queued_ at the last read-back
  std::atomic<int64_t> host_syncs_{0};
};

}  // namespace

// Never destroyed (see pinned_allocator). nullptr when `device` does not exist.
Backend* make_cuda_backend(int device) {
  if (device < 0 || device >= k::device_count()) return nullptr;
  return new CudaBackend(device);
}

// 0 for a backend installed with register_backend (a test double, not ours).
int64_t cuda_backend_host_syncs(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  return cuda != nullptr ? cuda->host_syncs() : 0;
}

}  // namespace ember
