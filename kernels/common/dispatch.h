// dispatch_floating: the one switch from a runtime DType to the kernel's element type for
// kernels defined on float32 and float64 only, and typed<T>, the void* to T* cast beside it.
#pragma once

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/error.h>

namespace ember::kernels {

// Calls f(float{}) or f(double{}); any other dtype is a DTypeError naming the kernel, e.g.
// "kernels::cuda::softmax: unsupported dtype int64 (float32 or float64 only)".
template <class F>
void dispatch_floating(const char* backend, const char* kernel, DType dt, F&& f) {
  switch (dt) {
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      return f(double{});
    default:
      throw DTypeError(::ember::detail::str_cat("kernels::", backend, "::", kernel,
                                                ": unsupported dtype ", dtype_name(dt),
                                                " (float32 or float64 only)"));
  }
}

template <class T>
const T* typed(const void* p) {
  return static_cast<const T*>(p);
}
template <class T>
T* typed(void* p) {
  return static_cast<T*>(p);
}

}  // namespace ember::kernels
