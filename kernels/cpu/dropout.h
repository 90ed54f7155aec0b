// CPU dropout with the shared Philox stream: element i is kept when its uniform draw
// (seed, offset, i; the same mapping as kernels::cpu::uniform for float32) is >= p, so the
// CUDA kernel produces the same mask for the same seed.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cpu {

// y[i] = keep_i ? x[i] / (1 - p) : 0; mask[i] = keep_i. 0 <= p < 1.
void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
             uint64_t offset);

}  // namespace ember::kernels::cpu
