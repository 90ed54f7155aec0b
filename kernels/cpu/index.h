// CPU gather / scatter_add along one dim.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>

namespace ember::kernels::cpu {

// out[p] = x[p with coordinate `dim` replaced by index[p]] for every position p of the
// index's shape. `x_layout` has the INDEX's sizes and x's strides; `x_dim_size` is x's
// size along `dim`. index and out are contiguous with the index's shape.
// Returns -1, or the linear position of the first index outside [0, x_dim_size).
int64_t gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size, const void* x,
               const int64_t* index, void* out);

// out[p with coordinate `dim` replaced by index[p]] += src[p] for every position p of the
// index's shape. `out_layout` has the INDEX's sizes and out's strides. index and src are
// contiguous with the index's shape. Deterministic (sequential accumulation order).
// Returns -1, or the linear position of the first index outside [0, out_dim_size).
int64_t scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size, void* out,
                    const int64_t* index, const void* src);

}  // namespace ember::kernels::cpu
