// CPU GEMM. float32 goes to the BLAS found at build time: oneDNN's dnnl_sgemm (row-major
// itself, called single-threaded on blocks of C that ember's pool threads claim) or OpenBLAS'
// cblas_sgemm through the column-major mapping in kernels/common/gemm_args.h. float64
// (gradcheck, tests) and float32 without any BLAS use a cache-blocked loop: pack a KC x NC
// panel of op(B) (scaled by alpha), then for each row of C run i-k-j so the innermost loop is
// a contiguous axpy the compiler vectorises, rows split over threads.
#include <ember/kernels/cpu/gemm.h>
#include <ember/kernels/cpu/backend.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/gemm_args.h>
#include <ember/kernels/cpu/parallel.h>

#if defined(EMBER_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.h>
#elif defined(EMBER_HAVE_CBLAS)
#include <cblas.h>
#endif

namespace ember::kernels::cpu {
namespace {

constexpr int64_t kMC = 64;   // rows of C per parallel work unit
constexpr int64_t kKC = 256;  // depth of a packed panel
constexpr int64_t kNC = 512;  // columns of a packed panel (KC x NC doubles = 1 MiB)

// C = beta * C over an m x n block, with beta == 0 writing zeros (BLAS semantics: C is not
// read, so uninitialised or NaN memory is fine).
template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      for (int64_t j = 0; j < n; ++j) row[j] = T(0);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

template <class T>
void gemm_blocked(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  scale_c(m, n, beta, c, ldc);
  if (k == 0 || alpha == T(0)) return;
  std::vector<T> bpack(static_cast<size_t>(std::min(k, kKC) * std::min(n, kNC)));
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t nc = std::min(kNC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      // bp[p][j] = alpha * op(B)(pc + p, jc + j)
      for (int64_t p = 0; p < kc; ++p) {
        T* dst = bpack.data() + p * nc;
        if (tb) {
          for (int64_t j = 0; j < nc; ++j) dst[j] = alpha * b[(jc + j) * ldb + pc + p];
        } else {
          const T* src = b + (pc + p) * ldb + jc;
#pragma omp simd
          for (int64_t j = 0; j < nc; ++j) dst[j] = alpha * src[j];
        }
      }
      const T* bp = bpack.data();
      const int64_t blocks = (m + kMC - 1) / kMC;
      const int64_t flops_per_block = kMC * kc * nc;
      parallel_for(blocks, std::max<int64_t>(1, (int64_t{1} << 18) / flops_per_block),
                   [&](int64_t bb, int64_t be) {
                     T arow[kKC];
                     for (int64_t i = bb * kMC; i < std::min(m, be * kMC); ++i) {
                       const T* ai;
                       if (ta) {  // op(A)(i, p) = A[p][i]: gather the strided column once
                         for (int64_t p = 0; p < kc; ++p) arow[p] = a[(pc + p) * lda + i];
                         ai = arow;
                       } else {
                         ai = a + i * lda + pc;
                       }
                       T* ci = c + i * ldc + jc;
                       for (int64_t p = 0; p < kc; ++p) {
                         const T aip = ai[p];
                         const T* bpp = bp + p * nc;
#pragma omp simd
                         for (int64_t j = 0; j < nc; ++j) ci[j] += aip * bpp[j];
                       }
                     }
                   });
    }
  }
}

#if defined(EMBER_HAVE_DNNL)
// One oneDNN call on this thread alone: oneDNN threads with OpenMP, which would fork a team
// beside ember's pool (and wait at its barrier for any descheduled member), so the calling
// thread's OpenMP thread count is 1 for the call. Pool threads keep it at 1 throughout.
dnnl_status_t sgemm_one_thread(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                               const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                               float* c, int64_t ldc) {
  const int saved = omp_get_max_threads();
  if (saved != 1) omp_set_num_threads(1);
  const dnnl_status_t st =
      dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (saved != 1) omp_set_num_threads(saved);
  return st;
}

// Blocks of C per pool thread. Each block's call packs its own share of one operand and all
// of the other, so more blocks cost more packing; a few per thread still let the threads that
// run take over the blocks of one that does not (Note [Work-claiming pool]).
constexpr int64_t kGemmBlocksPerThread = 2;
// A block below this many flops costs more in call and packing overhead than it saves.
constexpr double kGemmMinBlockFlops = 1 << 22;
#endif

void gemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
#if defined(EMBER_HAVE_DNNL)
  // Blocks of rows of C (or of columns, when C is wide), one single-threaded call each,
  // claimed by the pool's threads.
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * k;
  const int64_t blocks =
      std::max<int64_t>(1, std::min({kGemmBlocksPerThread * get_num_threads(), extent / 16,
                                     static_cast<int64_t>(flops / kGemmMinBlockFlops)}));
  const int64_t step = (extent + blocks - 1) / blocks;
  std::atomic<int> failed{static_cast<int>(dnnl_success)};
  parallel_for(blocks, 1, [&](int64_t bb, int64_t be) {
    for (int64_t blk = bb; blk < be; ++blk) {
      const int64_t lo = blk * step, len = std::min(extent, lo + step) - lo;
      if (len <= 0) continue;
      dnnl_status_t st;
      if (by_rows) {
        st = sgemm_one_thread(ta, tb, len, n, k, alpha, ta ? a + lo : a + lo * lda, lda, b, ldb,
                              beta, c + lo * ldc, ldc);
      } else {
        st = sgemm_one_thread(ta, tb, m, len, k, alpha, a, lda, tb ? b + lo * ldb : b + lo, ldb,
                              beta, c + lo, ldc);
      }
      if (st != dnnl_success) failed.store(static_cast<int>(st), std::memory_order_relaxed);
    }
  });
  const int st = failed.load(std::memory_order_relaxed);
  if (st != static_cast<int>(dnnl_success))
    throw Error("kernels::cpu::gemm: dnnl_sgemm failed with status " + std::to_string(st) + " (m=" +
                std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) + ")");
#elif defined(EMBER_HAVE_CBLAS)
  for (int64_t v : {m, n, k, lda, ldb, ldc}) {
    if (v > INT_MAX)
      throw ValueError("kernels::cpu::gemm: dimension " + std::to_string(v) +
                       " exceeds the 32-bit BLAS interface");
  }
  const ColMajorGemm<float> g = col_major_gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  cblas_sgemm(CblasColMajor, g.trans_a ? CblasTrans : CblasNoTrans,
              g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m), static_cast<int>(g.n),
              static_cast<int>(g.k), alpha, g.a, static_cast<int>(g.lda), g.b,
              static_cast<int>(g.ldb), beta, g.c, static_cast<int>(g.ldc));
#else
  gemm_blocked(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

}  // namespace

void CpuBackend::gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                      double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                      double beta, void* c, int64_t ldc) {
  if (dt != DType::Float32 && dt != DType::Float64)
    throw DTypeError(std::string("kernels::cpu::gemm: unsupported dtype ") + dtype_name(dt) +
                     " (float32 or float64 only)");
  if (m <= 0 || n <= 0) return;
  if (dt == DType::Float32) {
    float* cf = static_cast<float*>(c);
    if (k <= 0 || alpha == 0) {  // no product: BLAS libraries differ on these edge cases
      scale_c(m, n, static_cast<float>(beta), cf, ldc);
      return;
    }
    gemm_f32(trans_a, trans_b, m, n, k, static_cast<float>(alpha), static_cast<const float*>(a),
             lda, static_cast<const float*>(b), ldb, static_cast<float>(beta), cf, ldc);
  } else {
    gemm_blocked(trans_a, trans_b, m, n, std::max<int64_t>(k, 0), alpha,
                 static_cast<const double*>(a), lda, static_cast<const double*>(b), ldb, beta,
                 static_cast<double*>(c), ldc);
  }
}

void CpuBackend::gemm_bias(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                           const void* a, int64_t lda, const void* b, int64_t ldb, const void* bias,
                           void* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const size_t bytes = dtype_size(dt);
  for (int64_t i = 0; i < m; ++i)
    std::memcpy(static_cast<char*>(c) + i * ldc * bytes, bias, static_cast<size_t>(n) * bytes);
  gemm(dt, trans_a, trans_b, m, n, k, 1.0, a, lda, b, ldb, 1.0, c, ldc);
}

void CpuBackend::gemm_batched(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                              double alpha, const void* a, int64_t lda, int64_t stride_a,
                              const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
                              int64_t ldc, int64_t stride_c, int64_t batch) {
  const int64_t es = dtype_size(dt);
  const auto* ab = static_cast<const char*>(a);
  const auto* bb = static_cast<const char*>(b);
  auto* cb = static_cast<char*>(c);
  // One GEMM at a time: each is threaded inside (BLAS or the blocked loop), which beats
  // threading over the batch for all but tiny matrices.
  for (int64_t i = 0; i < batch; ++i) {
    gemm(dt, trans_a, trans_b, m, n, k, alpha, ab + i * stride_a * es, lda, bb + i * stride_b * es,
         ldb, beta, cb + i * stride_c * es, ldc);
  }
}

const char* gemm_backend_name() {
#if defined(EMBER_HAVE_DNNL)
  return "oneDNN";
#elif defined(EMBER_HAVE_CBLAS)
  return "OpenBLAS";
#else
  return "reference";
#endif
}

}  // namespace ember::kernels::cpu
