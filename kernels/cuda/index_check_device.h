// The device half of kernels/cuda/index_check.h: how a checked kernel notes what it found in
// the launch's scratch, how its blocks find the last of them to finish, and how that block
// records the launch's first error (the "threadfence reduction" of the CUDA samples: each
// block publishes, fences and counts itself done; the block that counts last sees every
// other block's writes).
//
// Internal: included by kernels/cuda/*.cu only.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include <ember/kernels/cuda/index_check.h>

namespace ember::kernels::cuda {

// Lowers the launch's first bad position to `pos`. Positions are non-negative and the
// scratch starts at INT64_MAX, so CUDA's unsigned 64-bit minimum is the signed one.
__device__ __forceinline__ void note_bad_position(IndexCheck* check, int64_t pos) {
  atomicMin(reinterpret_cast<unsigned long long*>(&check->launch_first_bad),
            static_cast<unsigned long long>(pos));
}

__device__ __forceinline__ void note_valid_targets(IndexCheck* check, int64_t count) {
  if (count != 0) atomicAdd(&check->launch_valid, static_cast<unsigned long long>(count));
}

// Called by every thread of every block of a 1-D grid once the block's writes and notes are
// done. True in every thread of the launch's last block, which may then read what the other
// blocks wrote (through volatile loads: their lines may be in no cache it has seen).
__device__ __forceinline__ bool is_last_block(IndexCheck* check) {
  __shared__ bool last;
  __threadfence();  // this thread's writes are visible device-wide before its block counts
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(&check->blocks_done, 1u) == gridDim.x - 1;
  __syncthreads();
  if (last) __threadfence();
  return last;
}

template <class T>
__device__ __forceinline__ T load_volatile(const T* p) {
  return *static_cast<const volatile T*>(p);
}

// The last block's thread 0, after reading the scratch: records the launch's first bad
// position (and the value `index` holds there) unless an earlier launch's error is still
// recorded, then restores the scratch for the next launch.
__device__ __forceinline__ void finish_launch(IndexCheck* check, CheckedKernel kernel,
                                              const int64_t* index, int64_t bound, int64_t dim) {
  const int64_t pos = load_volatile(&check->launch_first_bad);
  if (pos != kNoBadIndex && check->position == kNoBadIndex) {
    check->position = pos;
    check->value = index[pos];
    check->bound = bound;
    check->dim = dim;
    check->kernel = kernel;
  }
  check->launch_first_bad = kNoBadIndex;
  check->launch_valid = 0;
  check->blocks_done = 0;
}

}  // namespace ember::kernels::cuda
