// The element types ember tensors hold. Defined here, not in core/, because kernels must
// name dtypes too and dependencies point core -> kernels, never back.
#pragma once

#include <cstdint>

namespace ember {

enum class DType : uint8_t { Float32, Float64, Int64, Bool };

// libtorch-style spellings, so `ember::kFloat32` reads like `torch::kFloat32`.
inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kBool = DType::Bool;

constexpr int64_t dtype_size(DType dt) {
  switch (dt) {
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
    case DType::Int64:
      return 8;
    case DType::Bool:
      return 1;
  }
  return 0;
}

constexpr const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
    case DType::Int64:
      return "int64";
    case DType::Bool:
      return "bool";
  }
  return "?";
}

constexpr bool is_floating(DType dt) {
  return dt == DType::Float32 || dt == DType::Float64;
}

// Calls fn.template operator()<T>() with T the C++ type of dt (host code: the backends'
// launchers). Returns false for a value outside the enum, so each backend raises its own
// error.
template <class Fn>
bool dispatch_dtype(DType dt, Fn&& fn) {
  switch (dt) {
    case DType::Float32:
      fn.template operator()<float>();
      return true;
    case DType::Float64:
      fn.template operator()<double>();
      return true;
    case DType::Int64:
      fn.template operator()<int64_t>();
      return true;
    case DType::Bool:
      fn.template operator()<bool>();
      return true;
  }
  return false;
}

}  // namespace ember
