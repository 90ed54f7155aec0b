// Tensor element types (defined in kernels/common, which both backends share) and the
// mapping between them and C++ types.
#pragma once

#include <cstdint>
#include <ostream>

#include <ember/kernels/common/dtype.h>

namespace ember {

template <typename T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <typename T>
inline constexpr DType dtype_of_v = dtype_of<T>::value;

// The dtype an operation on a and b computes in (PyTorch's promotion for our four types:
// bool < int64 < float32 < float64).
constexpr DType promote_types(DType a, DType b) {
  return static_cast<uint8_t>(a) == static_cast<uint8_t>(b) ? a
         : (a == DType::Float64 || b == DType::Float64)     ? DType::Float64
         : (a == DType::Float32 || b == DType::Float32)     ? DType::Float32
         : (a == DType::Int64 || b == DType::Int64)         ? DType::Int64
                                                            : DType::Bool;
}

inline std::ostream& operator<<(std::ostream& os, DType dt) {
  return os << dtype_name(dt);
}

}  // namespace ember
