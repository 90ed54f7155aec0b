// CUDA dropout with the shared Philox stream: element i is kept when the float32 uniform of
// (seed, offset, i) -- lane i % 4 of Philox block offset + i / 4, as the CPU backend's uniform and
// dropout draw it -- is >= p. The same seed gives the same mask on both devices.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cuda {

// y[i] = keep_i ? x[i] / (1 - p) : 0; mask[i] = keep_i. 0 <= p < 1 (else ember::ValueError);
// float32 or float64 (else ember::DTypeError). x, y, mask are device memory; y may alias x.
// One launch on `stream` (a cudaStream_t).
void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
             uint64_t offset, void* stream);

}  // namespace ember::kernels::cuda
