// cudasim's cuBLAS: SGEMM in all four transpose combinations and strided-batched SGEMM against
// a naive column-major reference, DGEMM against hand-computed products, cuBLAS's argument
// validation, and the simulator's extra check that every operand lies in device memory.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cuda/check.h>

#include "cublas_v2.h"
#include "cudasim/counters.h"
#include "sim_test_util.h"

namespace cudasim_test {
namespace {

// C = alpha op(A) op(B) + beta C, column-major, straight from the definition.
void reference_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double acc = 0;
      for (int l = 0; l < k; ++l) {
        const float av = ta ? a[l + i * lda] : a[i + l * lda];
        const float bv = tb ? b[j + l * ldb] : b[l + j * ldb];
        acc += static_cast<double>(av) * bv;
      }
      c[i + j * ldc] = static_cast<float>(alpha * acc + beta * c[i + j * ldc]);
    }
  }
}

class CudasimCublas : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cublasCreate(&handle_), CUBLAS_STATUS_SUCCESS); }
  void TearDown() override { EXPECT_EQ(cublasDestroy(handle_), CUBLAS_STATUS_SUCCESS); }
  cublasHandle_t handle_ = nullptr;
};

TEST_F(CudasimCublas, SgemmAllFourTransposeCombinations) {
  const int m = 5, n = 7, k = 3;
  const float alpha = 1.5f, beta = 0.5f;
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      // Leading dimensions with padding, as in a view of a larger matrix.
      const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
      const std::vector<float> a = random_floats(static_cast<size_t>(lda) * (ta ? m : k), 1);
      const std::vector<float> b = random_floats(static_cast<size_t>(ldb) * (tb ? k : n), 2);
      std::vector<float> c = random_floats(static_cast<size_t>(ldc) * n, 3);
      DeviceArray<float> da(a), db(b), dc(c);
      ASSERT_EQ(cublasSgemm(handle_, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                            m, n, k, &alpha, da.get(), lda, db.get(), ldb, &beta, dc.get(), ldc),
                CUBLAS_STATUS_SUCCESS);
      reference_gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
      const std::vector<float> got = dc.download();
      for (size_t i = 0; i < c.size(); ++i) {
        ASSERT_NEAR(got[i], c[i], 1e-5) << "ta=" << ta << " tb=" << tb << " element " << i;
      }
    }
  }
}

TEST_F(CudasimCublas, SgemmStridedBatchedMatchesPerBatchReference) {
  const int m = 4, n = 6, k = 5, batch = 3;
  const int lda = k, ldb = k, ldc = m;  // A is op T (stored k x m), B op N (k x n)
  const long long sa = lda * m + 3, sb = ldb * n, sc = ldc * n + 2;
  const float alpha = 1.0f, beta = 0.0f;
  const std::vector<float> a = random_floats(sa * batch, 4);
  const std::vector<float> b = random_floats(sb * batch, 5);
  std::vector<float> c(sc * batch, 0.0f);
  DeviceArray<float> da(a), db(b), dc(c);
  ASSERT_EQ(cublasSgemmStridedBatched(handle_, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, da.get(),
                                      lda, sa, db.get(), ldb, sb, &beta, dc.get(), ldc, sc, batch),
            CUBLAS_STATUS_SUCCESS);
  for (int i = 0; i < batch; ++i) {
    reference_gemm(true, false, m, n, k, alpha, a.data() + sa * i, lda, b.data() + sb * i, ldb,
                   beta, c.data() + sc * i, ldc);
  }
  const std::vector<float> got = dc.download();
  for (size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(got[i], c[i], 1e-5) << i;
}

// Column-major A = [1 2; 3 4], B = [5 6; 7 8]: A B = [19 22; 43 50], A^T B = [26 30; 38 44].
TEST_F(CudasimCublas, DgemmMatchesHandComputedProducts) {
  DeviceArray<double> a(std::vector<double>{1, 3, 2, 4});
  DeviceArray<double> b(std::vector<double>{5, 7, 6, 8});
  DeviceArray<double> c(std::vector<double>{1, 1, 1, 1});
  const double alpha = 2, beta = 1;
  ASSERT_EQ(cublasDgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &alpha, a.get(), 2, b.get(), 2,
                        &beta, c.get(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c.download(), (std::vector<double>{39, 87, 45, 101})) << "2 A B + 1";
  DeviceArray<double> ct(4);  // fresh: NaN, and beta == 0 must not read it
  const double one = 1, zero = 0;
  ASSERT_EQ(cublasDgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), 2, b.get(), 2,
                        &zero, ct.get(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(ct.download(), (std::vector<double>{26, 38, 30, 44})) << "A^T B";
  // Batch 2 sharing A (stride 0); the second B is 10 B, so its product is 10 A B.
  DeviceArray<double> bb(std::vector<double>{5, 7, 6, 8, 50, 70, 60, 80});
  DeviceArray<double> cb(8);
  ASSERT_EQ(cublasDgemmStridedBatched(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), 2,
                                      0, bb.get(), 2, 4, &zero, cb.get(), 2, 4, 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cb.download(), (std::vector<double>{19, 43, 22, 50, 190, 430, 220, 500}));
  EXPECT_EQ(cublasDgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.get(), 1, b.get(), 2,
                        &zero, c.get(), 2),
            CUBLAS_STATUS_INVALID_VALUE)
      << "lda < m";
}

TEST_F(CudasimCublas, BetaZeroDoesNotReadC) {
  const int m = 3, n = 3, k = 2;
  const float alpha = 1.0f, beta = 0.0f;
  DeviceArray<float> a(std::vector<float>(m * k, 1.0f));
  DeviceArray<float> b(std::vector<float>(k * n, 2.0f));
  DeviceArray<float> c(m * n);  // fresh: NaN
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, a.get(), m, b.get(), k,
                        &beta, c.get(), m),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c.download(), std::vector<float>(m * n, 4.0f));
  DeviceArray<float> c2(m * n);
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, 0, &alpha, a.get(), m, b.get(), 1,
                        &beta, c2.get(), m),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c2.download(), std::vector<float>(m * n, 0.0f)) << "k = 0: C = beta C = 0";
}

TEST_F(CudasimCublas, InvalidArgumentsAreRejectedAsByCublas) {
  DeviceArray<float> d(64);
  const float one = 1.0f;
  auto sgemm = [&](cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda,
                   int ldb, int ldc) {
    return cublasSgemm(handle_, ta, tb, m, n, k, &one, d.get(), lda, d.get(), ldb, &one, d.get(),
                       ldc);
  };
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 3, 3, 3, 4), CUBLAS_STATUS_INVALID_VALUE)
      << "lda < m";
  EXPECT_EQ(sgemm(CUBLAS_OP_T, CUBLAS_OP_N, 4, 2, 3, 3, 3, 4), CUBLAS_STATUS_SUCCESS)
      << "op(A) = A^T: lda >= k suffices";
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_T, 4, 2, 3, 4, 1, 4), CUBLAS_STATUS_INVALID_VALUE)
      << "ldb < n";
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 3, 4, 3, 3), CUBLAS_STATUS_INVALID_VALUE)
      << "ldc < m";
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, -1, 2, 3, 4, 3, 4), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(sgemm(static_cast<cublasOperation_t>(5), CUBLAS_OP_N, 4, 2, 3, 4, 3, 4),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 0, 2, 3, 1, 3, 1), CUBLAS_STATUS_SUCCESS)
      << "m = 0 is a no-op";
  EXPECT_EQ(cublasSgemmStridedBatched(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, d.get(), 2,
                                      4, d.get(), 2, 4, &one, d.get(), 2, 4, -1),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(nullptr, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, d.get(), 1, d.get(), 1,
                        &one, d.get(), 1),
            CUBLAS_STATUS_NOT_INITIALIZED);
}

TEST_F(CudasimCublas, OperandsMustLieInDeviceMemory) {
  DeviceArray<float> d(16);
  std::vector<float> host(16, 1.0f);
  const float one = 1.0f;
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, host.data(), 4, d.get(),
                        4, &one, d.get(), 4),
            CUBLAS_STATUS_EXECUTION_FAILED);
  EXPECT_NE(std::string(cudasim::last_error_detail()).find("A = "), std::string::npos);
  // 4 x 5 with ld 4 needs 20 floats: one column past the 16-float allocation.
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 5, 4, &one, d.get(), 4, d.get(), 4,
                        &one, d.get(), 4),
            CUBLAS_STATUS_EXECUTION_FAILED);
  EXPECT_NE(std::string(cudasim::last_error_detail()).find("runs 16 bytes past the end"),
            std::string::npos)
      << cudasim::last_error_detail();
}

TEST_F(CudasimCublas, CheckMacroNamesStatusExpressionAndDetail) {
  DeviceArray<float> d(16);
  const float one = 1.0f;
  try {
    EMBER_CUBLAS_CHECK(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d.get(), 2,
                                   d.get(), 4, &one, d.get(), 4));
    FAIL() << "expected a throw";
  } catch (const ember::CudaError& e) {
    const std::string msg = e.what();
    for (const char* part :
         {"cublas_test.cpp:", "cublasSgemm(handle_", "CUBLAS_STATUS_INVALID_VALUE",
          "an invalid numeric value", "[cudasim: cublasSgemm(", "lda=2"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << part << " in " << msg;
    }
  }
}

TEST_F(CudasimCublas, StreamMathModeAndCounters) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(cublasSetStream(handle_, stream), CUBLAS_STATUS_SUCCESS);
  cudaStream_t got = nullptr;
  ASSERT_EQ(cublasGetStream(handle_, &got), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(got, stream);
  EXPECT_EQ(cublasSetMathMode(handle_, CUBLAS_TF32_TENSOR_OP_MATH), CUBLAS_STATUS_SUCCESS);
  cublasMath_t mode = CUBLAS_DEFAULT_MATH;
  ASSERT_EQ(cublasGetMathMode(handle_, &mode), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(mode, CUBLAS_TF32_TENSOR_OP_MATH);
  EXPECT_EQ(cublasSetMathMode(handle_, static_cast<cublasMath_t>(9)), CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_STREQ(cublasGetStatusName(CUBLAS_STATUS_EXECUTION_FAILED),
               "CUBLAS_STATUS_EXECUTION_FAILED");

  cudasim::reset_counters();
  DeviceArray<float> d(std::vector<float>(16, 1.0f));
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, d.get(), 2, d.get() + 4,
                        2, &zero, d.get() + 8, 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cudasim::counters().cublas_calls, 1);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

}  // namespace
}  // namespace cudasim_test
