// CUDA layer norm and batch norm, forward and backward (kernels/cuda/norm.cu). Semantics are
// the norm entries of kernels/common/backend_kernels.inc; every pointer is device memory and
// work is queued on `stream` (a cudaStream_t). No launch synchronises.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cuda {

// One block per row: Welford statistics, then the normalised, scaled and shifted row.
void layer_norm_forward(DType dt, const void* x, const void* gamma, const void* beta, int64_t rows,
                        int64_t cols, double eps, void* y, void* mean, void* rstd, void* stream);
// gx: one block per row; ggamma / gbeta: one thread per column over the rows.
void layer_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                         const void* rstd, const void* gamma, int64_t rows, int64_t cols, void* gx,
                         void* ggamma, void* gbeta, void* stream);
// One block per channel, over its n * inner elements.
void batch_norm_forward(DType dt, const void* x, const void* gamma, const void* beta, int64_t n,
                        int64_t c, int64_t inner, double eps, void* y, void* mean, void* var,
                        void* rstd, void* stream);
void batch_norm_backward(DType dt, const void* x, const void* gy, const void* mean,
                         const void* rstd, const void* gamma, int64_t n, int64_t c, int64_t inner,
                         void* gx, void* ggamma, void* gbeta, void* stream);

}  // namespace ember::kernels::cuda
