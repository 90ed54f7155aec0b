// CPU layer norm and batch norm, forward and backward; the contract is the norm entries of
// kernels/common/backend_kernels.inc.
//
// Statistics: one pass of Welford's algorithm per row (layer norm) or per channel (batch
// norm), in double for float32, so a large mean does not cancel the variance as the
// sum-of-squares formula would. Every parallel loop owns its outputs (rows, channels, or
// columns of the parameter gradients), so results do not depend on the thread count.
#include <ember/kernels/cpu/backend.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/dispatch.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, float>, double, T>;

// Welford's running mean and sum of squared deviations.
template <class A>
struct Welford {
  int64_t count = 0;
  A mean = 0, m2 = 0;
  void add(A v) {
    ++count;
    const A delta = v - mean;
    mean += delta / static_cast<A>(count);
    m2 += delta * (v - mean);
  }
  A var() const { return count > 0 ? m2 / static_cast<A>(count) : A(0); }
};

// Rows (or columns) per chunk so that a chunk holds about `grain` elements.
int64_t grain_for(int64_t per_item, int64_t grain = kGrainCheap) {
  return std::max<int64_t>(1, grain / std::max<int64_t>(1, per_item));
}

template <class T>
void layer_norm_forward_typed(const T* x, const T* gamma, const T* beta, int64_t rows, int64_t cols,
                              double eps, T* y, T* mean, T* rstd) {
  parallel_for(rows, grain_for(cols), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* xr = x + i * cols;
      Welford<Acc<T>> w;
      for (int64_t j = 0; j < cols; ++j) w.add(Acc<T>(xr[j]));
      const T m = T(w.mean);
      const T r = T(Acc<T>(1) / std::sqrt(w.var() + Acc<T>(eps)));
      mean[i] = m;
      rstd[i] = r;
      T* yr = y + i * cols;
      for (int64_t j = 0; j < cols; ++j) {
        const T v = (xr[j] - m) * r;
        yr[j] = (gamma ? v * gamma[j] : v) + (beta ? beta[j] : T(0));
      }
    }
  });
}

template <class T>
void layer_norm_backward_typed(const T* x, const T* gy, const T* mean, const T* rstd,
                               const T* gamma, int64_t rows, int64_t cols, T* gx, T* ggamma,
                               T* gbeta) {
  if (gx) {
    parallel_for(rows, grain_for(cols), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* xr = x + i * cols;
        const T* gr = gy + i * cols;
        const T m = mean[i], r = rstd[i];
        Acc<T> sum_g = 0, sum_gx = 0;
        for (int64_t j = 0; j < cols; ++j) {
          const T g = gamma ? gr[j] * gamma[j] : gr[j];
          sum_g += Acc<T>(g);
          sum_gx += Acc<T>(g) * Acc<T>((xr[j] - m) * r);
        }
        const T mean_g = T(sum_g / Acc<T>(cols)), mean_gx = T(sum_gx / Acc<T>(cols));
        T* out = gx + i * cols;
        for (int64_t j = 0; j < cols; ++j) {
          const T g = gamma ? gr[j] * gamma[j] : gr[j];
          out[j] = r * (g - mean_g - (xr[j] - m) * r * mean_gx);
        }
      }
    });
  }
  if (!ggamma && !gbeta) return;
  // Column sums over the rows: each chunk owns a range of columns and walks every row, in
  // order, so the sums are the same on any thread count.
  parallel_for(cols, grain_for(rows), [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      Acc<T> sg = 0, sb = 0;
      for (int64_t i = 0; i < rows; ++i) {
        const T g = gy[i * cols + j];
        sg += Acc<T>(g) * Acc<T>((x[i * cols + j] - mean[i]) * rstd[i]);
        sb += Acc<T>(g);
      }
      if (ggamma) ggamma[j] = T(sg);
      if (gbeta) gbeta[j] = T(sb);
    }
  });
}

template <class T>
void batch_norm_forward_typed(const T* x, const T* gamma, const T* beta, int64_t n, int64_t c,
                              int64_t inner, double eps, T* y, T* mean, T* var, T* rstd) {
  parallel_for(c, grain_for(n * inner), [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      Welford<Acc<T>> w;
      for (int64_t o = 0; o < n; ++o) {
        const T* xr = x + (o * c + ch) * inner;
        for (int64_t i = 0; i < inner; ++i) w.add(Acc<T>(xr[i]));
      }
      const T m = T(w.mean);
      const T r = T(Acc<T>(1) / std::sqrt(w.var() + Acc<T>(eps)));
      mean[ch] = m;
      var[ch] = T(w.var());
      rstd[ch] = r;
      const T scale = gamma ? gamma[ch] * r : r;
      const T shift = beta ? beta[ch] : T(0);
      for (int64_t o = 0; o < n; ++o) {
        const T* xr = x + (o * c + ch) * inner;
        T* yr = y + (o * c + ch) * inner;
        for (int64_t i = 0; i < inner; ++i) yr[i] = (xr[i] - m) * scale + shift;
      }
    }
  });
}

template <class T>
void batch_norm_backward_typed(const T* x, const T* gy, const T* mean, const T* rstd,
                               const T* gamma, int64_t n, int64_t c, int64_t inner, T* gx,
                               T* ggamma, T* gbeta) {
  const int64_t count = n * inner;
  parallel_for(c, grain_for(count), [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      const T m = mean[ch], r = rstd[ch];
      Acc<T> sum_gy = 0, sum_gyx = 0;  // sums of gy and gy * xhat
      for (int64_t o = 0; o < n; ++o) {
        const int64_t base = (o * c + ch) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          sum_gy += Acc<T>(gy[base + i]);
          sum_gyx += Acc<T>(gy[base + i]) * Acc<T>((x[base + i] - m) * r);
        }
      }
      if (ggamma) ggamma[ch] = T(sum_gyx);
      if (gbeta) gbeta[ch] = T(sum_gy);
      if (!gx) continue;
      const T gm = gamma ? gamma[ch] : T(1);
      // g = gy * gamma, so mean(g) and mean(g * xhat) are gamma times the sums over count.
      const T mean_g = T(sum_gy / Acc<T>(count)) * gm, mean_gx = T(sum_gyx / Acc<T>(count)) * gm;
      for (int64_t o = 0; o < n; ++o) {
        const int64_t base = (o * c + ch) * inner;
        for (int64_t i = 0; i < inner; ++i)
          gx[base + i] = r * (gy[base + i] * gm - mean_g - (x[base + i] - m) * r * mean_gx);
      }
    }
  });
}

}  // namespace

void CpuBackend::layer_norm_forward(DType dt, const void* x, const void* gamma, const void* beta,
                                    int64_t rows, int64_t cols, double eps, void* y, void* mean,
                                    void* rstd) {
  if (rows <= 0) return;
  dispatch_floating("cpu", "layer_norm_forward", dt, [&](auto tag) {
    using T = decltype(tag);
    layer_norm_forward_typed(typed<T>(x), typed<T>(gamma), typed<T>(beta), rows, cols, eps,
                             typed<T>(y), typed<T>(mean), typed<T>(rstd));
  });
}

void CpuBackend::layer_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                                     const void* rstd, const void* gamma, int64_t rows,
                                     int64_t cols, void* gx, void* ggamma, void* gbeta) {
  dispatch_floating("cpu", "layer_norm_backward", dt, [&](auto tag) {
    using T = decltype(tag);
    layer_norm_backward_typed(typed<T>(x), typed<T>(gy), typed<T>(mean), typed<T>(rstd),
                              typed<T>(gamma), rows, cols, typed<T>(gx), typed<T>(ggamma),
                              typed<T>(gbeta));
  });
}

void CpuBackend::batch_norm_forward(DType dt, const void* x, const void* gamma, const void* beta,
                                    int64_t n, int64_t c, int64_t inner, double eps, void* y,
                                    void* mean, void* var, void* rstd) {
  if (c <= 0) return;
  dispatch_floating("cpu", "batch_norm_forward", dt, [&](auto tag) {
    using T = decltype(tag);
    batch_norm_forward_typed(typed<T>(x), typed<T>(gamma), typed<T>(beta), n, c, inner, eps,
                             typed<T>(y), typed<T>(mean), typed<T>(var), typed<T>(rstd));
  });
}

void CpuBackend::batch_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                                     const void* rstd, const void* gamma, int64_t n, int64_t c,
                                     int64_t inner, void* gx, void* ggamma, void* gbeta) {
  if (c <= 0) return;
  dispatch_floating("cpu", "batch_norm_backward", dt, [&](auto tag) {
    using T = decltype(tag);
    batch_norm_backward_typed(typed<T>(x), typed<T>(gy), typed<T>(mean), typed<T>(rstd),
                              typed<T>(gamma), n, c, inner, typed<T>(gx), typed<T>(ggamma),
                              typed<T>(gbeta));
  });
}

}  // namespace ember::kernels::cpu
