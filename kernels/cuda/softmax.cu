// CUDA softmax / log_softmax, their backward, the fused softmax + cross-entropy forward and
// backward, and nll_loss; the contract is kernels/cpu/softmax.h.
//
// rows (inner == 1, and every loss): one block per row. The block agrees on the row's max
// and on the sum of exponentials with cub::BlockReduce (broadcast through shared memory),
// then each thread writes its strided share of the row. The cross-entropy kernels never
// store the probabilities: the forward writes one loss per row, the backward recomputes
// e^(x - max) while writing the gradient (llm.c's fused classifier).
// columns (inner > 1): one thread per (outer, inner) column walking r; adjacent threads
// read adjacent addresses.
//
// losses: the forwards also validate the targets and reduce the losses in the same launch;
// the launch's last block (kernels/cuda/index_check_device.h) sums all n losses and records
// a bad target for the host to report (kernels/cuda/index_check.h).
//
// Sums of exponentials accumulate in double for float32, as on the CPU. A row of all -inf
// gives NaN, as on the CPU and in PyTorch.
#include <ember/kernels/cuda/softmax.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cub/cub.cuh>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/dispatch.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/common/unary_functors.h>
#include <ember/kernels/cuda/index_check_device.h>
#include <ember/kernels/cuda/launch.h>

namespace ember::kernels::cuda {
namespace {

constexpr int64_t kMaxRowBlocks = int64_t{1} << 16;  // more rows than this: blocks loop
constexpr int kColsBlock = 256;
constexpr int64_t kMaxColsBlocks = 4096;

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, float>, double, T>;

struct MaxOp {
  template <class T>
  EMBER_HD T operator()(const T& a, const T& b) const {
    return b > a ? b : a;
  }
};
struct SumOp {
  template <class T>
  EMBER_HD T operator()(const T& a, const T& b) const {
    return a + b;
  }
};
struct MinOp {
  template <class T>
  EMBER_HD T operator()(const T& a, const T& b) const {
    return b < a ? b : a;
  }
};

// The block's reduction of v, returned to every thread. The trailing barrier lets the caller
// reuse `temp` and `slot` for the next reduction at once.
template <int kBlock, class A, class Op>
__device__ __forceinline__ A
block_all_reduce(A v, Op op, typename cub::BlockReduce<A, kBlock>::TempStorage& temp, A& slot) {
  const A total = cub::BlockReduce<A, kBlock>(temp).Reduce(v, op);
  if (threadIdx.x == 0) slot = total;
  __syncthreads();
  const A out = slot;
  __syncthreads();
  return out;
}

// Shared state of a row kernel: the max (in T) and the sum of exponentials (in Acc<T>).
template <class T, int kBlock>
struct RowShared {
  typename cub::BlockReduce<T, kBlock>::TempStorage max_temp;
  typename cub::BlockReduce<Acc<T>, kBlock>::TempStorage sum_temp;
  T max_slot;
  Acc<T> sum_slot;
};

// max_j x[j] and sum_j e^(x[j] - max) of one row, known to every thread of the block.
template <class T, int kBlock>
__device__ __forceinline__ void row_max_sum(const T* x, int64_t r, RowShared<T, kBlock>& sh, T& m,
                                            Acc<T>& sum) {
  T local_max = x[threadIdx.x < r ? threadIdx.x : 0];
  for (int64_t j = threadIdx.x; j < r; j += kBlock) local_max = x[j] > local_max ? x[j] : local_max;
  m = block_all_reduce<kBlock>(local_max, MaxOp{}, sh.max_temp, sh.max_slot);
  Acc<T> local_sum = 0;
  for (int64_t j = threadIdx.x; j < r; j += kBlock) local_sum += Acc<T>(math::exp(x[j] - m));
  sum = block_all_reduce<kBlock>(local_sum, SumOp{}, sh.sum_temp, sh.sum_slot);
}

// ---------------------------------------------------------------------------------------
// softmax / log_softmax

// x and y may alias: every thread reads x[j] before writing y[j], and only the last pass
// writes.
template <class T, int kBlock>
__global__ void softmax_rows_kernel(const T* x, T* y, int64_t outer, int64_t r, bool log) {
  __shared__ RowShared<T, kBlock> sh;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const T* xr = x + row * r;
    T* yr = y + row * r;
    T m;
    Acc<T> sum;
    row_max_sum<T, kBlock>(xr, r, sh, m, sum);
    if (log) {
      // (x - m) - log(sum): see kernels/cpu/softmax.cpp for why not x - (m + log(sum)).
      const T log_sum = T(math::log(sum));
      for (int64_t j = threadIdx.x; j < r; j += kBlock) yr[j] = (xr[j] - m) - log_sum;
    } else {
      const T inv = T(Acc<T>(1) / sum);
      for (int64_t j = threadIdx.x; j < r; j += kBlock) yr[j] = math::exp(xr[j] - m) * inv;
    }
  }
}

template <class T>
__global__ void softmax_cols_kernel(const T* x, T* y, int64_t outer, int64_t r, int64_t inner,
                                    bool log) {
  const int64_t columns = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; col < columns;
       col += stride) {
    const int64_t base = (col / inner) * r * inner + col % inner;
    T m = x[base];
    for (int64_t j = 1; j < r; ++j) m = x[base + j * inner] > m ? x[base + j * inner] : m;
    Acc<T> sum = 0;
    for (int64_t j = 0; j < r; ++j) sum += Acc<T>(math::exp(x[base + j * inner] - m));
    const T k = log ? T(math::log(sum)) : T(Acc<T>(1) / sum);
    for (int64_t j = 0; j < r; ++j) {
      const T v = x[base + j * inner];
      y[base + j * inner] = log ? (v - m) - k : math::exp(v - m) * k;
    }
  }
}

// softmax:     gx = y * (gy - sum(gy * y))
// log_softmax: gx = gy - exp(y) * sum(gy)
template <class T, int kBlock>
__global__ void softmax_backward_rows_kernel(const T* y, const T* gy, T* gx, int64_t outer,
                                             int64_t r, bool log) {
  __shared__ typename cub::BlockReduce<Acc<T>, kBlock>::TempStorage temp;
  __shared__ Acc<T> slot;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const T* yr = y + row * r;
    const T* gr = gy + row * r;
    T* out = gx + row * r;
    Acc<T> dot = 0;
    for (int64_t j = threadIdx.x; j < r; j += kBlock)
      dot += log ? Acc<T>(gr[j]) : Acc<T>(gr[j]) * Acc<T>(yr[j]);
    const T s = T(block_all_reduce<kBlock>(dot, SumOp{}, temp, slot));
    for (int64_t j = threadIdx.x; j < r; j += kBlock)
      out[j] = log ? gr[j] - math::exp(yr[j]) * s : yr[j] * (gr[j] - s);
  }
}

template <class T>
__global__ void softmax_backward_cols_kernel(const T* y, const T* gy, T* gx, int64_t outer,
                                             int64_t r, int64_t inner, bool log) {
  const int64_t columns = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; col < columns;
       col += stride) {
    const int64_t base = (col / inner) * r * inner + col % inner;
    Acc<T> dot = 0;
    for (int64_t j = 0; j < r; ++j) {
      const int64_t k = base + j * inner;
      dot += log ? Acc<T>(gy[k]) : Acc<T>(gy[k]) * Acc<T>(y[k]);
    }
    const T s = T(dot);
    for (int64_t j = 0; j < r; ++j) {
      const int64_t k = base + j * inner;
      gx[k] = log ? gy[k] - math::exp(y[k]) * s : y[k] * (gy[k] - s);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Losses

__device__ __forceinline__ bool is_bad_target(int64_t t, int64_t c) {
  return t < 0 || t >= c;
}

// The last block of a loss forward: the reduction of all n losses (other blocks wrote them,
// so they are read through volatile loads) in a fixed order, the valid count, and the
// launch's check record. `temp` is the block's reduction storage, free for reuse.
template <class T, int kBlock>
__device__ void finish_loss_forward(IndexCheck* check, CheckedKernel kernel, const T* losses,
                                    const int64_t* targets, int64_t n, int64_t c,
                                    LossReduction reduction, T* reduced, int64_t* valid_count,
                                    typename cub::BlockReduce<Acc<T>, kBlock>::TempStorage& temp) {
  Acc<T> total = 0;
  if (reduction != LossReduction::None) {  // the same in every thread: no divergent barrier
    Acc<T> local = 0;
    for (int64_t i = threadIdx.x; i < n; i += kBlock) local += Acc<T>(load_volatile(losses + i));
    total = cub::BlockReduce<Acc<T>, kBlock>(temp).Reduce(local, SumOp{});  // thread 0's
  }
  if (threadIdx.x != 0) return;
  const auto count = static_cast<int64_t>(load_volatile(&check->launch_valid));
  if (valid_count != nullptr) *valid_count = count;
  // 0 / 0 is NaN for the mean of an all-ignored batch, as on the CPU and in PyTorch.
  if (reduction == LossReduction::Mean) *reduced = T(total / Acc<T>(count));
  if (reduction == LossReduction::Sum) *reduced = T(total);
  finish_launch(check, kernel, targets, c, 0);
}

// g[j] = gi * (softmax(x)_j - [j == hot]) for one row whose max and sum of exponentials the
// block knows: the backward's arithmetic, which the fused forward shares to the bit.
template <class T, int kBlock>
__device__ __forceinline__ void write_row_grad(const T* xr, int64_t c, int64_t hot, T m, Acc<T> sum,
                                               T gi, T* g) {
  const T k = T(Acc<T>(gi) / sum);  // g_i * softmax_j = k * e^(x_j - m)
  for (int64_t j = threadIdx.x; j < c; j += kBlock) {
    const T v = math::exp(xr[j] - m) * k;
    g[j] = j == hot ? v - gi : v;
  }
}

// With `grad` (Sum / Mean): also the logits' gradient for an upstream 1. A Mean's divisor is
// the valid count, which only the last block knows; the rows assume it is n (no target
// ignored, the common case), and if it is not the last block writes them again with it.
template <class T, int kBlock>
__global__ void cross_entropy_forward_kernel(const T* logits, const int64_t* targets, int64_t n,
                                             int64_t c, int64_t ignore_index,
                                             LossReduction reduction, T* losses, T* reduced,
                                             int64_t* valid_count, IndexCheck* check, T* grad) {
  __shared__ RowShared<T, kBlock> sh;
  const bool mean = reduction == LossReduction::Mean;
  const T unit_gi = T(1.0 / (mean ? double(n) : 1.0));
  int64_t first_bad = kNoBadIndex, valid = 0;  // thread 0's tally for this block
  for (int64_t row = blockIdx.x; row < n; row += gridDim.x) {
    // Every thread reads the same target, so the whole block takes the same branch.
    const int64_t t = targets[row];
    const bool ignored = t == ignore_index;
    const bool bad = !ignored && is_bad_target(t, c);
    if (threadIdx.x == 0) {
      valid += ignored ? 0 : 1;
      if (bad && first_bad == kNoBadIndex) first_bad = row;
    }
    if (ignored || bad) {
      if (threadIdx.x == 0) losses[row] = T(0);
      if (grad != nullptr)
        for (int64_t j = threadIdx.x; j < c; j += kBlock) grad[row * c + j] = T(0);
      continue;
    }
    const T* xr = logits + row * c;
    T m;
    Acc<T> sum;
    row_max_sum<T, kBlock>(xr, c, sh, m, sum);
    if (threadIdx.x == 0) losses[row] = T(Acc<T>(m) + math::log(sum) - Acc<T>(xr[t]));
    if (grad != nullptr) write_row_grad<T, kBlock>(xr, c, t, m, sum, unit_gi, grad + row * c);
  }
  // One atomic per block, not per row.
  if (threadIdx.x == 0) {
    if (first_bad != kNoBadIndex) note_bad_position(check, first_bad);
    note_valid_targets(check, valid);
  }
  if (!is_last_block(check)) return;
  if (grad != nullptr && mean) {
    const auto count = static_cast<int64_t>(load_volatile(&check->launch_valid));
    if (count != n) {  // some targets were ignored: the rows again, over the true count
      const T gi = T(1.0 / double(count));
      for (int64_t row = 0; row < n; ++row) {
        const int64_t t = targets[row];
        if (t == ignore_index || is_bad_target(t, c)) continue;  // already zero
        const T* xr = logits + row * c;
        T m;
        Acc<T> sum;
        row_max_sum<T, kBlock>(xr, c, sh, m, sum);
        write_row_grad<T, kBlock>(xr, c, t, m, sum, gi, grad + row * c);
      }
    }
  }
  finish_loss_forward<T, kBlock>(check, CheckedKernel::CrossEntropy, losses, targets, n, c,
                                 reduction, reduced, valid_count, sh.sum_temp);
}

// g_i of the contract: the upstream gradient over the mean's valid count, in double.
template <class T>
__device__ __forceinline__ T loss_grad(const T* grad, int64_t i, int64_t grad_stride,
                                       const int64_t* mean_count) {
  const double divisor = mean_count != nullptr ? double(*mean_count) : 1.0;
  return T(double(grad[i * grad_stride]) / divisor);
}

template <class T, int kBlock>
__global__ void cross_entropy_backward_kernel(const T* logits, const int64_t* targets, int64_t n,
                                              int64_t c, int64_t ignore_index, const T* grad,
                                              int64_t grad_stride, const int64_t* mean_count,
                                              T* glogits) {
  __shared__ RowShared<T, kBlock> sh;
  for (int64_t row = blockIdx.x; row < n; row += gridDim.x) {
    const int64_t t = targets[row];
    T* g = glogits + row * c;
    if (t == ignore_index) {
      for (int64_t j = threadIdx.x; j < c; j += kBlock) g[j] = T(0);
      continue;
    }
    const T* xr = logits + row * c;
    T m;
    Acc<T> sum;
    row_max_sum<T, kBlock>(xr, c, sh, m, sum);
    const T gi = loss_grad(grad, row, grad_stride, mean_count);
    // A bad target was reported by the forward; it only skips the one-hot term here.
    write_row_grad<T, kBlock>(xr, c, is_bad_target(t, c) ? -1 : t, m, sum, gi, g);
  }
}

template <class T, int kBlock>
__global__ void nll_loss_forward_kernel(const T* logp, const int64_t* targets, int64_t n, int64_t c,
                                        int64_t ignore_index, LossReduction reduction, T* losses,
                                        T* reduced, int64_t* valid_count, IndexCheck* check) {
  using CountReduce = cub::BlockReduce<int64_t, kBlock>;
  __shared__ typename CountReduce::TempStorage count_temp;
  __shared__ typename cub::BlockReduce<Acc<T>, kBlock>::TempStorage sum_temp;
  int64_t first_bad = kNoBadIndex, valid = 0;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlock;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x; i < n; i += stride) {
    const int64_t t = targets[i];
    const bool ignored = t == ignore_index;
    const bool bad = !ignored && is_bad_target(t, c);
    valid += ignored ? 0 : 1;
    if (bad && first_bad == kNoBadIndex) first_bad = i;
    losses[i] = (ignored || bad) ? T(0) : -logp[i * c + t];
  }
  const int64_t block_bad = CountReduce(count_temp).Reduce(first_bad, MinOp{});
  __syncthreads();
  const int64_t block_valid = CountReduce(count_temp).Reduce(valid, SumOp{});
  if (threadIdx.x == 0) {
    if (block_bad != kNoBadIndex) note_bad_position(check, block_bad);
    note_valid_targets(check, block_valid);
  }
  if (is_last_block(check))
    finish_loss_forward<T, kBlock>(check, CheckedKernel::NllLoss, losses, targets, n, c, reduction,
                                   reduced, valid_count, sum_temp);
}

template <class T>
__global__ void nll_loss_backward_kernel(const int64_t* targets, int64_t n, int64_t c,
                                         int64_t ignore_index, const T* grad, int64_t grad_stride,
                                         const int64_t* mean_count, T* glogp) {
  const int64_t total = n * c;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < total;
       k += stride) {
    const int64_t i = k / c, j = k % c;
    const int64_t t = targets[i];
    const bool hot = t == j && t != ignore_index;  // j is in [0, c), so a bad t never matches
    glogp[k] = hot ? -loss_grad(grad, i, grad_stride, mean_count) : T(0);
  }
}

// ---------------------------------------------------------------------------------------
// Launchers

cudaStream_t as_stream(void* stream) {
  return static_cast<cudaStream_t>(stream);
}

dim3 row_grid(int64_t rows) {
  return dim3(static_cast<unsigned>(std::clamp<int64_t>(rows, 1, kMaxRowBlocks)));
}

dim3 cols_grid(int64_t columns) {
  return dim3(static_cast<unsigned>(
      std::clamp<int64_t>((columns + kColsBlock - 1) / kColsBlock, 1, kMaxColsBlocks)));
}

}  // namespace

void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner, bool log,
             void* stream) {
  const char* name = log ? "log_softmax" : "softmax";
  dispatch_floating("cuda", name, dt, [&](auto tag) {
    using T = decltype(tag);
    if (outer <= 0 || r <= 0 || inner <= 0) return;
    const T* xt = static_cast<const T*>(x);
    T* yt = static_cast<T*>(y);
    const cudaStream_t s = as_stream(stream);
    if (inner > 1) {
      launch("softmax_cols", softmax_cols_kernel<T>, cols_grid(outer * inner), dim3(kColsBlock), 0,
             s, xt, yt, outer, r, inner, log);
      return;
    }
    with_row_block(r, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("softmax_rows", softmax_rows_kernel<T, kBlock>, row_grid(outer), dim3(kBlock), 0, s,
             xt, yt, outer, r, log);
    });
  });
}

void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer, int64_t r,
                      int64_t inner, bool log, void* stream) {
  const char* name = log ? "log_softmax_backward" : "softmax_backward";
  dispatch_floating("cuda", name, dt, [&](auto tag) {
    using T = decltype(tag);
    if (outer <= 0 || r <= 0 || inner <= 0) return;
    const T* yt = static_cast<const T*>(y);
    const T* gyt = static_cast<const T*>(gy);
    T* gxt = static_cast<T*>(gx);
    const cudaStream_t s = as_stream(stream);
    if (inner > 1) {
      launch("softmax_backward_cols", softmax_backward_cols_kernel<T>, cols_grid(outer * inner),
             dim3(kColsBlock), 0, s, yt, gyt, gxt, outer, r, inner, log);
      return;
    }
    with_row_block(r, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("softmax_backward_rows", softmax_backward_rows_kernel<T, kBlock>, row_grid(outer),
             dim3(kBlock), 0, s, yt, gyt, gxt, outer, r, log);
    });
  });
}

void cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                           int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                           void* reduced, int64_t* valid_count, IndexCheck* check, void* stream,
                           void* grad_logits) {
  EMBER_CHECK(grad_logits == nullptr || reduction != LossReduction::None, ValueError,
              "kernels::cuda::cross_entropy_forward: grad_logits needs a Sum or Mean loss");
  dispatch_floating("cuda", "cross_entropy_forward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0 && reduction == LossReduction::None) return;
    with_row_block(c, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("cross_entropy_forward", cross_entropy_forward_kernel<T, kBlock>, row_grid(n),
             dim3(kBlock), 0, as_stream(stream), static_cast<const T*>(logits), targets, n, c,
             ignore_index, reduction, static_cast<T*>(losses), static_cast<T*>(reduced),
             valid_count, check, static_cast<T*>(grad_logits));
    });
  });
}

void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                            int64_t c, int64_t ignore_index, const void* grad_losses,
                            int64_t grad_stride, const int64_t* mean_count, void* glogits,
                            void* stream) {
  dispatch_floating("cuda", "cross_entropy_backward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0 || c <= 0) return;  // (n, 0) logits: no gradient elements
    with_row_block(c, [&](auto block) {
      constexpr int kBlock = decltype(block)::value;
      launch("cross_entropy_backward", cross_entropy_backward_kernel<T, kBlock>, row_grid(n),
             dim3(kBlock), 0, as_stream(stream), static_cast<const T*>(logits), targets, n, c,
             ignore_index, static_cast<const T*>(grad_losses), grad_stride, mean_count,
             static_cast<T*>(glogits));
    });
  });
}

void nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n, int64_t c,
                      int64_t ignore_index, LossReduction reduction, void* losses, void* reduced,
                      int64_t* valid_count, IndexCheck* check, void* stream) {
  dispatch_floating("cuda", "nll_loss_forward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0 && reduction == LossReduction::None) return;
    launch("nll_loss_forward", nll_loss_forward_kernel<T, kColsBlock>, cols_grid(n),
           dim3(kColsBlock), 0, as_stream(stream), static_cast<const T*>(logp), targets, n, c,
           ignore_index, reduction, static_cast<T*>(losses), static_cast<T*>(reduced), valid_count,
           check);
  });
}

void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c, int64_t ignore_index,
                       const void* grad_losses, int64_t grad_stride, const int64_t* mean_count,
                       void* glogp, void* stream) {
  dispatch_floating("cuda", "nll_loss_backward", dt, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0 || c <= 0) return;
    launch("nll_loss_backward", nll_loss_backward_kernel<T>, cols_grid(n * c), dim3(kColsBlock), 0,
           as_stream(stream), targets, n, c, ignore_index, static_cast<const T*>(grad_losses),
           grad_stride, mean_count, static_cast<T*>(glogp));
  });
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner,
                          bool log) {
  ensure_device(device_);
  cuda::softmax(dt, x, y, outer, r, inner, log, stream_);
}

void CudaBackend::softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer,
                                   int64_t r, int64_t inner, bool log) {
  ensure_device(device_);
  cuda::softmax_backward(dt, y, gy, gx, outer, r, inner, log, stream_);
}

void CudaBackend::cross_entropy_forward(DType dt, const void* logits, const int64_t* targets,
                                        int64_t n, int64_t c, int64_t ignore_index,
                                        LossReduction reduction, void* losses, void* reduced,
                                        int64_t* valid_count, void* grad_logits) {
  ensure_device(device_);
  cuda::cross_entropy_forward(dt, logits, targets, n, c, ignore_index, reduction, losses, reduced,
                              valid_count, check_, stream_, grad_logits);
  checked_kernel_queued();
}

void CudaBackend::cross_entropy_backward(DType dt, const void* logits, const int64_t* targets,
                                         int64_t n, int64_t c, int64_t ignore_index,
                                         const void* grad_losses, int64_t grad_stride,
                                         const int64_t* mean_count, void* glogits) {
  ensure_device(device_);
  cuda::cross_entropy_backward(dt, logits, targets, n, c, ignore_index, grad_losses, grad_stride,
                               mean_count, glogits, stream_);
}

void CudaBackend::nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n,
                                   int64_t c, int64_t ignore_index, LossReduction reduction,
                                   void* losses, void* reduced, int64_t* valid_count) {
  ensure_device(device_);
  cuda::nll_loss_forward(dt, logp, targets, n, c, ignore_index, reduction, losses, reduced,
                         valid_count, check_, stream_);
  checked_kernel_queued();
}

void CudaBackend::nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c,
                                    int64_t ignore_index, const void* grad_losses,
                                    int64_t grad_stride, const int64_t* mean_count, void* glogp) {
  ensure_device(device_);
  cuda::nll_loss_backward(dt, targets, n, c, ignore_index, grad_losses, grad_stride, mean_count,
                          glogp, stream_);
}

}  // namespace ember::kernels::cuda
