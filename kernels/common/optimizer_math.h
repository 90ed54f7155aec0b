// The per-element math of the fused optimizer updates (SGD with momentum / nesterov / weight
// decay, Adam / AdamW / amsgrad), shared by the CPU loops (kernels/cpu/optimizer.cpp) and the
// CUDA kernels (kernels/cuda/optimizer.cu): one source of truth, as for the activations.
// The formulas are PyTorch's documented update rules (torch.optim.SGD / Adam / AdamW).
//
// Hyper-parameter branches are template flags, so each backend's loop is branch-free. The
// scalars arrive pre-converted to the element type T (PyTorch's foreach/fused paths do the
// same): the *_scalars helpers below, run once per step on the host, are the only place the
// double-precision hyper-parameters are narrowed, so both backends narrow them identically.
#pragma once

#include <math.h>  // NOLINT: ::pow on the host

#include <cstdint>

#include <ember/kernels/common/macros.h>
#include <ember/kernels/common/optimizer_tensor.h>
#include <ember/kernels/common/unary_functors.h>

namespace ember::kernels {

// ---------------------------------------------------------------------------------------
// SGD: g = grad + wd p; with momentum: buf = first ? g : momentum buf + (1 - dampening) g,
// g = nesterov ? g + momentum buf : buf. p -= lr g.

template <class T>
struct SgdScalars {
  T lr, momentum, keep, weight_decay;  // keep = 1 - dampening
};

template <class T>
EMBER_HD inline SgdScalars<T> sgd_scalars(double lr, double momentum, double dampening,
                                          double weight_decay) {
  return SgdScalars<T>{static_cast<T>(lr), static_cast<T>(momentum),
                       static_cast<T>(1.0 - dampening), static_cast<T>(weight_decay)};
}

// Updates element i of param (and of the momentum buffer when kMomentum). buf is not read on
// the first step (PyTorch starts the buffer at the first gradient itself, undampened), so it
// may hold garbage then; it may be null when !kMomentum.
template <class T, bool kDecay, bool kMomentum, bool kNesterov, bool kFirst>
EMBER_HD EMBER_INLINE void sgd_update(T* __restrict__ p, const T* __restrict__ g,
                                      T* __restrict__ buf, int64_t i, const SgdScalars<T>& s) {
  T d = g[i];
  if constexpr (kDecay) d += s.weight_decay * p[i];
  if constexpr (kMomentum) {
    T b;
    if constexpr (kFirst) {
      b = d;
    } else {
      b = s.momentum * buf[i] + s.keep * d;
    }
    buf[i] = b;
    if constexpr (kNesterov) {
      d += s.momentum * b;
    } else {
      d = b;
    }
  }
  p[i] -= s.lr * d;
}

// ---------------------------------------------------------------------------------------
// Adam (coupled decay: g += wd p) / AdamW (decoupled: p *= 1 - lr wd).
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; amsgrad: vmax = max(vmax, v), use vmax.
// p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).

template <class T>
struct AdamScalars {
  T beta1, beta2, one_minus_beta1, one_minus_beta2;
  T weight_decay, shrink;   // shrink = 1 - lr wd (AdamW)
  T step_size;              // lr / (1 - b1^step)
  T bias_correction2_sqrt;  // sqrt(1 - b2^step)
  T eps;
};

// step >= 1. The bias corrections are computed in double: beta^step loses precision in float
// over long runs.
template <class T>
EMBER_HD inline AdamScalars<T> adam_scalars(double lr, double beta1, double beta2, double eps,
                                            double weight_decay, int64_t step) {
  const double bc1 = 1.0 - ::pow(beta1, static_cast<double>(step));
  const double bc2 = 1.0 - ::pow(beta2, static_cast<double>(step));
  return AdamScalars<T>{static_cast<T>(beta1),        static_cast<T>(beta2),
                        static_cast<T>(1.0 - beta1),  static_cast<T>(1.0 - beta2),
                        static_cast<T>(weight_decay), static_cast<T>(1.0 - lr * weight_decay),
                        static_cast<T>(lr / bc1),     static_cast<T>(::sqrt(bc2)),
                        static_cast<T>(eps)};
}

// Updates element i of param, exp_avg (m), exp_avg_sq (v) and, when kAmsgrad, max_exp_avg_sq
// (vmax; may be null otherwise).
template <class T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
EMBER_HD EMBER_INLINE void adam_update(T* __restrict__ p, const T* __restrict__ g,
                                       T* __restrict__ m, T* __restrict__ v, T* __restrict__ vmax,
                                       int64_t i, const AdamScalars<T>& s) {
  T d = g[i];
  T pi = p[i];
  if constexpr (kCoupledDecay) d += s.weight_decay * pi;
  if constexpr (kDecoupledDecay) pi *= s.shrink;
  const T mi = s.beta1 * m[i] + s.one_minus_beta1 * d;
  const T vi = s.beta2 * v[i] + s.one_minus_beta2 * (d * d);
  m[i] = mi;
  v[i] = vi;
  T vuse = vi;
  if constexpr (kAmsgrad) {
    vuse = vmax[i] > vi ? vmax[i] : vi;
    vmax[i] = vuse;
  }
  // Same association as PyTorch: p - step_size * (m / (sqrt(v) / sqrt(bc2) + eps)).
  const T denom = math::sqrt(vuse) / s.bias_correction2_sqrt + s.eps;
  p[i] = pi - s.step_size * (mi / denom);
}

}  // namespace ember::kernels
