// Maps ember's row-major GEMM call onto the column-major convention of BLAS and cuBLAS.
// Every column-major GEMM call in ember (OpenBLAS fallback, cuBLAS, cudasim) goes through
// this one mapping, so the argument shuffle is written and tested exactly once.
//
// A row-major matrix X (r x c, leading dimension ld) has the same bytes as the column-major
// matrix X^T (c x r, same ld). So row-major C = op(A) op(B) is, read column-major,
//   C^T = op(B)^T op(A)^T,
// i.e. a column-major GEMM with A and B swapped, m and n swapped, and each operand keeping
// its own transpose flag (op(B)^T of the stored B^T is op applied to B^T).
#pragma once

#include <stdint.h>

#include <ember/kernels/common/macros.h>

namespace ember::kernels {

template <class T>
struct ColMajorGemm {
  bool trans_a;  // applies to `a` below (the caller's B)
  bool trans_b;  // applies to `b` below (the caller's A)
  int64_t m, n, k;
  const T* a;
  int64_t lda;
  const T* b;
  int64_t ldb;
  T* c;
  int64_t ldc;
};

// From the row-major call C(m x n) = op(A)(m x k) * op(B)(k x n).
template <class T>
EMBER_HD EMBER_INLINE ColMajorGemm<T> col_major_gemm(bool trans_a, bool trans_b, int64_t m,
                                                     int64_t n, int64_t k, const T* a, int64_t lda,
                                                     const T* b, int64_t ldb, T* c, int64_t ldc) {
  return ColMajorGemm<T>{trans_b, trans_a, n, m, k, b, ldb, a, lda, c, ldc};
}

}  // namespace ember::kernels
