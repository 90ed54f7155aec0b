// cudasim stand-in for <cub/cub.cuh>: the CUB 3 subset ember uses (BlockReduce, WarpReduce,
// DeviceReduce, DeviceSegmentedRadixSort), the reductions implemented with real cooperative
// logic on the simulator's fibers: shuffles, shared memory and __syncthreads, so misuse (wrong
// block size, a reduction not reached by the whole block) fails as it would on a GPU.
#pragma once

#include <cuda/functional>
#include <cuda/std/functional>
#include <cuda/std/limits>

#include "cub/block/block_reduce.cuh"
#include "cub/device/device_reduce.cuh"
#include "cub/device/device_segmented_radix_sort.cuh"
#include "cub/warp/warp_reduce.cuh"
