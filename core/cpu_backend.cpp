// The CPU backend: forwards every Backend call to kernels::cpu. backend(Device) finds it
// through g_cpu_backend (core/device_backends.h).
#include <cstring>

#include <ember/core/backend.h>
#include <ember/core/device_backends.h>
#include <ember/core/error.h>
#include <ember/kernels/cpu/copy.h>
#include <ember/kernels/cpu/dropout.h>
#include <ember/kernels/cpu/elementwise.h>
#include <ember/kernels/cpu/gemm.h>
#include <ember/kernels/cpu/index.h>
#include <ember/kernels/cpu/optimizer.h>
#include <ember/kernels/cpu/random.h>
#include <ember/kernels/cpu/reduce.h>
#include <ember/kernels/cpu/softmax.h>
#include <ember/kernels/cpu/sort.h>

namespace ember {

namespace {

namespace k = kernels::cpu;

// The CPU computes synchronously, so a bad target or index is reported at the call.
void check_targets(const char* op, const k::TargetCheck& c, const int64_t* targets,
                   int64_t classes) {
  if (c.bad_index >= 0) throw bad_target_error(op, targets[c.bad_index], c.bad_index, classes);
}
void check_index(const char* op, int64_t bad, const int64_t* index, int dim, int64_t size) {
  if (bad >= 0) throw bad_index_error(op, index[bad], bad, dim, size);
}

class CpuBackend final : public Backend {
 public:
  void* allocate(size_t nbytes) override { return cpu_caching_allocator().allocate(nbytes); }
  void deallocate(void* ptr) override { cpu_caching_allocator().deallocate(ptr); }
  CachingAllocator& allocator() override { return cpu_caching_allocator(); }
  void memcpy_to_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void memcpy_from_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void synchronize() override {}

  void unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p) override {
    k::unary(op, dt, x, y, n, p);
  }
  void unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy, void* gx,
                      int64_t n, UnaryParams p) override {
    k::unary_backward(op, dt, x, y, gy, gx, n, p);
  }
  void binary(BinaryOp op, DType dt, const Layout& al, const void* a, const Layout& bl,
              const void* b, void* out) override {
    k::binary(op, dt, al, a, bl, b, out);
  }
  void binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first, void* out,
                     int64_t n) override {
    k::binary_scalar(op, dt, x, s, scalar_first, out, n);
  }
  void where(DType dt, const Layout& cl, const bool* cond, const Layout& al, const void* a,
             const Layout& bl, const void* b, void* out) override {
    k::where(dt, cl, cond, al, a, bl, b, out);
  }
  void reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
              int64_t inner) override {
    k::reduce(op, dt, x, out, outer, r, inner);
  }
  void reduce_with_index(ReduceOp op, DType dt, const void* x, void* values, int64_t* indices,
                         int64_t outer, int64_t r, int64_t inner) override {
    k::reduce_with_index(op, dt, x, values, indices, outer, r, inner);
  }
  void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner,
               bool log) override {
    k::softmax(dt, x, y, outer, r, inner, log);
  }
  void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer, int64_t r,
                        int64_t inner, bool log) override {
    k::softmax_backward(dt, y, gy, gx, outer, r, inner, log);
  }
  void cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                             int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                             void* reduced, int64_t* valid_count) override {
    check_targets("cross_entropy",
                  k::cross_entropy_forward(dt, logits, targets, n, c, ignore_index, reduction,
                                           losses, reduced, valid_count),
                  targets, c);
  }
  void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                              int64_t c, int64_t ignore_index, const void* grad_losses,
                              int64_t grad_stride, const int64_t* mean_count,
                              void* glogits) override {
    k::cross_entropy_backward(dt, logits, targets, n, c, ignore_index, grad_losses, grad_stride,
                              mean_count, glogits);
  }
  void nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n, int64_t c,
                        int64_t ignore_index, LossReduction reduction, void* losses, void* reduced,
                        int64_t* valid_count) override {
    check_targets("nll_loss",
                  k::nll_loss_forward(dt, logp, targets, n, c, ignore_index, reduction, losses,
                                      reduced, valid_count),
                  targets, c);
  }
  void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c,
                         int64_t ignore_index, const void* grad_losses, int64_t grad_stride,
                         const int64_t* mean_count, void* glogp) override {
    k::nll_loss_backward(dt, targets, n, c, ignore_index, grad_losses, grad_stride, mean_count,
                         glogp);
  }
  void gather(DType dt, int dim, const Layout& xl, int64_t x_dim_size, const void* x,
              const int64_t* index, void* out) override {
    check_index("gather", k::gather(dt, dim, xl, x_dim_size, x, index, out), index, dim,
                x_dim_size);
  }
  void scatter_add(DType dt, int dim, const Layout& ol, int64_t out_dim_size, void* out,
                   const int64_t* index, const void* src) override {
    check_index("scatter_add", k::scatter_add(dt, dim, ol, out_dim_size, out, index, src), index,
                dim, out_dim_size);
  }
  void sort(DType dt, const void* x, void* values, int64_t* indices, int64_t outer, int64_t r,
            int64_t inner, int64_t kk, bool descending) override {
    k::sort(dt, x, values, indices, outer, r, inner, kk, descending);
  }
  void copy(DType src_dt, const Layout& sl, const void* src, DType dst_dt, const Layout& dl,
            void* dst) override {
    k::copy(src_dt, sl, src, dst_dt, dl, dst);
  }
  void fill(DType dt, const Layout& l, void* dst, double value) override {
    k::fill(dt, l, dst, value);
  }
  void arange(DType dt, void* out, int64_t n, double start, double step) override {
    k::arange(dt, out, n, start, step);
  }
  void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
               double high) override {
    k::uniform(dt, out, n, seed, offset, low, high);
  }
  void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
              double std) override {
    k::normal(dt, out, n, seed, offset, mean, std);
  }
  void randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low,
               int64_t high) override {
    k::randint(out, n, seed, offset, low, high);
  }
  void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
               uint64_t offset) override {
    k::dropout(dt, x, y, mask, n, p, seed, offset);
  }
  void sgd_step(DType dt, void* param, const void* grad, void* buf, int64_t n, double lr,
                double momentum, double dampening, double weight_decay, bool nesterov,
                bool first_step) override {
    k::sgd_step(dt, param, grad, buf, n, lr, momentum, dampening, weight_decay, nesterov,
                first_step);
  }
  void adam_step(DType dt, void* param, const void* grad, void* m, void* v, void* vmax, int64_t n,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bool decoupled, int64_t step) override {
    k::adam_step(dt, param, grad, m, v, vmax, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                 step);
  }
  void gemm(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t kk, double alpha,
            const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
            int64_t ldc) override {
    k::gemm(dt, ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  void gemm_batched(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t kk, double alpha,
                    const void* a, int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb,
                    double beta, void* c, int64_t ldc, int64_t sc, int64_t batch) override {
    k::gemm_batched(dt, ta, tb, m, n, kk, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
  }
};

// constinit: ready before any static initialiser of another file can ask for it.
constinit CpuBackend cpu_backend_object;

}  // namespace

Backend* const g_cpu_backend = &cpu_backend_object;

}  // namespace ember
