// cudasim's cuBLASLt subset: the float32 matmul with the DEFAULT and BIAS epilogues equals
// cudasim's plain cuBLAS SGEMM (plus the bias per row) in every transpose combination, with
// padded leading dimensions; layouts that do not fit, bad descriptors, and what cudasim does not
// compute (another epilogue or compute type) fail with cuBLASLt's status codes.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cublasLt.h"
#include "cublas_v2.h"
#include "cudasim/counters.h"
#include "sim_test_util.h"

namespace cudasim_test {
namespace {

struct Lt {
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  ~Lt() {
    for (cublasLtMatrixLayout_t l : {a, b, c})
      if (l != nullptr) cublasLtMatrixLayoutDestroy(l);
    if (desc != nullptr) cublasLtMatmulDescDestroy(desc);
    if (handle != nullptr) cublasLtDestroy(handle);
  }
};

TEST(CudasimCublasLt, BiasEpilogueEqualsSgemmPlusTheBias) {
  const int m = 6, n = 5, k = 4;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (bool with_bias : {false, true}) {
        const int lda = (ta ? k : m) + 1, ldb = (tb ? n : k) + 2, ldc = m + 3;
        DeviceArray<float> a(random_floats(static_cast<size_t>(lda) * (ta ? m : k), 1));
        DeviceArray<float> b(random_floats(static_cast<size_t>(ldb) * (tb ? k : n), 2));
        const std::vector<float> bias_host = random_floats(m, 3);
        DeviceArray<float> bias(bias_host);
        DeviceArray<float> want(std::vector<float>(static_cast<size_t>(ldc) * n, 0.0f));
        DeviceArray<float> got(std::vector<float>(static_cast<size_t>(ldc) * n, 0.0f));

        cublasHandle_t h = nullptr;
        ASSERT_EQ(cublasCreate(&h), CUBLAS_STATUS_SUCCESS);
        const float one = 1.0f, zero = 0.0f;
        ASSERT_EQ(cublasSgemm(h, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m,
                              n, k, &one, a.get(), lda, b.get(), ldb, &zero, want.get(), ldc),
                  CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasDestroy(h), CUBLAS_STATUS_SUCCESS);

        Lt lt;
        ASSERT_EQ(cublasLtCreate(&lt.handle), CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasLtMatmulDescCreate(&lt.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                  CUBLAS_STATUS_SUCCESS);
        const int32_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
        const uint32_t epilogue = with_bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
        const float* bias_ptr = bias.get();
        ASSERT_EQ(
            cublasLtMatmulDescSetAttribute(lt.desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof(opa)),
            CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(
            cublasLtMatmulDescSetAttribute(lt.desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof(opb)),
            CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasLtMatmulDescSetAttribute(lt.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                 sizeof(epilogue)),
                  CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasLtMatmulDescSetAttribute(lt.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                 &bias_ptr, sizeof(bias_ptr)),
                  CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.a, CUDA_R_32F, ta ? k : m, ta ? m : k, lda),
                  CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_32F, tb ? n : k, tb ? k : n, ldb),
                  CUBLAS_STATUS_SUCCESS);
        ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.c, CUDA_R_32F, m, n, ldc), CUBLAS_STATUS_SUCCESS);
        cudasim::reset_counters();
        ASSERT_EQ(cublasLtMatmul(lt.handle, lt.desc, &one, a.get(), lt.a, b.get(), lt.b, &zero,
                                 got.get(), lt.c, got.get(), lt.c, nullptr, nullptr, 0, nullptr),
                  CUBLAS_STATUS_SUCCESS);
        EXPECT_EQ(cudasim::counters().cublas_calls, 1);
        std::vector<float> expected = want.download();
        if (with_bias) {
          for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i) expected[static_cast<size_t>(j) * ldc + i] += bias_host[i];
        }
        EXPECT_EQ(got.download(), expected) << "ta " << ta << " tb " << tb << " bias " << with_bias;
      }
    }
  }
}

TEST(CudasimCublasLt, BadOrUnsimulatedCallsFailWithCublasStatuses) {
  DeviceArray<float> a(16), b(16), c(16);
  Lt lt;
  ASSERT_EQ(cublasLtCreate(&lt.handle), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatmulDescCreate(&lt.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.a, CUDA_R_32F, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_32F, 3, 4, 4), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.c, CUDA_R_32F, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  EXPECT_EQ(cublasLtMatmul(lt.handle, lt.desc, &one, a.get(), lt.a, b.get(), lt.b, &zero, c.get(),
                           lt.c, c.get(), lt.c, nullptr, nullptr, 0, nullptr),
            CUBLAS_STATUS_INVALID_VALUE)
      << "op(A) is 4x4 but B has 3 rows";
  cublasLtMatrixLayout_t bad = nullptr;
  EXPECT_EQ(cublasLtMatrixLayoutCreate(&bad, CUDA_R_32F, 4, 4, 2), CUBLAS_STATUS_INVALID_VALUE)
      << "ld < rows";
  const uint32_t relu = CUBLASLT_EPILOGUE_RELU_BIAS;
  ASSERT_EQ(
      cublasLtMatmulDescSetAttribute(lt.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &relu, sizeof(relu)),
      CUBLAS_STATUS_SUCCESS);
  cublasLtMatrixLayoutDestroy(lt.b);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_32F, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtMatmul(lt.handle, lt.desc, &one, a.get(), lt.a, b.get(), lt.b, &zero, c.get(),
                           lt.c, c.get(), lt.c, nullptr, nullptr, 0, nullptr),
            CUBLAS_STATUS_NOT_SUPPORTED)
      << "an epilogue cudasim does not compute";
  EXPECT_EQ(cublasLtMatmulDescSetAttribute(lt.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &relu, 2),
            CUBLAS_STATUS_INVALID_VALUE)
      << "wrong attribute size";
  EXPECT_EQ(cublasLtMatmulDescDestroy(nullptr), CUBLAS_STATUS_INVALID_VALUE);
}

}  // namespace
}  // namespace cudasim_test
