// CUDA reductions over the middle axis of a contiguous (outer, r, inner) view, with the same
// contract as the reduce entry points (kernels/common/backend_kernels.inc): float32 Sum/Mean/Prod
// accumulate in double, r == 0 gives Sum 0 / Prod 1 / Mean NaN, Max/Min propagate NaN, and
// reduce_with_index picks the first index on ties with the first NaN winning. Every pointer is
// device memory; work is queued on `stream` (a cudaStream_t) and nothing waits for it.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/op_kinds.h>
#include <ember/kernels/common/raw_allocator.h>

namespace ember::kernels::cuda {

// out[o, i] = reduce_{j < r} x[o, j, i]; out contiguous (outer, inner). A reduction over the
// whole tensor (outer == inner == 1) uses cub::DeviceReduce (two launches, three for Mean),
// with temporary storage from `scratch_memory` when given (the CUDA backend passes its caching
// allocator), else from a per-device scratch buffer that grows to the largest size asked for
// and is then reused; rows (inner == 1) one block each with cub::BlockReduce;
// columns (inner > 1) a 2-D block per tile of columns.
void reduce(ReduceOp op, DType dt, const void* x, void* out, int64_t outer, int64_t r,
            int64_t inner, void* stream, BlockAllocator* scratch_memory = nullptr);

// Max or Min with the index of the chosen element; `values` may be null (argmax/argmin).
void reduce_with_index(ReduceOp op, DType dt, const void* x, void* values, int64_t* indices,
                       int64_t outer, int64_t r, int64_t inner, void* stream);

}  // namespace ember::kernels::cuda
