// The CPU's gather / scatter_add with the first bad index returned, not thrown: what
// CpuBackend::gather / scatter_add (kernels/cpu/index.cpp) run before they throw
// bad_index_error, and what the kernel tests check directly. Their semantics are the entry
// points' (kernels/common/backend_kernels.inc); scatter_add accumulates sequentially, so it is
// deterministic.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>

namespace ember::kernels::cpu {

// -1, or the linear position of the first index outside [0, x_dim_size).
int64_t gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size, const void* x,
               const int64_t* index, void* out);

// -1, or the linear position of the first index outside [0, out_dim_size).
int64_t scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size, void* out,
                    const int64_t* index, const void* src);

}  // namespace ember::kernels::cpu
