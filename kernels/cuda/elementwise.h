// CUDA elementwise kernels: unary maps (with their derivatives), broadcast binary ops and
// the ternary `where`. The launchers behind CudaBackend's entry
// points: their semantics (kernels/common/backend_kernels.inc) plus the stream to launch on; every
// pointer is device memory. Each call is one kernel launch (none for n == 0), asynchronous on
// `stream`.
//
// Unsupported op/dtype combinations (e.g. exp on int64, add on bool) throw ember::DTypeError
// before anything is launched.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember::kernels::cuda {

// `stream` is a cudaStream_t (nullptr: the legacy default stream). Typed as void* so that
// core/ can include this header without CUDA's.
void unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p, void* stream);

void unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy, void* gx,
                    int64_t n, UnaryParams p, void* stream);

void binary(BinaryOp op, DType dt, const Layout& a_layout, const void* a, const Layout& b_layout,
            const void* b, void* out, void* stream);

void binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first, void* out,
                   int64_t n, void* stream);

void where(DType dt, const Layout& cond_layout, const bool* cond, const Layout& a_layout,
           const void* a, const Layout& b_layout, const void* b, void* out, void* stream);

}  // namespace ember::kernels::cuda
