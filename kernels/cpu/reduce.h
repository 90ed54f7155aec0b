// CPU reductions over the middle axis of a contiguous (outer, r, inner) view. A reduction
// over any one dim of a contiguous tensor is this shape: outer = product of the sizes
// before the dim, inner = product after. Over all elements: (1, n, 1).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember::kernels::cpu {

// out[o, i] = reduce_{j < r} x[o, j, i]; out contiguous (outer, inner), dtype `dt`.
// Sum/Mean of float32 accumulate in double for accuracy. r == 0: Sum 0, Prod 1, Mean NaN;
// Max/Min with r == 0 are rejected by the op layer before reaching here.
void reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
            int64_t inner);

// Max or Min with the index of the chosen element (the first one on ties; NaN wins, as in
// PyTorch). `values` may be null when only indices are wanted (argmax/argmin).
void reduce_with_index(ReduceOp op, DType dt, const void* x, void* values, int64_t* indices,
                       int64_t outer, int64_t r, int64_t inner);

}  // namespace ember::kernels::cpu
