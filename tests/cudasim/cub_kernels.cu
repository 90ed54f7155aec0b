// Test kernels for cudasim's CUB subset: BlockReduce (1D and 2D blocks, num_valid and array
// overloads) and WarpReduce (full and logical warps, valid_items), plus a BlockReduce used in
// a block of the wrong size, which must fail.
#include <cub/cub.cuh>
#include <cuda/functional>
#include <cuda_runtime.h>

#include <stdexcept>

#include <ember/kernels/cuda/launch.h>

#include "test_kernels.h"

namespace cudasim_test {

using ember::kernels::cuda::launch;

namespace {

constexpr int kBlock = 128;

__global__ void block_reduce_kernel(const float* in, float* out_sum, float* out_max, int n) {
  using Reduce = cub::BlockReduce<float, kBlock>;
  __shared__ typename Reduce::TempStorage temp;
  const int first = blockIdx.x * kBlock;
  const int i = first + threadIdx.x;
  const float v = i < n ? in[i] : 0.0f;
  const int valid = n - first < kBlock ? n - first : kBlock;
  const float sum = Reduce(temp).Sum(v, valid);
  __syncthreads();  // temp is reused
  const float mx = valid == kBlock ? Reduce(temp).Reduce(v, ::cuda::maximum<>{})
                                   : Reduce(temp).Reduce(v, ::cuda::maximum<>{}, valid);
  if (threadIdx.x == 0) {
    out_sum[blockIdx.x] = sum;
    out_max[blockIdx.x] = mx;
  }
}

__global__ void block_reduce_2d_kernel(const int* in, int* out_sum) {
  using Reduce = cub::BlockReduce<int, 16, cub::BLOCK_REDUCE_WARP_REDUCTIONS, 4>;
  __shared__ typename Reduce::TempStorage temp;
  const int t = threadIdx.y * 16 + threadIdx.x;
  int items[3];
  for (int k = 0; k < 3; ++k) items[k] = in[blockIdx.x * 192 + t * 3 + k];
  const int sum = Reduce(temp).Sum(items);
  if (t == 0) out_sum[blockIdx.x] = sum;
}

template <int LOGICAL>
__global__ void warp_reduce_kernel(const float* in, float* out, int valid) {
  using Reduce = cub::WarpReduce<float, LOGICAL>;
  __shared__ typename Reduce::TempStorage temp[64 / LOGICAL];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int group = threadIdx.x / LOGICAL;
  const float sum =
      valid < LOGICAL ? Reduce(temp[group]).Sum(in[i], valid) : Reduce(temp[group]).Sum(in[i]);
  if (threadIdx.x % LOGICAL == 0) out[i / LOGICAL] = sum;
}

__global__ void wrong_size_kernel(const float* in, float* out) {
  using Reduce = cub::BlockReduce<float, kBlock>;
  __shared__ typename Reduce::TempStorage temp;
  const float sum = Reduce(temp).Sum(in[threadIdx.x]);
  if (threadIdx.x == 0) out[0] = sum;
}

}  // namespace

void cub_block_reduce(const float* in, float* out_sum, float* out_max, int n) {
  launch("cub_block_reduce", block_reduce_kernel, dim3((n + kBlock - 1) / kBlock), dim3(kBlock), 0,
         nullptr, in, out_sum, out_max, n);
}

void cub_block_reduce_2d(const int* in, int* out_sum) {
  launch("cub_block_reduce_2d", block_reduce_2d_kernel, dim3(2), dim3(16, 4), 0, nullptr, in,
         out_sum);
}

void cub_warp_reduce(const float* in, float* out, int n_threads, int logical, int valid) {
  const dim3 grid(n_threads / 64);
  switch (logical) {
    case 32:
      launch("cub_warp_reduce32", warp_reduce_kernel<32>, grid, dim3(64), 0, nullptr, in, out,
             valid);
      break;
    case 8:
      launch("cub_warp_reduce8", warp_reduce_kernel<8>, grid, dim3(64), 0, nullptr, in, out, valid);
      break;
    default:
      throw std::invalid_argument("cub_warp_reduce: logical warp 32 or 8");
  }
}

void cub_block_reduce_wrong_size(const float* in, float* out) {
  launch("cub_block_reduce_wrong_size", wrong_size_kernel, dim3(1), dim3(64), 0, nullptr, in, out);
}

}  // namespace cudasim_test
