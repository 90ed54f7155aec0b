// CPU data movement: strided copy with dtype conversion, fill, arange.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>

namespace ember::kernels::cpu {

// dst[p] = cast<dst_dt>(src[p]) for every position p of the iteration space (sizes of
// both layouts are identical; src strides may be 0 for broadcast). Contiguous same-dtype
// copies are a memcpy. Conversion to bool is `!= 0`; float to int64 truncates.
void copy(DType src_dt, const Layout& src_layout, const void* src, DType dst_dt,
          const Layout& dst_layout, void* dst);

// Every element of the strided dst set to `value` (converted to dt).
void fill(DType dt, const Layout& layout, void* dst, double value);

// out[i] = start + i * step for i < n.
void arange(DType dt, void* out, int64_t n, double start, double step);

}  // namespace ember::kernels::cpu
