// cudasim stand-in for <cub/warp/warp_reduce.cuh>: cub::WarpReduce as a shuffle-down tree over
// the lanes of a logical warp. The result is valid in the logical warp's first lane, as in CUB.
#pragma once

#include <type_traits>

#include <cuda/std/functional>

#include "cuda_runtime.h"

namespace cub {
namespace detail {

inline int linear_tid() {
  return static_cast<int>(threadIdx.x + threadIdx.y * blockDim.x +
                          threadIdx.z * blockDim.x * blockDim.y);
}

// Tree reduction of `value` over the `width` lanes of `member_mask` starting at absolute lane
// `base`; only the first `valid` logical lanes contribute. Every member lane must call it (the
// shuffles are a rendezvous); a lane whose partner lies past the group reads its own value,
// so no shuffle ever names a lane outside member_mask.
template <typename T, typename Op>
T warp_tree_reduce(T value, Op op, unsigned member_mask, int base, int logical_lane, int width,
                   int span, int valid) {
  for (int offset = span / 2; offset > 0; offset /= 2) {
    const int partner = logical_lane + offset;
    const T other =
        __shfl_sync(member_mask, value, base + (partner < width ? partner : logical_lane));
    if (partner < valid) value = op(value, other);
  }
  return value;
}

}  // namespace detail

template <typename T, int LOGICAL_WARP_THREADS = 32>
class WarpReduce {
  static_assert(LOGICAL_WARP_THREADS >= 1 && LOGICAL_WARP_THREADS <= 32 &&
                    (LOGICAL_WARP_THREADS & (LOGICAL_WARP_THREADS - 1)) == 0,
                "cudasim's WarpReduce supports power-of-two logical warps of 1..32 lanes");
  static_assert(std::is_trivially_copyable_v<T>, "WarpReduce values travel through shuffles");

 public:
  // Shuffle-based reduction needs no shared memory; the type exists for CUB's API.
  struct TempStorage {};

  explicit WarpReduce(TempStorage& /*temp_storage*/) {}

  T Sum(T input) { return Reduce(input, ::cuda::std::plus<>{}); }
  T Sum(T input, int valid_items) { return Reduce(input, ::cuda::std::plus<>{}, valid_items); }

  template <typename ReductionOp>
  T Reduce(T input, ReductionOp reduction_op) {
    return Reduce(input, reduction_op, LOGICAL_WARP_THREADS);
  }

  template <typename ReductionOp>
  T Reduce(T input, ReductionOp reduction_op, int valid_items) {
    const int tid = detail::linear_tid();
    const int lane = tid % 32;
    const int block_threads = static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
    const int warp_lanes = block_threads - (tid - lane) < 32 ? block_threads - (tid - lane) : 32;
    const int logical_lane = lane % LOGICAL_WARP_THREADS;
    const int base = lane - logical_lane;
    // Lanes of this logical warp that exist (the block's last warp may be partial).
    int width = warp_lanes - base;
    if (width > LOGICAL_WARP_THREADS) width = LOGICAL_WARP_THREADS;
    const unsigned group = width == 32 ? 0xffffffffu : ((1u << width) - 1u);
    const int valid = valid_items < width ? valid_items : width;
    return detail::warp_tree_reduce(input, reduction_op, group << base, base, logical_lane, width,
                                    LOGICAL_WARP_THREADS, valid);
  }
};

}  // namespace cub
