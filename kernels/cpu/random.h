// CPU random fills from the counter-based Philox generator in kernels/common/philox.h.
// Element i draws from counter (offset + i / 4), lane i % 4, so the CUDA kernels produce
// bit-identical streams for the same (seed, offset).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cpu {

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
             double high);
void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean,
            double std);
// Integers uniform in [low, high).
void randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high);

}  // namespace ember::kernels::cpu
