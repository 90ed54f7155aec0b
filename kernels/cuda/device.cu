// Device management and the simplest kernel (a fill), which also gives the nvcc build real
// device code to compile for every architecture.
#include <ember/kernels/cuda/device.h>

#include <cuda_runtime.h>

#include <algorithm>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/launch.h>

namespace ember::kernels::cuda {
namespace {

constexpr int kFillBlock = 256;
// Enough blocks to fill any GPU; larger arrays loop (grid-stride).
constexpr int64_t kFillMaxBlocks = 4096;

__global__ void fill_f32_kernel(float* __restrict__ data, int64_t n, float value) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    data[i] = value;
  }
}

}  // namespace

int device_count() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
    (void)cudaGetLastError();  // "no GPU" is an answer, not a failure
    return 0;
  }
  EMBER_CUDA_CHECK(err);
  return count;
}

void synchronize() {
  EMBER_CUDA_CHECK(cudaDeviceSynchronize());
}

void fill_f32(float* data, int64_t n, float value, cudaStream_t stream) {
  EMBER_CHECK(n >= 0, ValueError, "fill_f32: negative element count ", n);
  if (n == 0) return;
  const int64_t blocks = std::min<int64_t>((n + kFillBlock - 1) / kFillBlock, kFillMaxBlocks);
  launch("fill_f32", fill_f32_kernel, dim3(static_cast<unsigned>(blocks)), dim3(kFillBlock), 0,
         stream, data, n, value);
}

}  // namespace ember::kernels::cuda
