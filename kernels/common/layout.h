// A fixed-capacity strided layout passed by value to CPU loops and CUDA kernels alike.
// Fixed capacity (no heap) keeps per-op overhead low and lets the struct travel as a
// kernel argument.
#pragma once

#include <cstdint>

#include <ember/kernels/common/macros.h>

namespace ember {

inline constexpr int kMaxDims = 8;

namespace kernels {

// Sizes and element strides of one operand over an iteration space of `ndim` dims.
// A broadcast dimension has stride 0.
struct Layout {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  EMBER_HD int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
  // Element offset of the linear (row-major) index `i` within the iteration space.
  EMBER_HD int64_t offset_of(int64_t i) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t idx = i % sizes[d];
      i /= sizes[d];
      off += idx * strides[d];
    }
    return off;
  }
  EMBER_HD bool is_contiguous() const {
    int64_t expected = 1;
    for (int d = ndim - 1; d >= 0; --d) {
      if (sizes[d] != 1 && strides[d] != expected) return false;
      expected *= sizes[d];
    }
    return true;
  }
};

}  // namespace kernels
}  // namespace ember
