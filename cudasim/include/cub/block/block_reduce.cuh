// cudasim stand-in for <cub/block/block_reduce.cuh>: cub::BlockReduce as CUB's
// warp-reductions algorithm: each warp reduces with shuffles, lane 0 of each warp stores its
// aggregate in TempStorage, __syncthreads(), thread 0 folds the warp aggregates in order. The
// result is valid in thread 0 only, as in CUB. Every algorithm enumerator maps to this one.
#pragma once

#include <cstdio>
#include <type_traits>

#include <cuda/std/functional>

#include "cub/warp/warp_reduce.cuh"
#include "cuda_runtime.h"

namespace cub {

enum BlockReduceAlgorithm {
  BLOCK_REDUCE_RAKING_COMMUTATIVE_ONLY,
  BLOCK_REDUCE_RAKING,
  BLOCK_REDUCE_WARP_REDUCTIONS,
};

template <typename T, int BLOCK_DIM_X,
          BlockReduceAlgorithm ALGORITHM = BLOCK_REDUCE_WARP_REDUCTIONS, int BLOCK_DIM_Y = 1,
          int BLOCK_DIM_Z = 1>
class BlockReduce {
  static constexpr int kThreads = BLOCK_DIM_X * BLOCK_DIM_Y * BLOCK_DIM_Z;
  static constexpr int kWarps = (kThreads + 31) / 32;
  static_assert(kThreads >= 1 && kThreads <= 1024, "BlockReduce: 1..1024 threads");
  static_assert(std::is_trivially_copyable_v<T>, "BlockReduce values travel through shuffles");

  struct Storage {
    T warp_aggregates[kWarps];
  };

 public:
  // Raw bytes, as CUB's Uninitialized<>: a __shared__ TempStorage runs no constructor of T.
  struct TempStorage {
    alignas(T) unsigned char bytes[sizeof(Storage)];
  };

  BlockReduce() : BlockReduce(private_storage()) {}
  explicit BlockReduce(TempStorage& temp_storage)
      : storage_(*reinterpret_cast<Storage*>(temp_storage.bytes)) {
    // CUB computes thread ranks from the template's dimensions: a block of another shape
    // silently reduces the wrong values on a GPU.
    if (blockDim.x != BLOCK_DIM_X || blockDim.y != BLOCK_DIM_Y || blockDim.z != BLOCK_DIM_Z) {
      char what[160];
      std::snprintf(what, sizeof(what),
                    "cub::BlockReduce<T, %d, ALGORITHM, %d, %d> used in a block of (%u,%u,%u)",
                    BLOCK_DIM_X, BLOCK_DIM_Y, BLOCK_DIM_Z, blockDim.x, blockDim.y, blockDim.z);
      ::cudasim::detail::device_fail(what);
    }
  }

  T Sum(T input) { return Reduce(input, ::cuda::std::plus<>{}, kThreads); }
  T Sum(T input, int num_valid) { return Reduce(input, ::cuda::std::plus<>{}, num_valid); }
  template <int ITEMS_PER_THREAD>
  T Sum(T (&inputs)[ITEMS_PER_THREAD]) {
    return Reduce(inputs, ::cuda::std::plus<>{});
  }

  template <typename ReductionOp>
  T Reduce(T input, ReductionOp reduction_op) {
    return Reduce(input, reduction_op, kThreads);
  }
  template <int ITEMS_PER_THREAD, typename ReductionOp>
  T Reduce(T (&inputs)[ITEMS_PER_THREAD], ReductionOp reduction_op) {
    T partial = inputs[0];
    for (int i = 1; i < ITEMS_PER_THREAD; ++i) partial = reduction_op(partial, inputs[i]);
    return Reduce(partial, reduction_op, kThreads);
  }

  // Only threads with rank < num_valid contribute (CUB's num_valid overloads).
  template <typename ReductionOp>
  T Reduce(T input, ReductionOp reduction_op, int num_valid) {
    const int tid = detail::linear_tid();
    const int warp = tid / 32;
    const int lane = tid % 32;
    const int warp_lanes = kThreads - warp * 32 < 32 ? kThreads - warp * 32 : 32;
    const unsigned member_mask = warp_lanes == 32 ? 0xffffffffu : ((1u << warp_lanes) - 1u);
    int warp_valid = num_valid - warp * 32;
    warp_valid = warp_valid < 0 ? 0 : (warp_valid > warp_lanes ? warp_lanes : warp_valid);

    T value = detail::warp_tree_reduce(input, reduction_op, member_mask, 0, lane, warp_lanes, 32,
                                       warp_valid);
    if (lane == 0 && warp_valid > 0) storage_.warp_aggregates[warp] = value;
    __syncthreads();
    if (tid == 0) {
      const int valid_warps = (num_valid + 31) / 32 < kWarps ? (num_valid + 31) / 32 : kWarps;
      for (int w = 1; w < valid_warps; ++w)
        value = reduction_op(value, storage_.warp_aggregates[w]);
    }
    return value;
  }

 private:
  static TempStorage& private_storage() {
    __shared__ TempStorage storage;
    return storage;
  }

  Storage& storage_;
};

}  // namespace cub
