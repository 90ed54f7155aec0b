// Helpers the op layer shares: output allocation, layouts for kernels, broadcasting,
// dim normalisation and argument checks. Internal to libember.
#pragma once

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/autograd/node.h>
#include <ember/core/backend.h>
#include <ember/core/tensor.h>

namespace ember::detail {

// A new contiguous tensor (uninitialised memory from the device's caching allocator).
Tensor make_tensor(const Shape& sizes, DType dtype, Device device);

inline Backend& backend_of(const Tensor& t) {
  return backend(t.device());
}

// The tensor's own sizes and strides.
Layout layout_of(const Tensor& t);
// t's strides over the iteration space `out` (right-aligned; broadcast dims get stride 0).
Layout broadcast_layout(const Tensor& t, const Shape& out);
// Contiguous layout of `sizes`.
Layout contiguous_layout(const Shape& sizes);

// NumPy broadcasting of two shapes; ShapeError naming `op` when incompatible.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Wraps a negative dim; IndexError naming `op` when out of range. ndim 0 accepts -1 and 0.
int normalize_dim(const char* op, int dim, int ndim);

inline void check_defined(const char* op, const Tensor& t, const char* what = "input") {
  EMBER_CHECK(t.defined(), ValueError, op, ": ", what, " is an undefined tensor");
}
inline void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a.device() == b.device(), DeviceError, op,
              ": expected all tensors on the same device, got ", a.device(), " and ", b.device());
}
void check_floating(const char* op, const Tensor& t);
// ValueError naming `op` and `what` when `value` cannot be stored in `dt`: for int64, a NaN, an
// infinity or a value outside [-2^63, 2^63) (converting those is undefined in C++).
void check_scalar_fits(const char* op, const char* what, double value, DType dt);
void check_dtype(const char* op, const Tensor& t, DType expected, const char* what);

// Sums `grad` down to `shape` (the reverse of broadcasting), for backward of broadcast ops.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// `t` itself when contiguous, else a contiguous copy (never records autograd).
Tensor contiguous_data(const Tensor& t);

// Splits `sizes` around `dim` into the (outer, r, inner) form the reduction kernels take.
struct ReduceGeometry {
  int64_t outer = 1, r = 1, inner = 1;
};
ReduceGeometry reduce_geometry(const Shape& sizes, int dim);

}  // namespace ember::detail
