// Backend: the one seam between the op layer and a device's kernels. Ops call
// `backend(device).unary(...)`; the CPU backend forwards to kernels::cpu, the CUDA backend
// (when built) to kernels::cuda on the current stream. Signatures mirror kernels/cpu/*.h,
// whose comments document the semantics.
#pragma once

#include <cstddef>
#include <cstdint>

#include <ember/core/allocator.h>
#include <ember/core/device.h>
#include <ember/core/error.h>
#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember {

using kernels::BinaryOp;
using kernels::Layout;
using kernels::LossReduction;
using kernels::ReduceOp;
using kernels::UnaryOp;
using kernels::UnaryParams;

// The errors of out-of-range class targets and gather / scatter_add indices, worded the same
// whichever backend finds them.
inline IndexError bad_target_error(const char* op, int64_t target, int64_t position,
                                   int64_t classes) {
  return IndexError(detail::str_cat(
      op, ": target ", target, " at position ", position, " is out of bounds for ", classes,
      " classes (expected 0 <= target < ", classes, " or the ignore_index)"));
}
inline IndexError bad_index_error(const char* op, int64_t index, int64_t position, int64_t dim,
                                  int64_t size) {
  return IndexError(detail::str_cat(op, ": index ", index, " at position ", position,
                                    " is out of bounds for dim ", dim, " with size ", size));
}

class Backend {
 public:
  virtual ~Backend() = default;

  // memory
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr) = 0;
  virtual CachingAllocator& allocator() = 0;
  // Copies between this device and the host (either direction) or within this device.
  // memcpy_to_host and synchronize wait for the device, and there a GPU backend throws the
  // IndexError of a bad target or index an earlier call queued (see the losses below).
  virtual void memcpy_to_host(void* dst_host, const void* src, size_t nbytes) = 0;
  virtual void memcpy_from_host(void* dst, const void* src_host, size_t nbytes) = 0;
  // Waits for queued work (no-op on the CPU; a host-device sync on GPUs).
  virtual void synchronize() = 0;

  // elementwise
  virtual void unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p) = 0;
  virtual void unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy,
                              void* gx, int64_t n, UnaryParams p) = 0;
  virtual void binary(BinaryOp op, DType dt, const Layout& al, const void* a, const Layout& bl,
                      const void* b, void* out) = 0;
  virtual void binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first,
                             void* out, int64_t n) = 0;
  virtual void where(DType dt, const Layout& cl, const bool* cond, const Layout& al, const void* a,
                     const Layout& bl, const void* b, void* out) = 0;

  // reductions over (outer, r, inner)
  virtual void reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
                      int64_t inner) = 0;
  virtual void reduce_with_index(ReduceOp op, DType dt, const void* x, void* values,
                                 int64_t* indices, int64_t outer, int64_t r, int64_t inner) = 0;

  // softmax family and losses
  virtual void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner,
                       bool log) = 0;
  virtual void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer,
                                int64_t r, int64_t inner, bool log) = 0;
  // Class-index losses (kernels/cpu/softmax.h): per-sample `losses` (n), and for Sum / Mean
  // also `reduced` (one element) and, when not null, `valid_count` (one int64 on this
  // device: the mean's divisor, which the backward reads as `mean_count`). A target outside
  // [0, c) that is not ignore_index throws bad_target_error -- the CPU backend here, the
  // CUDA backend at its next wait for the device (Note [Host-device synchronisation]).
  virtual void cross_entropy_forward(DType dt, const void* logits, const int64_t* targets,
                                     int64_t n, int64_t c, int64_t ignore_index,
                                     LossReduction reduction, void* losses, void* reduced,
                                     int64_t* valid_count) = 0;
  virtual void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets,
                                      int64_t n, int64_t c, int64_t ignore_index,
                                      const void* grad_losses, int64_t grad_stride,
                                      const int64_t* mean_count, void* glogits) = 0;
  virtual void nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n,
                                int64_t c, int64_t ignore_index, LossReduction reduction,
                                void* losses, void* reduced, int64_t* valid_count) = 0;
  virtual void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c,
                                 int64_t ignore_index, const void* grad_losses, int64_t grad_stride,
                                 const int64_t* mean_count, void* glogp) = 0;

  // indexing (kernels/cpu/index.h). An index outside [0, size along dim) throws
  // bad_index_error, as the losses' bad targets do.
  virtual void gather(DType dt, int dim, const Layout& xl, int64_t x_dim_size, const void* x,
                      const int64_t* index, void* out) = 0;
  virtual void scatter_add(DType dt, int dim, const Layout& ol, int64_t out_dim_size, void* out,
                           const int64_t* index, const void* src) = 0;

  // Sorting along the middle axis of a contiguous (outer, r, inner) view: the first k of each
  // row's stable order (kernels/cpu/sort.h). Not pure: a backend without a sort kernel
  // inherits this error, and the op layer sorts such a device's tensors on the host.
  virtual void sort(DType /*dt*/, const void* /*x*/, void* /*values*/, int64_t* /*indices*/,
                    int64_t /*outer*/, int64_t /*r*/, int64_t /*inner*/, int64_t /*k*/,
                    bool /*descending*/) {
    throw DeviceError("sort is not implemented on this device's backend yet");
  }

  // data movement and random
  virtual void copy(DType src_dt, const Layout& sl, const void* src, DType dst_dt, const Layout& dl,
                    void* dst) = 0;
  virtual void fill(DType dt, const Layout& l, void* dst, double value) = 0;
  virtual void arange(DType dt, void* out, int64_t n, double start, double step) = 0;
  virtual void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
                       double high) = 0;
  virtual void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
                      double std) = 0;
  virtual void randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low,
                       int64_t high) = 0;

  // dropout and fused optimizer updates (kernels/cpu/dropout.h, optimizer.h)
  virtual void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p,
                       uint64_t seed, uint64_t offset) = 0;
  virtual void sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                        double lr, double momentum, double dampening, double weight_decay,
                        bool nesterov, bool first_step) = 0;
  virtual void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                         void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                         double eps, double weight_decay, bool decoupled, int64_t step) = 0;

  // GEMM (row-major)
  virtual void gemm(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                    const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
                    int64_t ldc) = 0;
  virtual void gemm_batched(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                            double alpha, const void* a, int64_t lda, int64_t sa, const void* b,
                            int64_t ldb, int64_t sb, double beta, void* c, int64_t ldc, int64_t sc,
                            int64_t batch) = 0;
};

// The backend of `device`; throws DeviceError if that device is not available.
Backend& backend(Device device);

// For the CUDA backend to register itself at start-up (keeps core free of CUDA code).
void register_backend(DeviceType type, Backend* backend);

}  // namespace ember
