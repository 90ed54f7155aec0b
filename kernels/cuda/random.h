// CUDA random fills from the counter-based Philox generator in kernels/common/philox.h, with
// exactly the CPU kernels' element -> (counter, lane) mapping: element i comes from block
// offset + i / 4, lane i % 4. The same (seed, offset) therefore gives bit-identical uniforms
// and integers on both devices (normals too, up to the last ulp of the device's log/sin/cos).
// Semantics as the entry points (kernels/common/backend_kernels.inc); `out` is device memory, each
// call one launch on `stream` (a cudaStream_t; nullptr: the legacy default stream).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cuda {

// float32 or float64; other dtypes throw ember::DTypeError.
void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
             double high, void* stream);
void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
            void* stream);
// Integers uniform in [low, high); high <= low throws ember::ValueError.
void randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
             void* stream);

}  // namespace ember::kernels::cuda
