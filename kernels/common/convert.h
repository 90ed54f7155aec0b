// Element conversion between dtypes, shared by the CPU and CUDA copy kernels so both give the
// same answer for every input: to bool is `!= 0`; floating to int64 truncates toward zero,
// saturates at the int64 range and maps NaN to 0, as a GPU's cvt.rzi.s64 does. C++ leaves a
// NaN or out-of-range float -> int64 conversion undefined; user data can hold either.
#pragma once

#include <stdint.h>

#include <type_traits>

#include <ember/kernels/common/macros.h>

namespace ember::kernels {

template <class D, class S>
EMBER_HD EMBER_INLINE D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) {
    return v != S(0);
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    static_assert(sizeof(D) == 8 && std::is_signed_v<D>, "int64 is ember's one integer dtype");
    if (!(v == v)) return D(0);
    if (v >= S(0x1p63)) return INT64_MAX;
    if (v < S(-0x1p63)) return INT64_MIN;
    return static_cast<D>(v);
  } else {
    return static_cast<D>(v);
  }
}

}  // namespace ember::kernels
