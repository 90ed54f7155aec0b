// CPU fused optimizer updates (kernels/cpu/optimizer.h). Each update is one pass over the
// parameter: every operand is read and written once, instead of the 5-10 passes (and
// temporaries) a chain of tensor ops would cost. The hyper-parameter branches (momentum,
// nesterov, weight decay, amsgrad, ...) are template parameters, so each inner loop is a
// flat branch-free `omp simd` loop; the scalars are converted to the element type once,
// as PyTorch does for its foreach/fused paths. This file is built with -fno-math-errno (set
// in optim/CMakeLists.txt): otherwise GCC branches around every sqrt and Adam stays scalar.
#include <ember/kernels/cpu/optimizer.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw std::invalid_argument(std::string("kernels::cpu::") + kernel +
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
void sgd_loop(T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t n, double lr_d,
              double momentum_d, double dampening_d, double wd_d) {
  parallel_for(n, kGrainCheap, [=](int64_t begin, int64_t end) {
    const T lr = static_cast<T>(lr_d), mom = static_cast<T>(momentum_d);
    const T keep = static_cast<T>(1.0 - dampening_d), wd = static_cast<T>(wd_d);
    T* __restrict lp = p;
    const T* __restrict lg = g;
    T* __restrict lb = buf;
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T d = lg[i];
      if constexpr (kDecay) d += wd * lp[i];
      if constexpr (kMomentum) {
        // PyTorch starts the buffer at the first gradient itself (no dampening).
        T b;
        if constexpr (kFirst) {
          b = d;
        } else {
          b = mom * lb[i] + keep * d;
        }
        lb[i] = b;
        if constexpr (kNesterov) {
          d += mom * b;
        } else {
          d = b;
        }
      }
      lp[i] -= lr * d;
    }
  });
}

template <class T>
void sgd_typed(void* param, const void* grad, void* buf, int64_t n, double lr, double momentum,
               double dampening, double weight_decay, bool nesterov, bool first_step) {
  T* p = static_cast<T*>(param);
  const T* g = static_cast<const T*>(grad);
  T* b = static_cast<T*>(buf);
  const bool use_momentum = momentum != 0.0;
  with_bool(weight_decay != 0.0, [&]<class Decay>() {
    if (!use_momentum) {
      sgd_loop<T, Decay::value, false, false, false>(p, g, nullptr, n, lr, momentum, dampening,
                                                     weight_decay);
      return;
    }
    with_bool(nesterov, [&]<class Nesterov>() {
      with_bool(first_step, [&]<class First>() {
        sgd_loop<T, Decay::value, true, Nesterov::value, First::value>(p, g, b, n, lr, momentum,
                                                                       dampening, weight_decay);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Adam / AdamW

template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
void adam_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
               T* __restrict vmax, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, int64_t step) {
  // Bias corrections in double: beta^step loses precision in float for long runs.
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const double step_size_d = lr / bc1;
  const double bc2_sqrt_d = std::sqrt(bc2);
  parallel_for(n, kGrainCheap, [=](int64_t begin, int64_t end) {
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T one_b1 = static_cast<T>(1.0 - beta1), one_b2 = static_cast<T>(1.0 - beta2);
    const T wd = static_cast<T>(weight_decay), e = static_cast<T>(eps);
    const T shrink = static_cast<T>(1.0 - lr * weight_decay);
    const T step_size = static_cast<T>(step_size_d);
    const T bc2_sqrt = static_cast<T>(bc2_sqrt_d);
    T* __restrict lp = p;
    const T* __restrict lg = g;
    T* __restrict lm = m;
    T* __restrict lv = v;
    T* __restrict lvmax = vmax;
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T d = lg[i];
      T pi = lp[i];
      if constexpr (kCoupledDecay) d += wd * pi;
      if constexpr (kDecoupledDecay) pi *= shrink;
      const T mi = b1 * lm[i] + one_b1 * d;
      const T vi = b2 * lv[i] + one_b2 * (d * d);
      lm[i] = mi;
      lv[i] = vi;
      T vuse = vi;
      if constexpr (kAmsgrad) {
        vuse = lvmax[i] > vi ? lvmax[i] : vi;
        lvmax[i] = vuse;
      }
      // Same association as PyTorch: p - step_size * (m / (sqrt(v) / sqrt(bc2) + eps)).
      const T denom = std::sqrt(vuse) / bc2_sqrt + e;
      lp[i] = pi - step_size * (mi / denom);
    }
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
  with_bool(has_decay && !decoupled, [&]<class Coupled>() {
    with_bool(has_decay && decoupled, [&]<class Decoupled>() {
      with_bool(vmax != nullptr, [&]<class Ams>() {
        adam_loop<T, Coupled::value, Decoupled::value, Ams::value>(p, g, m, v, vmax, n, lr, beta1,
                                                                   beta2, eps, weight_decay, step);
      });
    });
  });
}

}  // namespace

void sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step) {
  if (n <= 0) return;
  if (momentum != 0.0 && momentum_buf == nullptr)
    throw std::invalid_argument("kernels::cpu::sgd_step: momentum != 0 needs a momentum buffer");
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

void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
               void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, int64_t step) {
  if (n <= 0) return;
  if (step < 1)
    throw std::invalid_argument("kernels::cpu::adam_step: step must be >= 1, got " +
                                std::to_string(step));
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
