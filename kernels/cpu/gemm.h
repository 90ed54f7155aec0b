// CPU GEMM, row-major: C = alpha * op(A) * op(B) + beta * C, op = transpose or not.
// float32 goes to the fastest BLAS found at build time (oneDNN's dnnl_sgemm, else
// OpenBLAS' cblas_sgemm); float64 (gradcheck, tests) to a plain blocked loop.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cpu {

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
          int64_t ldc);

// `batch` independent GEMMs; matrix i starts at a + i * stride_a (elements), etc.
// stride_a or stride_b may be 0 to reuse one matrix for every batch entry.
void gemm_batched(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  double alpha, const void* a, int64_t lda, int64_t stride_a, const void* b,
                  int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc,
                  int64_t stride_c, int64_t batch);

// Name of the BLAS behind float32 gemm ("oneDNN", "OpenBLAS"), for benchmarks and logs.
const char* gemm_backend_name();

}  // namespace ember::kernels::cpu
