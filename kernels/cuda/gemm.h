// CUDA GEMM, row-major: C = alpha * op(A) * op(B) + beta * C, the contract of
// the gemm entry points (kernels/common/backend_kernels.inc). cuBLAS does the work (column-major,
// through the one mapping in kernels/common/gemm_args.h), with one handle per device bound to
// `stream` (a cudaStream_t) at each call. beta == 0 never reads C (BLAS semantics), so C may be
// uninitialised.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cuda {

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
          void* stream);

// C = op(A) op(B) + bias (n elements, added to every row): float32 through one cuBLASLt
// matmul with the bias epilogue; other dtypes (and k == 0) fill C's rows with the bias and
// accumulate the GEMM onto them.
void gemm_bias(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const void* a,
               int64_t lda, const void* b, int64_t ldb, const void* bias, void* c, int64_t ldc,
               void* stream);

// Whether float32 GEMMs may round their inputs to TF32 on tensor cores (about 8x the FP32
// rate on an H100, 10 mantissa bits instead of 23). Off by default: results then match the
// CPU's to float32 rounding. core's set_float32_matmul_precision sets it.
void set_allow_tf32(bool on);
bool allow_tf32();

// Makes this device's cuBLAS and cuBLASLt handles and binds them to `stream`, which a GEMM
// otherwise does on first use: a CUDA graph capture calls it first, since creating a handle
// allocates memory, which a capture forbids.
void prepare_for_capture(void* stream);

// `batch` GEMMs in one strided-batched call; matrix i starts at a + i * stride_a (elements).
// stride_a or stride_b may be 0 to reuse one matrix for every batch entry.
void gemm_batched(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  double alpha, const void* a, int64_t lda, int64_t stride_a, const void* b,
                  int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc,
                  int64_t stride_c, int64_t batch, void* stream);

}  // namespace ember::kernels::cuda
