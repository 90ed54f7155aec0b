// CUDA gather / scatter_add along one dim. Layout conventions as the entry points
// (kernels/common/backend_kernels.inc); every pointer is device memory, each call is one launch on
// `stream` (a cudaStream_t; nullptr: the legacy default stream) and never synchronises.
//
// Out-of-range indices. The CPU kernels return the first bad position; returning it here
// would cost a host-device synchronisation per call, so the kernels fold it into `check`
// instead (kernels/cuda/index_check.h): the first (smallest) bad linear position -- the one
// the CPU kernel returns -- with the index found there, dim and the size along it, recorded
// unless an earlier error still is. Reading it is the caller's choice of when to
// synchronise. Elements with a bad index are skipped, the others still written (gather) or
// accumulated (scatter_add): such a result must be discarded once the error is reported.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>
#include <ember/kernels/cuda/index_check.h>

namespace ember::kernels::cuda {

// out[p] = x[p with coordinate `dim` replaced by index[p]]; any dtype.
void gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size, const void* x,
            const int64_t* index, void* out, IndexCheck* check, void* stream);

// out[p with coordinate `dim` replaced by index[p]] += src[p], with atomicAdd: float32,
// float64 and int64 (bool throws ember::DTypeError). Floating-point sums are therefore not
// bit-reproducible when several positions hit one element (the CPU kernel's are).
void scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size, void* out,
                 const int64_t* index, const void* src, IndexCheck* check, void* stream);

// out[o, i, :] = x[o, index[i], :] over contiguous (outer, r, inner) / (outer, n, inner); any
// dtype. A row with an index outside [0, r) is left unwritten, and the first such index is
// recorded in `check` (kernels/cuda/index_check.h) as found along `dim`.
void index_select(DType dt, int dim, const void* x, int64_t outer, int64_t r, int64_t inner,
                  const int64_t* index, int64_t n, void* out, IndexCheck* check, void* stream);

}  // namespace ember::kernels::cuda
