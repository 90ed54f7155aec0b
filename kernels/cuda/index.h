// CUDA gather / scatter_add along one dim. Layout conventions as kernels/cpu/index.h (whose
// comments are the contract); every pointer is device memory, each call is one launch on
// `stream` (a cudaStream_t; nullptr: the legacy default stream) and never synchronises.
//
// Out-of-range indices. The CPU kernels return the first bad position; returning it here
// would cost a host-device synchronisation per call, so the kernels record it instead:
// `bad_position` points to ONE device int64_t that the caller initialises to INT64_MAX
// before the call. Every position p whose index is outside [0, dim_size) lowers it to p
// (an atomic minimum), so afterwards it holds the first (smallest) bad linear position --
// the value the CPU kernel returns -- or still INT64_MAX when all indices were valid. Reading
// it is the caller's choice of when to synchronise; several calls may share one flag.
// Elements with a bad index are skipped: when *bad_position was lowered, the other elements
// of `out` are still written (gather) or accumulated (scatter_add) and the result must be
// discarded, as ember's op layer does (both ops write a fresh output).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>

namespace ember::kernels::cuda {

// out[p] = x[p with coordinate `dim` replaced by index[p]]; any dtype.
void gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size, const void* x,
            const int64_t* index, void* out, int64_t* bad_position, void* stream);

// out[p with coordinate `dim` replaced by index[p]] += src[p], with atomicAdd: float32,
// float64 and int64 (bool throws ember::DTypeError). Floating-point sums are therefore not
// bit-reproducible when several positions hit one element (the CPU kernel's are).
void scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size, void* out,
                 const int64_t* index, const void* src, int64_t* bad_position, void* stream);

}  // namespace ember::kernels::cuda
