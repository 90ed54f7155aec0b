// kernels::cuda::gemm / gemm_batched on cudasim against kernels::cpu: all four transpose
// combinations, padded leading dimensions, alpha/beta (beta == 0 must not read C, which
// cudasim fills with NaN), k == 0 and alpha == 0, and strided batches with a shared (stride
// 0) operand, for float32 (cuBLAS SGEMM) and float64 (cuBLAS DGEMM, which cudasim provides too).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/ember.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cpu/gemm.h>
#include <ember/kernels/cuda/gemm.h>

#include "cuda/kernels_test_util.h"
#include "cudasim/counters.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;

template <class T>
double rtol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  double alpha, beta;
};

// Row-major operands as stored: A is (m x k), or (k x m) when transposed; leading dimensions
// are padded by 3 so a kernel that assumes ld == columns reads the wrong elements.
template <class T>
void check_gemm(DType dt, const Case& c, int64_t batch, bool share_a, bool share_b) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + " ta " + std::to_string(c.ta) + " tb " +
               std::to_string(c.tb) + " m " + std::to_string(c.m) + " n " + std::to_string(c.n) +
               " k " + std::to_string(c.k) + " alpha " + std::to_string(c.alpha) + " beta " +
               std::to_string(c.beta) + " batch " + std::to_string(batch) +
               (share_a ? " shared A" : "") + (share_b ? " shared B" : ""));
  const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = c.n + 3;
  const int64_t sa = share_a ? 0 : a_rows * lda, sb = share_b ? 0 : b_rows * ldb;
  const int64_t sc = c.m * ldc;
  const size_t na = static_cast<size_t>(share_a ? a_rows * lda : sa * batch);
  const size_t nb = static_cast<size_t>(share_b ? b_rows * ldb : sb * batch);
  const size_t nc = static_cast<size_t>(sc * batch);
  const std::vector<T> a = testing::random_vector<T>(std::max<size_t>(na, 1), 1);
  const std::vector<T> b = testing::random_vector<T>(std::max<size_t>(nb, 1), 2);
  std::vector<T> want = testing::random_vector<T>(nc, 3);
  DeviceBuffer<T> da(a), db(b), dc(want.size());
  // beta == 0: leave C as cudasim's fresh NaN pattern (it must not be read); else upload.
  if (c.beta != 0) dc.upload(want);
  const int64_t before = cudasim::counters().cublas_calls;
  if (batch == 1) {
    cpu::cpu_backend.gemm(dt, c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.data(), lda, b.data(), ldb,
                          c.beta, want.data(), ldc);
    cuda::gemm(dt, c.ta, c.tb, c.m, c.n, c.k, c.alpha, da.get(), lda, db.get(), ldb, c.beta,
               dc.get(), ldc, nullptr);
  } else {
    cpu::cpu_backend.gemm_batched(dt, c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.data(), lda, sa,
                                  b.data(), ldb, sb, c.beta, want.data(), ldc, sc, batch);
    cuda::gemm_batched(dt, c.ta, c.tb, c.m, c.n, c.k, c.alpha, da.get(), lda, sa, db.get(), ldb, sb,
                       c.beta, dc.get(), ldc, sc, batch, nullptr);
  }
  if (dt == kFloat32) {
    EXPECT_EQ(cudasim::counters().cublas_calls - before, 1) << "one cuBLAS call, batched or not";
  }
  // Only the m x n part of each C is defined (the padding stays NaN when beta == 0).
  const std::vector<T> got = dc.download();
  for (int64_t z = 0; z < batch; ++z) {
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        const size_t at = static_cast<size_t>(z * sc + i * ldc + j);
        ASSERT_TRUE(all_close(std::vector<T>{got[at]}, {want[at]}, rtol<T>()))
            << "C[" << z << "][" << i << "][" << j << "]";
      }
    }
  }
}

template <class T>
void check_all(DType dt) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check_gemm<T>(dt, {ta, tb, 7, 9, 13, 1.0, 0.0}, 1, false, false);
      check_gemm<T>(dt, {ta, tb, 33, 5, 40, 1.5, 0.5}, 1, false, false);
      check_gemm<T>(dt, {ta, tb, 1, 17, 3, -2.0, 1.0}, 1, false, false);
      check_gemm<T>(dt, {ta, tb, 6, 4, 5, 1.0, 0.0}, 3, false, false);
      check_gemm<T>(dt, {ta, tb, 6, 4, 5, 0.5, 1.0}, 4, true, false);
      check_gemm<T>(dt, {ta, tb, 6, 4, 5, 1.0, 0.0}, 2, false, true);
    }
  }
}

TEST(CudaGemm, AllTransposesAndBatchesMatchCpuFloat32) {
  check_all<float>(kFloat32);
}

TEST(CudaGemm, AllTransposesAndBatchesMatchCpuFloat64) {
  check_all<double>(kFloat64);
}

// No product: C = beta * C, and beta == 0 writes zeros over NaN.
TEST(CudaGemm, EmptyDepthAndZeroAlphaScaleC) {
  for (double beta : {0.0, 2.0}) {
    check_gemm<float>(kFloat32, {false, false, 4, 5, 0, 1.0, beta}, 1, false, false);
    check_gemm<double>(kFloat64, {false, true, 4, 5, 0, 1.0, beta}, 1, false, false);
    check_gemm<float>(kFloat32, {true, false, 4, 5, 3, 0.0, beta}, 1, false, false);
    check_gemm<double>(kFloat64, {true, true, 4, 5, 3, 0.0, beta}, 2, false, false);
  }
}

TEST(CudaGemm, EmptyOutputLaunchesNothing) {
  DeviceBuffer<float> d(4);
  const int64_t before = cudasim::counters().cublas_calls;
  cuda::gemm(kFloat32, false, false, 0, 4, 4, 1.0, d.get(), 4, d.get(), 4, 0.0, d.get(), 4,
             nullptr);
  cuda::gemm_batched(kFloat32, false, false, 2, 2, 2, 1.0, d.get(), 2, 0, d.get(), 2, 0, 0.0,
                     d.get(), 2, 0, 0, nullptr);
  EXPECT_EQ(cudasim::counters().cublas_calls, before);
}

TEST(CudaGemm, UnsupportedDtypeAndHugeDimensionsThrow) {
  DeviceBuffer<int64_t> d(4);
  EXPECT_THROW(cuda::gemm(kInt64, false, false, 2, 2, 1, 1.0, d.get(), 1, d.get(), 2, 0.0, d.get(),
                          2, nullptr),
               DTypeError);
  DeviceBuffer<float> f(4);
  const int64_t huge = int64_t{1} << 33;
  EXPECT_THROW(cuda::gemm(kFloat32, false, false, 1, 1, huge, 1.0, f.get(), huge, f.get(), 1, 0.0,
                          f.get(), 1, nullptr),
               ValueError);
}

// gemm_bias: float32 through cuBLASLt's bias epilogue (one cuBLAS-family call, no other
// launch), float64 through the row fill and a GEMM; both against the CPU's.
template <class T>
void check_gemm_bias(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + " ta " + std::to_string(ta) + " tb " +
               std::to_string(tb) + " m " + std::to_string(m) + " n " + std::to_string(n) + " k " +
               std::to_string(k));
  const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
  const int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
  const int64_t lda = a_cols + 2, ldb = b_cols + 1, ldc = n + 3;
  const std::vector<T> a = testing::random_vector<T>(static_cast<size_t>(a_rows * lda), 4);
  const std::vector<T> b = testing::random_vector<T>(static_cast<size_t>(b_rows * ldb), 5);
  const std::vector<T> bias = testing::random_vector<T>(static_cast<size_t>(n), 6);
  std::vector<T> want(static_cast<size_t>(m * ldc), T(0));
  cpu::cpu_backend.gemm_bias(dt, ta, tb, m, n, k, a.data(), lda, b.data(), ldb, bias.data(),
                             want.data(), ldc);
  DeviceBuffer<T> da(a), db(b), dbias(bias), dc(want.size());
  const cudasim::Counters before = cudasim::counters();
  cuda::gemm_bias(dt, ta, tb, m, n, k, da.get(), lda, db.get(), ldb, dbias.get(), dc.get(), ldc,
                  nullptr);
  const cudasim::Counters after = cudasim::counters();
  EXPECT_EQ(after.cublas_calls - before.cublas_calls, 1);
  if (dt == kFloat32) {
    EXPECT_EQ(after.kernel_launches, before.kernel_launches) << "no bias pass";
  }
  const std::vector<T> got = dc.download();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      ASSERT_TRUE(all_close(std::vector<T>{got[at]}, {want[at]}, rtol<T>()))
          << "C[" << i << "][" << j << "]";
    }
  }
}

TEST(CudaGemm, GemmBiasMatchesCpuInEveryTransposeCombination) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check_gemm_bias<float>(kFloat32, ta, tb, 7, 9, 13);
      check_gemm_bias<float>(kFloat32, ta, tb, 1, 17, 3);
      check_gemm_bias<double>(kFloat64, ta, tb, 6, 4, 5);
    }
  }
}

// TF32 is an opt-in (set_float32_matmul_precision): with "high", float32 GEMMs -- cuBLAS and
// cuBLASLt's -- are allowed tensor-op math; float64 ones and the default never are.
TEST(CudaGemm, Tf32IsAnOptInOfFloat32Gemms) {
  const Device gpu = Device::cuda();
  const Tensor a = randn({8, 6}).to(gpu), w = randn({4, 6}).to(gpu), bias = randn({4}).to(gpu);
  auto tf32_gemms = [] { return cudasim::counters().tf32_gemms; };
  const int64_t before = tf32_gemms();
  const std::vector<float> want = linear(a, w, bias).to_vector<float>();
  (void)mm(a, w.t());
  EXPECT_EQ(tf32_gemms(), before) << "off by default";
  set_float32_matmul_precision("high");
  const std::vector<float> got = linear(a, w, bias).to_vector<float>();
  (void)mm(a, w.t());
  (void)mm(a.to(kFloat64), w.t().to(kFloat64));
  EXPECT_EQ(tf32_gemms(), before + 2) << "linear (cuBLASLt) and mm (cuBLAS); not float64";
  EXPECT_EQ(got, want) << "cudasim computes TF32 GEMMs in full FP32";
  set_float32_matmul_precision("highest");
  (void)mm(a, w.t());
  EXPECT_EQ(tf32_gemms(), before + 2);
}

}  // namespace
}  // namespace ember::kernels
