// CPU elementwise kernels: unary maps (with their derivatives), broadcast binary ops and
// the ternary `where`. Inputs of unary kernels are contiguous; binary and where take a
// strided Layout per operand over the output's iteration space (stride 0 = broadcast).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/layout.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember::kernels::cpu {

// y[i] = op(x[i]) for i < n. x and y contiguous, both of dtype `dt` (may alias).
void unary(UnaryOp op, DType dt, const void* x, void* y, int64_t n, UnaryParams p = {});

// gx[i] = gy[i] * op'(x[i]) for i < n. `y` is the forward output (some derivatives are
// cheaper from it, e.g. sigmoid, tanh); it may be null for ops that do not use it.
void unary_backward(UnaryOp op, DType dt, const void* x, const void* y, const void* gy, void* gx,
                    int64_t n, UnaryParams p = {});

// out[i] = a[i] op b[i] over the iteration space of `a_layout.sizes` (identical sizes in
// both layouts). `out` is contiguous; dtype `dt` for both inputs; out dtype is `dt`, or
// Bool for comparisons.
void binary(BinaryOp op, DType dt, const Layout& a_layout, const void* a, const Layout& b_layout,
            const void* b, void* out);

// Contiguous fast path with one scalar operand: out[i] = x[i] op s (or s op x[i] when
// scalar_first). Out dtype as in `binary`.
void binary_scalar(BinaryOp op, DType dt, const void* x, double s, bool scalar_first, void* out,
                   int64_t n);

// out[i] = cond[i] ? a[i] : b[i]; cond is bool. Same conventions as `binary`.
void where(DType dt, const Layout& cond_layout, const bool* cond, const Layout& a_layout,
           const void* a, const Layout& b_layout, const void* b, void* out);

}  // namespace ember::kernels::cpu
