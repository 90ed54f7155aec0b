// CUDA layer norm and batch norm, forward and backward; the contract is the norm entries of
// kernels/common/backend_kernels.inc, and kernels/cpu/norm.cpp computes the same.
//
// One block per row (layer norm) or per channel (batch norm). Each thread runs Welford's
// algorithm over its strided share of the elements; the block merges the threads' (count,
// mean, m2) in a shared-memory tree (Chan's pairwise formula), so the statistics take one
// read of x, and the normalising pass a second. The backward kernels reduce the two sums
// they need the same way. The parameter gradients of layer norm are column sums over the
// rows: a block of row groups per column tile (adjacent threads, adjacent addresses), added
// in a fixed order, so they are deterministic, as is everything here (no atomics).
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/norm.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/dispatch.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/common/macros.h>
#include <ember/kernels/common/unary_functors.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>
#include <ember/kernels/cuda/memory.h>

namespace ember::kernels::cuda {
namespace {

constexpr int64_t kMaxBlocks = int64_t{1} << 16;  // more rows or channels: blocks loop

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, float>, double, T>;

template <class A>
struct WelfordState {
  A count, mean, m2;
  EMBER_HD A variance() const { return count > A(0) ? m2 / count : A(0); }  // biased
};

template <class A>
EMBER_HD WelfordState<A> welford_add(WelfordState<A> s, A v) {
  s.count += A(1);
  const A delta = v - s.mean;
  s.mean += delta / s.count;
  s.m2 += delta * (v - s.mean);
  return s;
}

// Chan et al.'s merge of two partial states.
struct WelfordMerge {
  template <class A>
  EMBER_HD WelfordState<A> operator()(const WelfordState<A>& a, const WelfordState<A>& b) const {
    const A n = a.count + b.count;
    if (n == A(0)) return a;
    const A delta = b.mean - a.mean;
    const A wb = b.count / n;
    return {n, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * a.count * wb};
  }
};

template <class A>
struct SumPair {
  A a, b;
};
struct SumPairAdd {
  template <class A>
  EMBER_HD SumPair<A> operator()(const SumPair<A>& x, const SumPair<A>& y) const {
    return {x.a + y.a, x.b + y.b};
  }
};

// The block's reduction of v, returned to every thread: a tree over shared memory in a
// fixed order (so deterministic), which takes the 16- and 24-byte states that a warp shuffle
// cannot move in one step. kBlock is a power of two; `slots` is free again on return.
template <int kBlock, class V, class Op>
__device__ __forceinline__ V block_all_reduce(V v, Op op, V* slots) {
  slots[threadIdx.x] = v;
  __syncthreads();
  for (int stride = kBlock / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride)
      slots[threadIdx.x] = op(slots[threadIdx.x], slots[threadIdx.x + stride]);
    __syncthreads();
  }
  const V out = slots[0];
  __syncthreads();
  return out;
}

template <class T, int kBlock>
__global__ void layer_norm_forward_kernel(const T* x, const T* gamma, const T* beta, int64_t rows,
                                          int64_t cols, double eps, T* y, T* mean, T* rstd) {
  using A = Acc<T>;
  __shared__ WelfordState<Acc<T>> slots[kBlock];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * cols;
    WelfordState<A> s{0, 0, 0};
    for (int64_t j = threadIdx.x; j < cols; j += kBlock) s = welford_add(s, A(xr[j]));
    s = block_all_reduce<kBlock>(s, WelfordMerge{}, slots);
    const A var = s.variance();
    const T m = T(s.mean);
    const T r = T(A(1) / math::sqrt(var + A(eps)));
    if (threadIdx.x == 0) {
      mean[row] = m;
      rstd[row] = r;
    }
    T* yr = y + row * cols;
    for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
      const T v = (xr[j] - m) * r;
      yr[j] = (gamma ? v * gamma[j] : v) + (beta ? beta[j] : T(0));
    }
  }
}

template <class T, int kBlock>
__global__ void layer_norm_backward_input_kernel(const T* x, const T* gy, const T* mean,
                                                 const T* rstd, const T* gamma, int64_t rows,
                                                 int64_t cols, T* gx) {
  using A = Acc<T>;
  __shared__ SumPair<Acc<T>> slots[kBlock];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * cols;
    const T* gr = gy + row * cols;
    const T m = mean[row], r = rstd[row];
    SumPair<A> s{0, 0};  // sums of g and g * xhat
    for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
      const T g = gamma ? gr[j] * gamma[j] : gr[j];
      s.a += A(g);
      s.b += A(g) * A((xr[j] - m) * r);
    }
    s = block_all_reduce<kBlock>(s, SumPairAdd{}, slots);
    const T mean_g = T(s.a / A(cols)), mean_gx = T(s.b / A(cols));
    T* out = gx + row * cols;
    for (int64_t j = threadIdx.x; j < cols; j += kBlock) {
      const T g = gamma ? gr[j] * gamma[j] : gr[j];
      out[j] = r * (g - mean_g - (xr[j] - m) * r * mean_gx);
    }
  }
}

// Column sums over the rows, as reduce.cu's column reduction: a block of kParamCols columns
// by kParamRowGroups row groups; each thread walks every kParamRowGroups-th row of its column,
// then the block adds the groups in order, so the sums are deterministic.
constexpr int kParamCols = 32;
constexpr int kParamRowGroups = 8;

template <class T>
__global__ void layer_norm_backward_params_kernel(const T* x, const T* gy, const T* mean,
                                                  const T* rstd, int64_t rows, int64_t cols,
                                                  T* ggamma, T* gbeta) {
  using A = Acc<T>;
  __shared__ A part_g[kParamRowGroups][kParamCols];
  __shared__ A part_b[kParamRowGroups][kParamCols];
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t j0 = int64_t{blockIdx.x} * kParamCols; j0 < cols;
       j0 += int64_t{gridDim.x} * kParamCols) {
    const int64_t j = j0 + tx;
    A sg = 0, sb = 0;
    if (j < cols) {
      for (int64_t i = ty; i < rows; i += kParamRowGroups) {
        const T g = gy[i * cols + j];
        sg += A(g) * A((x[i * cols + j] - mean[i]) * rstd[i]);
        sb += A(g);
      }
    }
    part_g[ty][tx] = sg;
    part_b[ty][tx] = sb;
    __syncthreads();
    if (ty == 0 && j < cols) {
      for (int k = 1; k < kParamRowGroups; ++k) {
        sg += part_g[k][tx];
        sb += part_b[k][tx];
      }
      if (ggamma) ggamma[j] = T(sg);
      if (gbeta) gbeta[j] = T(sb);
    }
    __syncthreads();  // the partial sums are reused for the next column tile
  }
}

template <class T, int kBlock>
__global__ void batch_norm_forward_kernel(const T* x, const T* gamma, const T* beta, int64_t n,
                                          int64_t c, int64_t inner, double eps, T* y, T* mean,
                                          T* var, T* rstd) {
  using A = Acc<T>;
  __shared__ WelfordState<Acc<T>> slots[kBlock];
  const int64_t count = n * inner;
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    WelfordState<A> s{0, 0, 0};
    for (int64_t k = threadIdx.x; k < count; k += kBlock) {
      const int64_t o = k / inner, i = k - o * inner;
      s = welford_add(s, A(x[(o * c + ch) * inner + i]));
    }
    s = block_all_reduce<kBlock>(s, WelfordMerge{}, slots);
    const A v = s.variance();
    const T m = T(s.mean);
    const T r = T(A(1) / math::sqrt(v + A(eps)));
    if (threadIdx.x == 0) {
      mean[ch] = m;
      var[ch] = T(v);
      rstd[ch] = r;
    }
    const T scale = gamma ? gamma[ch] * r : r;
    const T shift = beta ? beta[ch] : T(0);
    for (int64_t k = threadIdx.x; k < count; k += kBlock) {
      const int64_t o = k / inner, i = k - o * inner;
      const int64_t at = (o * c + ch) * inner + i;
      y[at] = (x[at] - m) * scale + shift;
    }
  }
}

template <class T, int kBlock>
__global__ void batch_norm_backward_kernel(const T* x, const T* gy, const T* mean, const T* rstd,
                                           const T* gamma, int64_t n, int64_t c, int64_t inner,
                                           T* gx, T* ggamma, T* gbeta) {
  using A = Acc<T>;
  __shared__ SumPair<Acc<T>> slots[kBlock];
  const int64_t count = n * inner;
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    const T m = mean[ch], r = rstd[ch];
    SumPair<A> s{0, 0};  // sums of gy and gy * xhat
    for (int64_t k = threadIdx.x; k < count; k += kBlock) {
      const int64_t o = k / inner, i = k - o * inner;
      const int64_t at = (o * c + ch) * inner + i;
      s.a += A(gy[at]);
      s.b += A(gy[at]) * A((x[at] - m) * r);
    }
    s = block_all_reduce<kBlock>(s, SumPairAdd{}, slots);
    if (threadIdx.x == 0) {
      if (ggamma) ggamma[ch] = T(s.b);
      if (gbeta) gbeta[ch] = T(s.a);
    }
    if (!gx) continue;
    const T gm = gamma ? gamma[ch] : T(1);
    const T mean_g = T(s.a / A(count)) * gm, mean_gx = T(s.b / A(count)) * gm;
    for (int64_t k = threadIdx.x; k < count; k += kBlock) {
      const int64_t o = k / inner, i = k - o * inner;
      const int64_t at = (o * c + ch) * inner + i;
      gx[at] = r * (gy[at] * gm - mean_g - (x[at] - m) * r * mean_gx);
    }
  }
}

dim3 block_grid(int64_t items) {
  return dim3(static_cast<unsigned>(std::clamp<int64_t>(items, 1, kMaxBlocks)));
}

}  // namespace

void layer_norm_forward(DType dt, const void* x, const void* gamma, const void* beta, int64_t rows,
                        int64_t cols, double eps, void* y, void* mean, void* rstd, void* stream) {
  dispatch_floating("cuda", "layer_norm_forward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (rows <= 0) return;
    with_row_block(cols, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("layer_norm_forward", layer_norm_forward_kernel<T, kBlock>, block_grid(rows),
             dim3(kBlock), 0, as_stream(stream), typed<T>(x), typed<T>(gamma), typed<T>(beta), rows,
             cols, eps, typed<T>(y), typed<T>(mean), typed<T>(rstd));
    });
  });
}

void layer_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                         const void* rstd, const void* gamma, int64_t rows, int64_t cols, void* gx,
                         void* ggamma, void* gbeta, void* stream) {
  dispatch_floating("cuda", "layer_norm_backward", dt, [&](auto tag) {
    using T = decltype(tag);
    const cudaStream_t s = as_stream(stream);
    if (gx && rows > 0)
      with_row_block(cols, [&](auto block) {
        constexpr int kBlock = decltype(block)::value;
        launch("layer_norm_backward_input", layer_norm_backward_input_kernel<T, kBlock>,
               block_grid(rows), dim3(kBlock), 0, s, typed<T>(x), typed<T>(gy), typed<T>(mean),
               typed<T>(rstd), typed<T>(gamma), rows, cols, typed<T>(gx));
      });
    if ((ggamma || gbeta) && cols > 0)
      launch("layer_norm_backward_params", layer_norm_backward_params_kernel<T>,
             block_grid((cols + kParamCols - 1) / kParamCols), dim3(kParamCols, kParamRowGroups), 0,
             s, typed<T>(x), typed<T>(gy), typed<T>(mean), typed<T>(rstd), rows, cols,
             typed<T>(ggamma), typed<T>(gbeta));
  });
}

void batch_norm_forward(DType dt, const void* x, const void* gamma, const void* beta, int64_t n,
                        int64_t c, int64_t inner, double eps, void* y, void* mean, void* var,
                        void* rstd, void* stream) {
  dispatch_floating("cuda", "batch_norm_forward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (c <= 0) return;
    with_row_block(n * inner, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("batch_norm_forward", batch_norm_forward_kernel<T, kBlock>, block_grid(c),
             dim3(kBlock), 0, as_stream(stream), typed<T>(x), typed<T>(gamma), typed<T>(beta), n, c,
             inner, eps, typed<T>(y), typed<T>(mean), typed<T>(var), typed<T>(rstd));
    });
  });
}

void batch_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                         const void* rstd, const void* gamma, int64_t n, int64_t c, int64_t inner,
                         void* gx, void* ggamma, void* gbeta, void* stream) {
  dispatch_floating("cuda", "batch_norm_backward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (c <= 0) return;
    with_row_block(n * inner, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("batch_norm_backward", batch_norm_backward_kernel<T, kBlock>, block_grid(c),
             dim3(kBlock), 0, as_stream(stream), typed<T>(x), typed<T>(gy), typed<T>(mean),
             typed<T>(rstd), typed<T>(gamma), n, c, inner, typed<T>(gx), typed<T>(ggamma),
             typed<T>(gbeta));
    });
  });
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::layer_norm_forward(DType dt, const void* x, const void* gamma, const void* beta,
                                     int64_t rows, int64_t cols, double eps, void* y, void* mean,
                                     void* rstd) {
  ensure_device(device_);
  cuda::layer_norm_forward(dt, x, gamma, beta, rows, cols, eps, y, mean, rstd, stream_);
}

void CudaBackend::layer_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                                      const void* rstd, const void* gamma, int64_t rows,
                                      int64_t cols, void* gx, void* ggamma, void* gbeta) {
  ensure_device(device_);
  cuda::layer_norm_backward(dt, x, gy, mean, rstd, gamma, rows, cols, gx, ggamma, gbeta, stream_);
}

void CudaBackend::batch_norm_forward(DType dt, const void* x, const void* gamma, const void* beta,
                                     int64_t n, int64_t c, int64_t inner, double eps, void* y,
                                     void* mean, void* var, void* rstd) {
  ensure_device(device_);
  cuda::batch_norm_forward(dt, x, gamma, beta, n, c, inner, eps, y, mean, var, rstd, stream_);
}

void CudaBackend::batch_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                                      const void* rstd, const void* gamma, int64_t n, int64_t c,
                                      int64_t inner, void* gx, void* ggamma, void* gbeta) {
  ensure_device(device_);
  cuda::batch_norm_backward(dt, x, gy, mean, rstd, gamma, n, c, inner, gx, ggamma, gbeta, stream_);
}

}  // namespace ember::kernels::cuda
