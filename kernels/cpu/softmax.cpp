// CPU softmax / log_softmax over the middle axis of (outer, r, inner), their backward, and
// the fused softmax + cross-entropy (llm.c's fused classifier: one pass per row for the
// loss, one for the gradient, the probabilities never stored) plus nll_loss.
//
// Every row is max-subtracted before exponentiating. Exponentials are computed in T; their
// sums accumulate in double for float32 (cheap next to the exp) so long rows stay accurate.
// A row of all -inf gives NaN, as in PyTorch.
#include <ember/kernels/cpu/softmax.h>
#include <ember/kernels/cpu/backend.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/unary_functors.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

constexpr int64_t kTile = 256;  // inner positions handled together in the strided path

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, float>, double, T>;

template <class T>
T row_max(const T* x, int64_t n) {
  T m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t j = 1; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

// x and y may alias: every pass reads x[j] before (or without) writing y[j].
template <class T>
void softmax_row(const T* x, T* y, int64_t r, bool log) {
  const T m = row_max(x, r);
  Acc<T> sum = 0;
  if (log) {
    for (int64_t j = 0; j < r; ++j) sum += Acc<T>(math::exp(x[j] - m));
    // (x - m) - log(sum), not x - (m + log(sum)): x - m is exact for the large entries,
    // where folding m into the log-sum-exp first would round it at |m|'s scale.
    const T log_sum = T(math::log(sum));
#pragma omp simd
    for (int64_t j = 0; j < r; ++j) y[j] = (x[j] - m) - log_sum;
  } else {
    for (int64_t j = 0; j < r; ++j) {
      const T e = math::exp(x[j] - m);
      y[j] = e;
      sum += Acc<T>(e);
    }
    const T inv = T(Acc<T>(1) / sum);
#pragma omp simd
    for (int64_t j = 0; j < r; ++j) y[j] *= inv;
  }
}

// Columns [i0, i0 + len) of one outer slice whose r rows are `inner` apart.
template <class T>
void softmax_cols(const T* x, T* y, int64_t r, int64_t inner, int64_t len, bool log) {
  T m[kTile];
  Acc<T> sum[kTile];
  for (int64_t i = 0; i < len; ++i) {
    m[i] = x[i];
    sum[i] = 0;
  }
  for (int64_t j = 1; j < r; ++j) {
    const T* xr = x + j * inner;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) m[i] = xr[i] > m[i] ? xr[i] : m[i];
  }
  for (int64_t j = 0; j < r; ++j) {
    const T* xr = x + j * inner;
    T* yr = y + j * inner;
    for (int64_t i = 0; i < len; ++i) {
      const T e = math::exp(xr[i] - m[i]);
      if (!log) yr[i] = e;
      sum[i] += Acc<T>(e);
    }
  }
  T k[kTile];  // log(sum) or 1 / sum
  for (int64_t i = 0; i < len; ++i) k[i] = log ? T(math::log(sum[i])) : T(Acc<T>(1) / sum[i]);
  for (int64_t j = 0; j < r; ++j) {
    const T* xr = x + j * inner;
    T* yr = y + j * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) yr[i] = (xr[i] - m[i]) - k[i];  // see softmax_row
    } else {
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) yr[i] *= k[i];
    }
  }
}

// Splits (outer, inner) into units of whole rows (inner == 1) or column tiles and calls
// fn(o, i0, len) for each, in parallel when there is enough work.
template <class Fn>
void for_each_slice(int64_t outer, int64_t r, int64_t inner, Fn&& fn) {
  const int64_t tile = inner == 1 ? 1 : std::min(inner, kTile);
  const int64_t ntiles = (inner + tile - 1) / tile;
  const int64_t per_unit = std::max<int64_t>(1, r * tile);
  parallel_for(outer * ntiles, std::max<int64_t>(1, kGrainTranscendental / per_unit),
               [&](int64_t b, int64_t e) {
                 for (int64_t u = b; u < e; ++u) {
                   const int64_t o = u / ntiles, i0 = (u % ntiles) * tile;
                   fn(o, i0, std::min(tile, inner - i0));
                 }
               });
}

template <class T>
void softmax_typed(const T* x, T* y, int64_t outer, int64_t r, int64_t inner, bool log) {
  for_each_slice(outer, r, inner, [&](int64_t o, int64_t i0, int64_t len) {
    const int64_t base = o * r * inner + i0;
    if (inner == 1) {
      softmax_row(x + base, y + base, r, log);
    } else {
      softmax_cols(x + base, y + base, r, inner, len, log);
    }
  });
}

// softmax:     gx = y * (gy - sum(gy * y))
// log_softmax: gx = gy - exp(y) * sum(gy)
template <class T>
void softmax_backward_typed(const T* y, const T* gy, T* gx, int64_t outer, int64_t r, int64_t inner,
                            bool log) {
  for_each_slice(outer, r, inner, [&](int64_t o, int64_t i0, int64_t len) {
    const int64_t base = o * r * inner + i0;
    Acc<T> dot[kTile];
    for (int64_t i = 0; i < len; ++i) dot[i] = 0;
    for (int64_t j = 0; j < r; ++j) {
      const int64_t row = base + j * inner;
      for (int64_t i = 0; i < len; ++i)
        dot[i] += log ? Acc<T>(gy[row + i]) : Acc<T>(gy[row + i]) * Acc<T>(y[row + i]);
    }
    for (int64_t j = 0; j < r; ++j) {
      const int64_t row = base + j * inner;
      for (int64_t i = 0; i < len; ++i) {
        const T s = T(dot[i]);
        gx[row + i] =
            log ? gy[row + i] - math::exp(y[row + i]) * s : y[row + i] * (gy[row + i] - s);
      }
    }
  });
}

bool is_bad_target(int64_t t, int64_t c) {
  return t < 0 || t >= c;
}

// One sequential pass over the targets: cheap next to the rows, and it makes "first bad
// position" trivially deterministic.
TargetCheck check_targets(const int64_t* targets, int64_t n, int64_t c, int64_t ignore_index) {
  TargetCheck check;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = targets[i];
    if (t == ignore_index) continue;
    ++check.valid_count;
    if (check.bad_index < 0 && is_bad_target(t, c)) check.bad_index = i;
  }
  return check;
}

// What a loss forward adds to its per-sample losses: the valid count and the reduction (a
// sequential sum: deterministic, and n is a batch, small next to the rows' work).
template <class T>
void finish_losses(const T* losses, int64_t n, const TargetCheck& check, LossReduction reduction,
                   T* reduced, int64_t* valid_count) {
  if (valid_count != nullptr) *valid_count = check.valid_count;
  if (reduction == LossReduction::None) return;
  Acc<T> sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Acc<T>(losses[i]);
  // 0 / 0 is NaN for the mean of an all-ignored batch, as in PyTorch.
  *reduced = reduction == LossReduction::Mean ? T(sum / Acc<T>(check.valid_count)) : T(sum);
}

template <class T>
void cross_entropy_forward_typed(const T* logits, const int64_t* targets, int64_t n, int64_t c,
                                 int64_t ignore_index, T* losses) {
  if (c <= 0) {  // every target is ignored or bad; nothing to read
    for (int64_t i = 0; i < n; ++i) losses[i] = T(0);
    return;
  }
  parallel_for(n, std::max<int64_t>(1, kGrainTranscendental / std::max<int64_t>(1, c)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const int64_t t = targets[i];
                   if (t == ignore_index || is_bad_target(t, c)) {
                     losses[i] = T(0);
                     continue;
                   }
                   const T* row = logits + i * c;
                   const T m = row_max(row, c);
                   Acc<T> sum = 0;
                   for (int64_t j = 0; j < c; ++j) sum += Acc<T>(math::exp(row[j] - m));
                   losses[i] = T(Acc<T>(m) + math::log(sum) - Acc<T>(row[t]));
                 }
               });
}

// The divisor of the upstream gradient: the mean's valid count, or 1.
double grad_divisor(const int64_t* mean_count) {
  return mean_count != nullptr ? static_cast<double>(*mean_count) : 1.0;
}

template <class T>
void cross_entropy_backward_typed(const T* logits, const int64_t* targets, int64_t n, int64_t c,
                                  int64_t ignore_index, const T* grad, int64_t grad_stride,
                                  double divisor, T* glogits) {
  if (c <= 0) return;  // (n, 0) logits: no gradient elements
  parallel_for(n, std::max<int64_t>(1, kGrainTranscendental / std::max<int64_t>(1, c)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const int64_t t = targets[i];
                   T* g = glogits + i * c;
                   if (t == ignore_index) {
                     for (int64_t j = 0; j < c; ++j) g[j] = T(0);
                     continue;
                   }
                   // The exponentials go through the output row (one exp per element);
                   // the probabilities themselves are never materialised anywhere.
                   const T* row = logits + i * c;
                   const T m = row_max(row, c);
                   Acc<T> sum = 0;
                   for (int64_t j = 0; j < c; ++j) {
                     g[j] = math::exp(row[j] - m);
                     sum += Acc<T>(g[j]);
                   }
                   const T gi = T(double(grad[i * grad_stride]) / divisor);
                   const T k = T(Acc<T>(gi) / sum);  // g_i * softmax_j = k * e^(x_j - m)
#pragma omp simd
                   for (int64_t j = 0; j < c; ++j) g[j] *= k;
                   // A bad target was reported by the forward; never write outside the row.
                   if (!is_bad_target(t, c)) g[t] -= gi;
                 }
               });
}

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel + ": unsupported dtype " +
                   dtype_name(dt) + " (float32 or float64 only)");
}

}  // namespace

void CpuBackend::softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner,
                         bool log) {
  if (outer <= 0 || r <= 0 || inner <= 0) return;
  switch (dt) {
    case DType::Float32:
      return softmax_typed(static_cast<const float*>(x), static_cast<float*>(y), outer, r, inner,
                           log);
    case DType::Float64:
      return softmax_typed(static_cast<const double*>(x), static_cast<double*>(y), outer, r, inner,
                           log);
    default:
      unsupported(log ? "log_softmax" : "softmax", dt);
  }
}

void CpuBackend::softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer,
                                  int64_t r, int64_t inner, bool log) {
  if (outer <= 0 || r <= 0 || inner <= 0) return;
  switch (dt) {
    case DType::Float32:
      return softmax_backward_typed(static_cast<const float*>(y), static_cast<const float*>(gy),
                                    static_cast<float*>(gx), outer, r, inner, log);
    case DType::Float64:
      return softmax_backward_typed(static_cast<const double*>(y), static_cast<const double*>(gy),
                                    static_cast<double*>(gx), outer, r, inner, log);
    default:
      unsupported(log ? "log_softmax_backward" : "softmax_backward", dt);
  }
}

TargetCheck cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                                  int64_t c, int64_t ignore_index, LossReduction reduction,
                                  void* losses, void* reduced, int64_t* valid_count) {
  if (!is_floating(dt)) unsupported("cross_entropy_forward", dt);
  const TargetCheck check = check_targets(targets, n, c, ignore_index);
  if (dt == DType::Float32) {
    auto* l = static_cast<float*>(losses);
    cross_entropy_forward_typed(static_cast<const float*>(logits), targets, n, c, ignore_index, l);
    finish_losses(l, n, check, reduction, static_cast<float*>(reduced), valid_count);
  } else {
    auto* l = static_cast<double*>(losses);
    cross_entropy_forward_typed(static_cast<const double*>(logits), targets, n, c, ignore_index, l);
    finish_losses(l, n, check, reduction, static_cast<double*>(reduced), valid_count);
  }
  return check;
}

void CpuBackend::cross_entropy_backward(DType dt, const void* logits, const int64_t* targets,
                                        int64_t n, int64_t c, int64_t ignore_index,
                                        const void* grad_losses, int64_t grad_stride,
                                        const int64_t* mean_count, void* glogits) {
  const double divisor = grad_divisor(mean_count);
  if (dt == DType::Float32) {
    cross_entropy_backward_typed(static_cast<const float*>(logits), targets, n, c, ignore_index,
                                 static_cast<const float*>(grad_losses), grad_stride, divisor,
                                 static_cast<float*>(glogits));
  } else if (dt == DType::Float64) {
    cross_entropy_backward_typed(static_cast<const double*>(logits), targets, n, c, ignore_index,
                                 static_cast<const double*>(grad_losses), grad_stride, divisor,
                                 static_cast<double*>(glogits));
  } else {
    unsupported("cross_entropy_backward", dt);
  }
}

namespace {
template <class T>
void nll_forward_typed(const T* logp, const int64_t* targets, int64_t n, int64_t c,
                       int64_t ignore_index, T* losses) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = targets[i];
    losses[i] = (t == ignore_index || is_bad_target(t, c)) ? T(0) : -logp[i * c + t];
  }
}

template <class T>
void nll_backward_typed(const int64_t* targets, int64_t n, int64_t c, int64_t ignore_index,
                        const T* grad, int64_t grad_stride, double divisor, T* glogp) {
  parallel_for(n * c, kGrainCheap, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) glogp[k] = T(0);
  });
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = targets[i];
    if (t == ignore_index || is_bad_target(t, c)) continue;
    glogp[i * c + t] = T(-(double(grad[i * grad_stride]) / divisor));
  }
}
}  // namespace

TargetCheck nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n,
                             int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                             void* reduced, int64_t* valid_count) {
  if (!is_floating(dt)) unsupported("nll_loss_forward", dt);
  const TargetCheck check = check_targets(targets, n, c, ignore_index);
  if (dt == DType::Float32) {
    auto* l = static_cast<float*>(losses);
    nll_forward_typed(static_cast<const float*>(logp), targets, n, c, ignore_index, l);
    finish_losses(l, n, check, reduction, static_cast<float*>(reduced), valid_count);
  } else {
    auto* l = static_cast<double*>(losses);
    nll_forward_typed(static_cast<const double*>(logp), targets, n, c, ignore_index, l);
    finish_losses(l, n, check, reduction, static_cast<double*>(reduced), valid_count);
  }
  return check;
}

void CpuBackend::nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c,
                                   int64_t ignore_index, const void* grad_losses,
                                   int64_t grad_stride, const int64_t* mean_count, void* glogp) {
  const double divisor = grad_divisor(mean_count);
  if (dt == DType::Float32) {
    nll_backward_typed(targets, n, c, ignore_index, static_cast<const float*>(grad_losses),
                       grad_stride, divisor, static_cast<float*>(glogp));
  } else if (dt == DType::Float64) {
    nll_backward_typed(targets, n, c, ignore_index, static_cast<const double*>(grad_losses),
                       grad_stride, divisor, static_cast<double*>(glogp));
  } else {
    unsupported("nll_loss_backward", dt);
  }
}

// The CPU computes synchronously, so a bad target is reported at the call.
void CpuBackend::cross_entropy_forward(DType dt, const void* logits, const int64_t* targets,
                                       int64_t n, int64_t c, int64_t ignore_index,
                                       LossReduction reduction, void* losses, void* reduced,
                                       int64_t* valid_count, void* grad_logits) {
  if (grad_logits != nullptr && reduction == LossReduction::None)
    throw ValueError("kernels::cpu::cross_entropy_forward: grad_logits needs a Sum or Mean loss");
  const TargetCheck check = cpu::cross_entropy_forward(dt, logits, targets, n, c, ignore_index,
                                                       reduction, losses, reduced, valid_count);
  if (check.bad_index >= 0)
    throw bad_target_error("cross_entropy", targets[check.bad_index], check.bad_index, c);
  if (grad_logits == nullptr) return;
  // No launch to save here: the backward's own loop, for an upstream gradient of 1.
  const double divisor =
      reduction == LossReduction::Mean ? static_cast<double>(check.valid_count) : 1.0;
  if (dt == DType::Float32) {
    const float one = 1;
    cross_entropy_backward_typed(static_cast<const float*>(logits), targets, n, c, ignore_index,
                                 &one, 0, divisor, static_cast<float*>(grad_logits));
  } else {
    const double one = 1;
    cross_entropy_backward_typed(static_cast<const double*>(logits), targets, n, c, ignore_index,
                                 &one, 0, divisor, static_cast<double*>(grad_logits));
  }
}

void CpuBackend::nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n,
                                  int64_t c, int64_t ignore_index, LossReduction reduction,
                                  void* losses, void* reduced, int64_t* valid_count) {
  const TargetCheck check = cpu::nll_loss_forward(dt, logp, targets, n, c, ignore_index, reduction,
                                                  losses, reduced, valid_count);
  if (check.bad_index >= 0)
    throw bad_target_error("nll_loss", targets[check.bad_index], check.bad_index, c);
}

}  // namespace ember::kernels::cpu
