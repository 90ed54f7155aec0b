// CPU sorting along the middle axis of a contiguous (outer, r, inner) view: the one kernel
// behind sort, argsort, topk and kthvalue.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cpu {

// For every (o, i), orders the row x[o, 0..r, i] ascending (or descending) and writes the
// first k entries of that order to values[o, 0..k, i] and their positions along r to
// indices[o, 0..k, i] (values and indices contiguous (outer, k, inner); values may be null
// when only indices are wanted). Requires 0 <= k <= r.
// The order is stable in both directions: equal elements keep their input order. NaN counts
// as larger than every number (last ascending, first descending), as in PyTorch.
void sort(DType dt, const void* x, void* values, int64_t* indices, int64_t outer, int64_t r,
          int64_t inner, int64_t k, bool descending);

}  // namespace ember::kernels::cpu
