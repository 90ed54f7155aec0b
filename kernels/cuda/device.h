// Device management for the CUDA backend: what core/ needs to ask of the GPU without
// including any CUDA header (cudaStream_t is forward-declared exactly as CUDA declares it).
#pragma once

#include <cstdint>

typedef struct CUstream_st* cudaStream_t;

namespace ember::kernels::cuda {

// Number of usable GPUs; 0 (not an error) on a machine without a GPU or driver.
int device_count();
// Waits for all work on the current device; throws ember::CudaError if any failed.
void synchronize();
// data[0, n) = value on `stream`; data is device memory.
void fill_f32(float* data, int64_t n, float value, cudaStream_t stream);

}  // namespace ember::kernels::cuda
