// CUDA fused optimizer updates (kernels/cuda/optimizer.h): one grid-stride kernel per step
// and parameter, every operand read and written once. The per-element update is
// kernels/common/optimizer_math.h, the same code the CPU loop runs; hyper-parameter branches
// (momentum, nesterov, first step, weight decay, amsgrad) are template flags, so the kernel
// body is branch-free, and the scalars are narrowed to T once on the host.
#include <ember/kernels/cuda/optimizer.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/optimizer_math.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
__global__ void sgd_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ buf,
                           int64_t n, SgdScalars<T> s) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride())
    sgd_update<T, kDecay, kMomentum, kNesterov, kFirst>(p, g, buf, i, s);
}

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
__global__ void adam_kernel(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m,
                            T* __restrict__ v, T* __restrict__ vmax, int64_t n, AdamScalars<T> s) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride())
    adam_update<T, kCoupledDecay, kDecoupledDecay, kAmsgrad>(p, g, m, v, vmax, i, s);
}

// Calls fn.template operator()<B>() with B = std::bool_constant<b>.
template <class Fn>
void with_bool(bool b, Fn&& fn) {
  if (b) {
    fn.template operator()<std::true_type>();
  } else {
    fn.template operator()<std::false_type>();
  }
}

template <class T>
void sgd_typed(void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
               double momentum, double dampening, double weight_decay, bool nesterov,
               bool first_step, cudaStream_t stream) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* b = static_cast<T*>(momentum_buf);
  const SgdScalars<T> s = sgd_scalars<T>(lr, momentum, dampening, weight_decay);
  with_bool(weight_decay != 0.0, [&]<class Decay>() {
    if (momentum == 0.0) {
      launch("sgd_step", sgd_kernel<T, Decay::value, false, false, false>, grid_for(n),
             dim3(kBlockSize), 0, stream, p, g, static_cast<T*>(nullptr), n, s);
      return;
    }
    with_bool(nesterov, [&]<class Nesterov>() {
      with_bool(first_step, [&]<class First>() {
        launch("sgd_step", sgd_kernel<T, Decay::value, true, Nesterov::value, First::value>,
               grid_for(n), dim3(kBlockSize), 0, stream, p, g, b, n, s);
      });
    });
  });
}

template <class T>
void adam_typed(void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, int64_t step, cudaStream_t stream) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* m = static_cast<T*>(exp_avg);
  T* v = static_cast<T*>(exp_avg_sq);
  T* vmax = static_cast<T*>(max_exp_avg_sq);
  const AdamScalars<T> s = adam_scalars<T>(lr, beta1, beta2, eps, weight_decay, step);
  const bool has_decay = weight_decay != 0.0;
  with_bool(has_decay && !decoupled, [&]<class Coupled>() {
    with_bool(has_decay && decoupled, [&]<class Decoupled>() {
      with_bool(vmax != nullptr, [&]<class Ams>() {
        launch("adam_step", adam_kernel<T, Coupled::value, Decoupled::value, Ams::value>,
               grid_for(n), dim3(kBlockSize), 0, stream, p, g, m, v, vmax, n, s);
      });
    });
  });
}

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(::ember::detail::str_cat(
      "kernels::cuda::", kernel, ": only float32 and float64 are supported, got ", dtype_name(dt)));
}

}  // namespace

void sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step, void* stream) {
  if (n <= 0) return;
  EMBER_CHECK(momentum == 0.0 || momentum_buf != nullptr, ValueError,
              "kernels::cuda::sgd_step: momentum != 0 needs a momentum buffer");
  switch (dt) {
    case DType::Float32:
      return sgd_typed<float>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                              nesterov, first_step, as_stream(stream));
    case DType::Float64:
      return sgd_typed<double>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                               nesterov, first_step, as_stream(stream));
    default:
      unsupported("sgd_step", dt);
  }
}

void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
               void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, int64_t step, void* stream) {
  if (n <= 0) return;
  EMBER_CHECK(step >= 1, ValueError, "kernels::cuda::adam_step: step must be >= 1, got ", step);
  switch (dt) {
    case DType::Float32:
      return adam_typed<float>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                               beta2, eps, weight_decay, decoupled, step, as_stream(stream));
    case DType::Float64:
      return adam_typed<double>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                                beta2, eps, weight_decay, decoupled, step, as_stream(stream));
    default:
      unsupported("adam_step", dt);
  }
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                           double lr, double momentum, double dampening, double weight_decay,
                           bool nesterov, bool first_step) {
  ensure_device(device_);
  cuda::sgd_step(dt, param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay, nesterov,
                 first_step, stream_);
}

void CudaBackend::adam_step(DType dt, void* param, const void* grad, void* exp_avg,
                            void* exp_avg_sq, void* max_exp_avg_sq, int64_t n, double lr,
                            double beta1, double beta2, double eps, double weight_decay,
                            bool decoupled, int64_t step) {
  ensure_device(device_);
  cuda::adam_step(dt, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1, beta2, eps,
                  weight_decay, decoupled, step, stream_);
}

}  // namespace ember::kernels::cuda
