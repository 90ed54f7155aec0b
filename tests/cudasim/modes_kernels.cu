// Test kernels for cudasim's modes (cudasim/modes.h): a plain fill on a chosen stream, and a
// kernel with a planted block-order assumption.
#include <cuda_runtime.h>

#include <ember/kernels/cuda/launch.h>

#include "test_kernels.h"

namespace cudasim_test {

using ember::kernels::cuda::launch;

namespace {

__global__ void fill_on_kernel(float* x, int n, float value) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = value;
}

__global__ void axpb_kernel(float* x, int n, float a, float b) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = a * x[i] + b;
}

__global__ void chained_blocks_kernel(int* out) {
  const int b = static_cast<int>(blockIdx.x);
  out[b] = b == 0 ? 1 : out[b - 1] + 1;  // the bug: nothing orders block b - 1 before b
}

__global__ void record_block_order_kernel(int* order, int* counter) {
  order[atomicAdd(counter, 1)] = static_cast<int>(blockIdx.x);
}

}  // namespace

void fill_on(float* x, int n, float value, cudaStream_t stream) {
  launch("fill_on", fill_on_kernel, dim3((n + 127) / 128), dim3(128), 0, stream, x, n, value);
}

void axpb_on(float* x, int n, float a, float b, cudaStream_t stream) {
  launch("axpb_on", axpb_kernel, dim3((n + 127) / 128), dim3(128), 0, stream, x, n, a, b);
}

void chained_blocks(int* out, int blocks) {
  launch("chained_blocks", chained_blocks_kernel, dim3(blocks), dim3(1), 0, nullptr, out);
}

void record_block_order(int* order, int* counter, int blocks) {
  launch("record_block_order", record_block_order_kernel, dim3(blocks), dim3(1), 0, nullptr, order,
         counter);
}

}  // namespace cudasim_test
