// Loop machinery shared by the elementwise, copy, index, random and optimizer kernels: grid
// sizing for grid-stride loops, dtype dispatch, and StridedIndexer, which turns a linear
// position of a broadcast iteration space into the element offsets of up to four strided
// operands (the CUDA counterpart of kernels/cpu/parallel.h's StridedLoop).
//
// Internal: included by kernels/cuda/*.cu only.
#pragma once

#include <utility>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>
#include <ember/kernels/common/macros.h>

namespace ember::kernels::cuda {

// 256 threads: 8 warps, enough to hide latency on every architecture from sm_75 on while
// leaving room for several resident blocks per SM.
inline constexpr int kBlockSize = 256;
// Grid-stride loops cap the grid here: a few waves on the largest GPUs, and beyond that each
// thread simply takes more elements (cheaper than launching more blocks).
inline constexpr int64_t kMaxGridBlocks = 4096;

// Blocks for `work_items` items of kBlockSize threads each, at least one.
inline dim3 grid_for(int64_t work_items) {
  const int64_t blocks = (work_items + kBlockSize - 1) / kBlockSize;
  return dim3(static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, kMaxGridBlocks)));
}

inline cudaStream_t as_stream(void* stream) {
  return static_cast<cudaStream_t>(stream);
}

inline bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

__device__ __forceinline__ int64_t global_thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// Calls fn.template operator()<T>() for the C++ type of dt.
template <class Fn>
void visit_dtype(const char* kernel, DType dt, Fn&& fn) {
  if (!dispatch_dtype(dt, std::forward<Fn>(fn)))
    throw DTypeError(::ember::detail::str_cat("kernels::cuda::", kernel, ": unknown dtype ",
                                              static_cast<int>(dt)));
}

// Calls fn.template operator()<U>() with U the unsigned integer of dt's size: for kernels that
// only move bits (same-dtype copies, gather, where), one instantiation per element size.
template <class Fn>
void visit_bits(const char* kernel, DType dt, Fn&& fn) {
  switch (dtype_size(dt)) {
    case 1:
      return fn.template operator()<uint8_t>();
    case 4:
      return fn.template operator()<uint32_t>();
    case 8:
      return fn.template operator()<uint64_t>();
    default:
      throw DTypeError(::ember::detail::str_cat("kernels::cuda::", kernel, ": unknown dtype ",
                                                static_cast<int>(dt)));
  }
}

// ---------------------------------------------------------------------------------------
// StridedIndexer<N>: N operands (each with its own strides) over one iteration space, walked
// by linear row-major position. Built on the host, where it drops size-1 dims and merges
// neighbouring dims that are contiguous with each other in every operand, so [B, N] + [N]
// keeps two dims and a same-shape contiguous space collapses to one (no division at all).
// Positions are split with 32-bit division when the space allows it: 64-bit division is a
// long instruction sequence on GPUs, 32-bit a few instructions.
template <int N>
struct StridedIndexer {
  int ndim = 1;
  bool index32 = true;
  int64_t sizes[kMaxDims] = {1};
  int64_t strides[N][kMaxDims] = {};

  // All layouts must have the same sizes (the callers' contract).
  static StridedIndexer make(const Layout* const (&layouts)[N]) {
    StridedIndexer ix;
    ix.ndim = 0;
    const Layout& l0 = *layouts[0];
    for (int d = 0; d < l0.ndim; ++d) {
      if (l0.sizes[d] == 1) continue;
      if (ix.ndim > 0) {
        bool mergeable = true;
        for (int k = 0; k < N; ++k)
          mergeable &= ix.strides[k][ix.ndim - 1] == layouts[k]->strides[d] * l0.sizes[d];
        if (mergeable) {
          ix.sizes[ix.ndim - 1] *= l0.sizes[d];
          for (int k = 0; k < N; ++k) ix.strides[k][ix.ndim - 1] = layouts[k]->strides[d];
          continue;
        }
      }
      ix.sizes[ix.ndim] = l0.sizes[d];
      for (int k = 0; k < N; ++k) ix.strides[k][ix.ndim] = layouts[k]->strides[d];
      ++ix.ndim;
    }
    if (ix.ndim == 0) {  // 0-d or all size-1: one position at offset 0
      ix.ndim = 1;
      ix.sizes[0] = 1;
      for (int k = 0; k < N; ++k) ix.strides[k][0] = 0;
    }
    ix.index32 = l0.numel() <= std::numeric_limits<int32_t>::max();
    return ix;
  }

  // Positions in all but the last `inner` dims (the batch of a batched 2-D walk).
  int64_t numel_outer(int inner) const {
    int64_t n = 1;
    for (int d = 0; d < ndim - inner; ++d) n *= sizes[d];
    return n;
  }

  // Element offsets of linear position i in each operand.
  EMBER_HD EMBER_INLINE void offsets(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    if (index32) {
      uint32_t rest = static_cast<uint32_t>(i);
      for (int d = ndim - 1; d > 0; --d) {
        const uint32_t size = static_cast<uint32_t>(sizes[d]);
        const uint32_t q = rest / size;
        const int64_t c = static_cast<int64_t>(rest - q * size);
        for (int k = 0; k < N; ++k) off[k] += c * strides[k][d];
        rest = q;
      }
      for (int k = 0; k < N; ++k) off[k] += static_cast<int64_t>(rest) * strides[k][0];
    } else {
      int64_t rest = i;
      for (int d = ndim - 1; d > 0; --d) {
        const int64_t q = rest / sizes[d];
        const int64_t c = rest - q * sizes[d];
        for (int k = 0; k < N; ++k) off[k] += c * strides[k][d];
        rest = q;
      }
      // The outermost coordinate needs no modulo: what is left is already below sizes[0].
      for (int k = 0; k < N; ++k) off[k] += rest * strides[k][0];
    }
  }
};

}  // namespace ember::kernels::cuda
