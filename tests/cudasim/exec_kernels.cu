// Test kernels for the simulator's execution model: barriers, shared memory, warp intrinsics,
// atomics, launch geometry, and deliberately broken kernels (out-of-bounds writes, divergent
// barriers, shuffles with missing lanes) that the simulator must catch.
#include <cuda_runtime.h>

#include <stdexcept>

#include <ember/kernels/cuda/launch.h>

#include "test_kernels.h"

namespace cudasim_test {

using ember::kernels::cuda::dynamic_smem;
using ember::kernels::cuda::launch;

namespace {

constexpr int kBlock = 256;

__global__ void block_sum_kernel(const float* in, float* out, int n) {
  __shared__ float partial[kBlock];
  const int i = blockIdx.x * kBlock + threadIdx.x;
  partial[threadIdx.x] = i < n ? in[i] : 0.0f;
  __syncthreads();
  for (int stride = kBlock / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride)
      partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

__global__ void warp_sum_down_kernel(const float* in, float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = in[i];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) out[i / 32] = v;
}

__global__ void warp_sum_xor_kernel(const float* in, float* out_all) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = in[i];
  for (int mask = 16; mask > 0; mask /= 2) v += __shfl_xor_sync(0xffffffffu, v, mask);
  out_all[i] = v;
}

__global__ void ballot_kernel(const int* in, unsigned* out) {
  const unsigned vote = __ballot_sync(0xffffffffu, in[threadIdx.x] != 0);
  if (threadIdx.x % 32 == 0) out[threadIdx.x / 32] = vote;
}

__global__ void shfl_up_idx_kernel(int* up, int* idx) {
  const int v = static_cast<int>(threadIdx.x);
  up[threadIdx.x] = __shfl_up_sync(0xffffffffu, v, 1, 8);
  idx[threadIdx.x] = __shfl_sync(0xffffffffu, v, 3, 8);
}

__global__ void axpi_kernel(float* x, int64_t n, float a) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    x[i] = a * x[i] + static_cast<float>(i);
  }
}

__global__ void record_indices_kernel(int* out, int* coords) {
  const int block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int threads = blockDim.x * blockDim.y * blockDim.z;
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int id = block * threads + t;
  out[id] = id;
  coords[id] = ((blockIdx.z * 8 + blockIdx.y) * 8 + blockIdx.x) * 4096 +
               (threadIdx.z * 16 + threadIdx.y) * 16 + threadIdx.x;
}

__global__ void reverse_kernel(const float* in, float* out, int n) {
  float* tile = dynamic_smem<float>();
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = i < n ? in[i] : 0.0f;
  __syncthreads();
  const int j = blockIdx.x * blockDim.x + (blockDim.x - 1 - threadIdx.x);
  if (j < n) out[j] = tile[threadIdx.x];
}

__global__ void histogram_kernel(const int* in, int n, int* bins, int* stats) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  atomicAdd(&bins[in[i]], 1);
  atomicMax(&stats[0], in[i]);
  atomicMin(&stats[1], in[i]);
  atomicCAS(&stats[2], 0, i + 1);  // only the first thread to arrive wins
  atomicExch(&stats[3], 7);
}

__global__ void write_at_kernel(float* p, int64_t index, float value) {
  p[index] = value;
}

__global__ void fill_kernel(float* p, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = 1.0f;
}

__global__ void overrun_kernel(float* p, int n, int extra) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n + extra) p[i] = 2.0f;  // the bug: should be i < n
}

__global__ void exit_before_barrier_kernel(float* p) {
  if (threadIdx.x == 0) return;
  p[threadIdx.x] = 1.0f;
  __syncthreads();
}

__global__ void two_barriers_kernel(float* p) {
  if (threadIdx.x % 2 == 0) {
    p[threadIdx.x] = 1.0f;
    __syncthreads();
  } else {
    p[threadIdx.x] = 2.0f;
    __syncthreads();
  }
}

__global__ void shuffle_after_exit_kernel(float* p) {
  if (threadIdx.x == 31) return;
  p[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.0f, 1);
}

__global__ void shuffle_outside_mask_kernel(float* p) {
  if (threadIdx.x < 16) p[threadIdx.x] = __shfl_down_sync(0x0000ffffu, 1.0f, 8);
}

__global__ void noop_kernel() {}

__global__ void smem_overrun_kernel(size_t bytes) {
  unsigned char* smem = dynamic_smem<unsigned char>();
  if (threadIdx.x == 0) smem[bytes] = 1;
}

__global__ void smem_nan_kernel(float* out) {
  const float* smem = dynamic_smem<float>();
  __syncthreads();
  const bool nan = smem[threadIdx.x] != smem[threadIdx.x];
  __syncthreads();
  float* writable = dynamic_smem<float>();
  writable[threadIdx.x] = 0.0f;  // dirty it, so a missing re-fill would show in the next block
  if (threadIdx.x == 0) out[blockIdx.x] = nan ? 1.0f : 0.0f;
}

__global__ void throwing_kernel_body() {
  if (threadIdx.x == 5) throw std::runtime_error("thrown by a test kernel");
}

__global__ void copy_first_kernel(const float* p, float* out) {
  out[0] = p[0];
}

}  // namespace

void block_sum(const float* in, float* out, int n) {
  launch("block_sum", block_sum_kernel, dim3((n + kBlock - 1) / kBlock), dim3(kBlock), 0, nullptr,
         in, out, n);
}
void warp_sum_down(const float* in, float* out, int n_warps) {
  launch("warp_sum_down", warp_sum_down_kernel, dim3(n_warps / 4), dim3(128), 0, nullptr, in, out);
}
void warp_sum_xor(const float* in, float* out_all, int n_warps) {
  launch("warp_sum_xor", warp_sum_xor_kernel, dim3(n_warps / 4), dim3(128), 0, nullptr, in,
         out_all);
}
void warp_ballot(const int* in, unsigned* out) {
  launch("warp_ballot", ballot_kernel, dim3(1), dim3(64), 0, nullptr, in, out);
}
void warp_shfl_up_idx(int* up, int* idx) {
  launch("warp_shfl_up_idx", shfl_up_idx_kernel, dim3(1), dim3(32), 0, nullptr, up, idx);
}
void grid_stride_axpi(float* x, int64_t n, float a, int blocks, int threads) {
  launch("grid_stride_axpi", axpi_kernel, dim3(blocks), dim3(threads), 0, nullptr, x, n, a);
}
void record_indices(int* out, int* coords, dim3 grid, dim3 block) {
  launch("record_indices", record_indices_kernel, grid, block, 0, nullptr, out, coords);
}
void reverse_in_smem(const float* in, float* out, int n, int threads) {
  launch("reverse_in_smem", reverse_kernel, dim3((n + threads - 1) / threads), dim3(threads),
         threads * sizeof(float), nullptr, in, out, n);
}
void atomic_histogram(const int* in, int n, int* bins, int* stats) {
  launch("atomic_histogram", histogram_kernel, dim3((n + 127) / 128), dim3(128), 0, nullptr, in, n,
         bins, stats);
}
void write_at(float* p, int64_t index, float value) {
  launch("write_at", write_at_kernel, dim3(1), dim3(1), 0, nullptr, p, index, value);
}
void planted_overrun(float* p, int n, int extra) {
  launch("fill", fill_kernel, dim3((n + 63) / 64), dim3(64), 0, nullptr, p, n);
  launch("planted_overrun", overrun_kernel, dim3((n + extra + 63) / 64), dim3(64), 0, nullptr, p, n,
         extra);
}
void exit_before_barrier(float* p) {
  launch("exit_before_barrier", exit_before_barrier_kernel, dim3(1), dim3(64), 0, nullptr, p);
}
void two_barriers(float* p) {
  launch("two_barriers", two_barriers_kernel, dim3(1), dim3(64), 0, nullptr, p);
}
void shuffle_after_exit(float* p) {
  launch("shuffle_after_exit", shuffle_after_exit_kernel, dim3(1), dim3(32), 0, nullptr, p);
}
void shuffle_outside_mask(float* p) {
  launch("shuffle_outside_mask", shuffle_outside_mask_kernel, dim3(1), dim3(32), 0, nullptr, p);
}
void launch_noop(dim3 grid, dim3 block, size_t smem) {
  launch("noop", noop_kernel, grid, block, smem, nullptr);
}
void smem_overrun(size_t smem) {
  launch("smem_overrun", smem_overrun_kernel, dim3(1), dim3(32), smem, nullptr, smem);
}
void smem_starts_nan(float* out, int blocks) {
  launch("smem_starts_nan", smem_nan_kernel, dim3(blocks), dim3(64), 64 * sizeof(float), nullptr,
         out);
}
void throwing_kernel() {
  launch("throwing_kernel", throwing_kernel_body, dim3(1), dim3(32), 0, nullptr);
}
void copy_first(const float* p, float* out) {
  launch("copy_first", copy_first_kernel, dim3(1), dim3(1), 0, nullptr, p, out);
}

}  // namespace cudasim_test
