// Backend: the kernel API, the one seam between the op layer and a device. Ops call
// `backend(device).unary(...)` (core/backend.h); the CPU backend (kernels/cpu/backend.h) runs
// the loop at the call, the CUDA backend (kernels/cuda/backend.h) queues the launch on its
// device's stream. Every entry point is declared once, in backend_kernels.inc, which also
// documents what each computes.
#pragma once

#include <cstddef>
#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/common/layout.h>
#include <ember/kernels/common/op_kinds.h>
#include <ember/kernels/common/optimizer_tensor.h>

namespace ember::kernels {

class Backend {
 public:
  virtual ~Backend() = default;

#define EMBER_BACKEND_ENTRY(...) virtual __VA_ARGS__ = 0
#include <ember/kernels/common/backend_kernels.inc>
#undef EMBER_BACKEND_ENTRY
};

// The errors of out-of-range class targets and gather / scatter_add indices, worded the same
// whichever backend finds them.
inline IndexError bad_target_error(const char* op, int64_t target, int64_t position,
                                   int64_t classes) {
  return IndexError(detail::str_cat(
      op, ": target ", target, " at position ", position, " is out of bounds for ", classes,
      " classes (expected 0 <= target < ", classes, " or the ignore_index)"));
}
inline IndexError bad_index_error(const char* op, int64_t index, int64_t position, int64_t dim,
                                  int64_t size) {
  return IndexError(detail::str_cat(op, ": index ", index, " at position ", position,
                                    " is out of bounds for dim ", dim, " with size ", size));
}

}  // namespace ember::kernels
