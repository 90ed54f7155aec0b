// GEMM against a naive triple loop in double: all four transpose combinations for float32
// (BLAS) and float64 (blocked loop, with sizes past every block edge), alpha/beta, padded
// leading dimensions, k == 0, beta == 0 over NaN garbage, batched with shared operands; and
// the row-major -> column-major mapping in gemm_args.h through a naive column-major GEMM.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/gemm_args.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cpu/gemm.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

// Row-major reference: C = alpha * op(A) op(B) + beta * C (beta == 0 ignores C).
template <class T>
void naive_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a,
                int64_t lda, const T* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double av = ta ? a[p * lda + i] : a[i * lda + p];
        const double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        s += av * bv;
      }
      c[i * ldc + j] = alpha * s + (beta == 0 ? 0.0 : beta * c[i * ldc + j]);
    }
  }
}

struct Dims {
  int64_t m, n, k, pad;  // pad: extra columns in every leading dimension
};

template <class T>
void check_gemm(DType dt, const Dims& d, bool ta, bool tb, double alpha, double beta, double tol) {
  const int64_t a_rows = ta ? d.k : d.m, a_cols = ta ? d.m : d.k;
  const int64_t b_rows = tb ? d.n : d.k, b_cols = tb ? d.k : d.n;
  const int64_t lda = a_cols + d.pad, ldb = b_cols + d.pad, ldc = d.n + d.pad;
  const std::vector<T> a = testing::random_vector<T>(a_rows * lda, 81, -1.0, 1.0);
  const std::vector<T> b = testing::random_vector<T>(b_rows * ldb, 82, -1.0, 1.0);
  std::vector<T> c = testing::random_vector<T>(std::max<int64_t>(d.m * ldc, 1), 83, -1.0, 1.0);
  if (beta == 0) {
    for (auto& x : c) x = std::numeric_limits<T>::quiet_NaN();  // must not be read
  }
  std::vector<double> want(c.begin(), c.end());
  naive_gemm(ta, tb, d.m, d.n, d.k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  const std::vector<T> c_before = c;
  cpu::cpu_backend.gemm(dt, ta, tb, d.m, d.n, d.k, alpha, a.data(), lda, b.data(), ldb, beta,
                        c.data(), ldc);
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const int64_t x = i * ldc + j;
      if (j >= d.n) {  // padding untouched
        if (beta == 0) {
          ASSERT_TRUE(std::isnan(c[x]));
        } else {
          ASSERT_EQ(c[x], c_before[x]);
        }
        continue;
      }
      ASSERT_NEAR(c[x], want[x], tol * (1 + std::sqrt(double(d.k))))
          << dtype_name(dt) << " ta " << ta << " tb " << tb << " m,n,k " << d.m << "," << d.n << ","
          << d.k << " at " << i << "," << j;
    }
  }
}

const std::vector<Dims> kDims = {{1, 1, 1, 0},   {3, 5, 7, 0},    {17, 9, 33, 3},
                                 {64, 65, 1, 1}, {2, 300, 40, 0}, {1, 7, 20, 2}};

TEST(Gemm, Float32AllTransposes) {
  for (const Dims& d : kDims)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm<float>(kFloat32, d, ta, tb, 1.0, 0.0, 1e-5);
        check_gemm<float>(kFloat32, d, ta, tb, -0.5, 2.0, 1e-5);
      }
}

TEST(Gemm, Float64AllTransposesAcrossBlocks) {
  std::vector<Dims> dims = kDims;
  dims.push_back({70, 530, 260, 5});  // past the 64-row, 512-column and 256-deep blocks
  for (const Dims& d : dims)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm<double>(kFloat64, d, ta, tb, 1.0, 0.0, 1e-13);
        check_gemm<double>(kFloat64, d, ta, tb, 0.75, -1.5, 1e-13);
      }
}

TEST(Gemm, Float32Large) {
  check_gemm<float>(kFloat32, {200, 150, 300, 0}, false, true, 1.0, 1.0, 1e-5);
}

TEST(Gemm, KZeroScalesC) {
  for (DType dt : {kFloat32, kFloat64}) {
    std::vector<double> cd = {1, 2, 3, 4, 5, 6};
    std::vector<float> cf(cd.begin(), cd.end());
    void* c = dt == kFloat32 ? (void*)cf.data() : (void*)cd.data();
    cpu::cpu_backend.gemm(dt, false, false, 2, 3, 0, 1.0, nullptr, 1, nullptr, 3, 0.5, c, 3);
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(dt == kFloat32 ? double(cf[i]) : cd[i], 0.5 * (i + 1));
    }
    // beta == 0 clears even NaN.
    for (auto& x : cf) x = NAN;
    for (auto& x : cd) x = NAN;
    cpu::cpu_backend.gemm(dt, true, true, 2, 3, 0, 1.0, nullptr, 1, nullptr, 3, 0.0, c, 3);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(dt == kFloat32 ? double(cf[i]) : cd[i], 0.0);
  }
  float x = 0;
  EXPECT_THROW(cpu::cpu_backend.gemm(kInt64, false, false, 1, 1, 1, 1, &x, 1, &x, 1, 0, &x, 1),
               DTypeError);
}

TEST(Gemm, BatchedWithSharedOperand) {
  const int64_t batch = 3, m = 4, n = 5, k = 6;
  for (DType dt : {kFloat32, kFloat64}) {
    const std::vector<double> ad = testing::random_vector<double>(batch * m * k, 91);
    const std::vector<double> bd = testing::random_vector<double>(k * n, 92);  // shared
    std::vector<double> cd(batch * m * n, 0.0);
    std::vector<float> af(ad.begin(), ad.end()), bf(bd.begin(), bd.end()), cf(cd.size());
    if (dt == kFloat32) {
      cpu::cpu_backend.gemm_batched(dt, false, false, m, n, k, 1.0, af.data(), k, m * k, bf.data(),
                                    n, 0, 0.0, cf.data(), n, m * n, batch);
    } else {
      cpu::cpu_backend.gemm_batched(dt, false, false, m, n, k, 1.0, ad.data(), k, m * k, bd.data(),
                                    n, 0, 0.0, cd.data(), n, m * n, batch);
    }
    for (int64_t bi = 0; bi < batch; ++bi) {
      std::vector<double> want(m * n);
      naive_gemm(false, false, m, n, k, 1.0, ad.data() + bi * m * k, k, bd.data(), n, 0.0,
                 want.data(), n);
      for (int64_t x = 0; x < m * n; ++x) {
        const double got = dt == kFloat32 ? double(cf[bi * m * n + x]) : cd[bi * m * n + x];
        ASSERT_NEAR(got, want[x], 1e-5) << dtype_name(dt) << " batch " << bi;
      }
    }
  }
}

// Column-major reference: C(m x n, ldc) = op(A) op(B), element (i, j) at i + j * ld.
void naive_col_major(const ColMajorGemm<double>& g) {
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double av = g.trans_a ? g.a[p + i * g.lda] : g.a[i + p * g.lda];
        const double bv = g.trans_b ? g.b[j + p * g.ldb] : g.b[p + j * g.ldb];
        s += av * bv;
      }
      g.c[i + j * g.ldc] = s;
    }
}

TEST(GemmArgs, RowMajorCallThroughColumnMajorMapping) {
  const int64_t m = 3, n = 4, k = 5, pad = 2;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
      const std::vector<double> a = testing::random_vector<double>((ta ? k : m) * lda, 1);
      const std::vector<double> b = testing::random_vector<double>((tb ? n : k) * ldb, 2);
      std::vector<double> c(m * ldc, 0.0), want(m * ldc, 0.0);
      naive_gemm(ta, tb, m, n, k, 1.0, a.data(), lda, b.data(), ldb, 0.0, want.data(), ldc);
      naive_col_major(col_major_gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          ASSERT_NEAR(c[i * ldc + j], want[i * ldc + j], 1e-14) << ta << tb;
    }
}

TEST(Gemm, BackendName) {
  const std::string name = cpu::gemm_backend_name();
  EXPECT_TRUE(name == "oneDNN" || name == "OpenBLAS" || name == "reference") << name;
}

}  // namespace
}  // namespace ember::kernels
