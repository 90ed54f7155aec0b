// One Philox block of inverted dropout, shared by the CPU loop and the CUDA kernel so both
// write the same mask: block g covers elements 4g .. 4g + 3 (fewer at the end), and element
// i is kept when u_i >= p, u_i being lane i % 4 of the float32 uniforms of Philox block
// offset + g -- exactly what kernels::cpu::uniform writes at position i for (seed, offset).
// The float32 draw is used for every dtype, so there is one mask definition. The callers
// narrow p and compute scale = 1 / (1 - p) on the host, the same way on both backends.
#pragma once

#include <stdint.h>

#include <ember/kernels/common/macros.h>
#include <ember/kernels/common/philox.h>

namespace ember::kernels {

// y may alias x: each element is read before it is written, by the same caller.
template <class T>
EMBER_HD EMBER_INLINE void dropout_block(const T* x, T* y, bool* mask, int64_t n, float p, T scale,
                                         uint64_t seed, uint64_t offset, int64_t g) {
  float u[4];
  philox_uniform4(seed, offset + static_cast<uint64_t>(g), 0.0f, 1.0f, u);
  const int64_t base = 4 * g;
  const int64_t lanes = n - base < 4 ? n - base : 4;
  for (int64_t l = 0; l < lanes; ++l) {
    const bool keep = u[l] >= p;
    mask[base + l] = keep;
    y[base + l] = keep ? x[base + l] * scale : T(0);
  }
}

}  // namespace ember::kernels
