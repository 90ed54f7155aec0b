// CPU fused optimizer updates (sgd_step, adam_step). Each update is one pass over the
// parameter: every operand is read and written once, instead of the 5-10 passes (and
// temporaries) a chain of tensor ops would cost. The per-element math lives in
// kernels/common/optimizer_math.h, shared with the CUDA kernels; this file supplies the
// loops. The hyper-parameter branches (momentum, nesterov, weight decay, amsgrad, ...) are
// template parameters, so each inner loop is a flat branch-free `omp simd` loop. This file is
// built with -fno-math-errno (set in kernels/CMakeLists.txt): otherwise GCC branches around
// every sqrt and Adam stays scalar.
#include <ember/kernels/cpu/backend.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/optimizer_math.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel +
                   ": only float32 and float64 are supported, got " + dtype_name(dt));
}

// Calls fn.template operator()<B>() with B = std::bool_constant<b>, turning a runtime flag
// into a compile-time one.
template <class Fn>
void with_bool(bool b, Fn&& fn) {
  if (b) {
    fn.template operator()<std::true_type>();
  } else {
    fn.template operator()<std::false_type>();
  }
}

// ---------------------------------------------------------------------------------------
// SGD

template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
void sgd_loop(T* p, const T* g, T* buf, int64_t n, const SgdScalars<T>& scalars) {
  parallel_for(n, kGrainCheap, [=](int64_t begin, int64_t end) {
    const SgdScalars<T> s = scalars;  // a local the compiler knows the stores cannot alias
#pragma omp simd
    for (int64_t i = begin; i < end; ++i)
      sgd_update<T, kDecay, kMomentum, kNesterov, kFirst>(p, g, buf, i, s);
  });
}

template <class T>
void sgd_typed(void* param, const void* grad, void* buf, int64_t n, double lr, double momentum,
               double dampening, double weight_decay, bool nesterov, bool first_step) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* b = static_cast<T*>(buf);
  const bool use_momentum = momentum != 0.0;
  const SgdScalars<T> s = sgd_scalars<T>(lr, momentum, dampening, weight_decay);
  with_bool(weight_decay != 0.0, [&]<class Decay>() {
    if (!use_momentum) {
      sgd_loop<T, Decay::value, false, false, false>(p, g, nullptr, n, s);
      return;
    }
    with_bool(nesterov, [&]<class Nesterov>() {
      with_bool(first_step, [&]<class First>() {
        sgd_loop<T, Decay::value, true, Nesterov::value, First::value>(p, g, b, n, s);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Adam / AdamW

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
void adam_loop(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamScalars<T>& scalars) {
  parallel_for(n, kGrainCheap, [=](int64_t begin, int64_t end) {
    const AdamScalars<T> s = scalars;
#pragma omp simd
    for (int64_t i = begin; i < end; ++i)
      adam_update<T, kCoupledDecay, kDecoupledDecay, kAmsgrad>(p, g, m, v, vmax, i, s);
  });
}

template <class T>
void adam_typed(void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, int64_t step) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* m = static_cast<T*>(exp_avg);
  T* v = static_cast<T*>(exp_avg_sq);
  T* vmax = static_cast<T*>(max_exp_avg_sq);
  const bool has_decay = weight_decay != 0.0;
  const AdamScalars<T> s = adam_scalars<T>(lr, beta1, beta2, eps, weight_decay, step);
  with_bool(has_decay && !decoupled, [&]<class Coupled>() {
    with_bool(has_decay && decoupled, [&]<class Decoupled>() {
      with_bool(vmax != nullptr, [&]<class Ams>() {
        adam_loop<T, Coupled::value, Decoupled::value, Ams::value>(p, g, m, v, vmax, n, s);
      });
    });
  });
}

}  // namespace

void CpuBackend::sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                          double lr, double momentum, double dampening, double weight_decay,
                          bool nesterov, bool first_step) {
  if (n <= 0) return;
  if (momentum != 0.0 && momentum_buf == nullptr)
    throw ValueError("kernels::cpu::sgd_step: momentum != 0 needs a momentum buffer");
  switch (dt) {
    case DType::Float32:
      return sgd_typed<float>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                              nesterov, first_step);
    case DType::Float64:
      return sgd_typed<double>(param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay,
                               nesterov, first_step);
    default:
      unsupported("sgd_step", dt);
  }
}

void CpuBackend::adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
                           void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                           double eps, double weight_decay, bool decoupled, int64_t step) {
  if (n <= 0) return;
  if (step < 1)
    throw ValueError("kernels::cpu::adam_step: step must be >= 1, got " + std::to_string(step));
  switch (dt) {
    case DType::Float32:
      return adam_typed<float>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                               beta2, eps, weight_decay, decoupled, step);
    case DType::Float64:
      return adam_typed<double>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1,
                                beta2, eps, weight_decay, decoupled, step);
    default:
      unsupported("adam_step", dt);
  }
}

}  // namespace ember::kernels::cpu
