// What every reduction op shares, defined in reduce.cpp (with sum, mean, prod, max, min,
// argmax, argmin, all, any; statistics.cpp has norm, var, std): which dims are reduced, the
// shapes that result, and one forward over any set of dims. Internal to the op layer.
#pragma once

#include <ember/core/ops/op_utils.h>

namespace ember::detail {

// The dims to reduce, wrapped and sorted; empty `dims` means all of x's dims. A dim given
// twice is a ValueError naming `op` (as in PyTorch).
Shape reduction_dims(const char* op, const Tensor& x, const Shape& dims);

// `sizes` with the reduced `dims` (sorted) set to 1 (keepdim) or removed.
Shape reduced_shape(const Shape& sizes, const Shape& dims, bool keepdim);

// The number of elements each output reduces over.
int64_t reduced_count(const Shape& sizes, const Shape& dims);

// Reduces x over `dims` (from reduction_dims) in dtype `dt`, without autograd; the result has
// the keepdim shape. Each run of adjacent dims is one kernel call over a contiguous
// (outer, r, inner) view, so no dims are permuted or copied; a Mean over several runs sums
// each and divides once at the end. No dims (a 0-dim x): a copy of x in `dt`.
Tensor reduce_over(ReduceOp op, const Tensor& x, const Shape& dims, DType dt);

// sum(t, dims, keepdim=true), with autograd; a 0-dim t (no dims) is its own sum.
Tensor sum_keepdim(const Tensor& t, const Shape& dims);

}  // namespace ember::detail
