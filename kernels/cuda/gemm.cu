// CUDA GEMM through cuBLAS: the row-major call is mapped once, by kernels/common/gemm_args.h,
// onto cuBLAS's column-major convention (A and B swapped, m and n swapped). float32 goes to
// cublasSgemm / cublasSgemmStridedBatched and float64 to cublasDgemm /
// cublasDgemmStridedBatched. cudasim's cuBLAS has no double-precision GEMM yet, so under the
// simulator float64 (gradcheck and tests only, never the fast path) runs a shared-memory
// tiled kernel instead.
//
// cuBLAS keeps its default math mode: FP32 results, no TF32 tensor-op shortcuts, so a GPU
// matmul matches the CPU's to float32 rounding, which the tests rely on.
#include <ember/kernels/cuda/gemm.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <array>
#include <climits>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

#include <ember/core/error.h>
#include <ember/kernels/common/gemm_args.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/launch.h>

namespace ember::kernels::cuda {
namespace {

#if defined(EMBER_CUDASIM)
constexpr int kTile = 16;

// One kTile x kTile tile of C per block, batch entries along grid z (looping past 65535).
// Operands are read row-major directly (no column-major mapping needed by our own kernel),
// through shared-memory tiles so each element of A and B is loaded once per tile.
template <class T>
__global__ void gemm_tiled_kernel(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha,
                                  const T* a, int64_t lda, int64_t sa, const T* b, int64_t ldb,
                                  int64_t sb, T beta, T* c, int64_t ldc, int64_t sc,
                                  int64_t batch) {
  __shared__ T a_tile[kTile][kTile + 1];  // +1: no bank conflicts on the transposed reads
  __shared__ T b_tile[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kTile + ty;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + tx;
  for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
    const T* az = a + z * sa;
    const T* bz = b + z * sb;
    T acc = T(0);
    for (int64_t p0 = 0; p0 < k; p0 += kTile) {
      const int64_t pa = p0 + tx, pb = p0 + ty;
      a_tile[ty][tx] = row < m && pa < k ? (ta ? az[pa * lda + row] : az[row * lda + pa]) : T(0);
      b_tile[ty][tx] = pb < k && col < n ? (tb ? bz[col * ldb + pb] : bz[pb * ldb + col]) : T(0);
      __syncthreads();
      for (int q = 0; q < kTile; ++q) acc += a_tile[ty][q] * b_tile[q][tx];
      __syncthreads();
    }
    if (row < m && col < n) {
      T* cp = c + z * sc + row * ldc + col;
      // BLAS semantics: alpha == 0 reads neither A nor B, beta == 0 does not read C.
      const T product = alpha == T(0) ? T(0) : alpha * acc;
      *cp = beta == T(0) ? product : product + beta * *cp;
    }
  }
}

void gemm_tiled(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                int64_t lda, int64_t sa, const double* b, int64_t ldb, int64_t sb, double beta,
                double* c, int64_t ldc, int64_t sc, int64_t batch, cudaStream_t stream) {
  const int64_t tiles_x = (n + kTile - 1) / kTile, tiles_y = (m + kTile - 1) / kTile;
  EMBER_CHECK(tiles_x <= INT_MAX && tiles_y <= 65535, ValueError, "kernels::cuda::gemm: float64 ",
              m, " x ", n, " is too large for the simulator's tiled GEMM");
  const dim3 grid(static_cast<unsigned>(tiles_x), static_cast<unsigned>(tiles_y),
                  static_cast<unsigned>(batch < 65535 ? batch : 65535));
  launch("gemm_f64_tiled", gemm_tiled_kernel<double>, grid, dim3(kTile, kTile), 0, stream, ta, tb,
         m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
}
#endif

// One cuBLAS handle per device, created on first use with that device current, and kept for
// the life of the process (destroying it at exit would race the runtime's teardown).
struct Handles {
  std::mutex mutex;
  std::array<cublasHandle_t, 64> handle{};
};

cublasHandle_t handle_for_current_device(cudaStream_t stream) {
  static auto* handles = new Handles;
  int device = 0;
  EMBER_CUDA_CHECK(cudaGetDevice(&device));
  EMBER_CHECK(device >= 0 && device < static_cast<int>(handles->handle.size()), DeviceError,
              "gemm: CUDA device ", device, " is out of range");
  std::lock_guard<std::mutex> lock(handles->mutex);
  cublasHandle_t& h = handles->handle[device];
  if (h == nullptr) EMBER_CUBLAS_CHECK(cublasCreate(&h));
  // Cheap, and it keeps the handle on the stream ember queues everything else on.
  EMBER_CUBLAS_CHECK(cublasSetStream(h, stream));
  return h;
}

cublasOperation_t op(bool trans) {
  return trans ? CUBLAS_OP_T : CUBLAS_OP_N;
}

// cuBLAS takes int dimensions; larger ones would silently wrap.
void check_int(const char* what, int64_t v) {
  EMBER_CHECK(v <= INT_MAX, ValueError, "kernels::cuda::gemm: ", what, " = ", v,
              " exceeds cuBLAS's 32-bit interface");
}

template <class T>
void gemm_typed(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a,
                int64_t lda, int64_t sa, const T* b, int64_t ldb, int64_t sb, double beta, T* c,
                int64_t ldc, int64_t sc, int64_t batch, cudaStream_t stream) {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  k = k < 0 ? 0 : k;
#if defined(EMBER_CUDASIM)
  if constexpr (std::is_same_v<T, double>) {
    gemm_tiled(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch, stream);
    return;
  }
#endif
  const std::pair<const char*, int64_t> dims[] = {
      {"m", m}, {"n", n}, {"k", k}, {"lda", lda}, {"ldb", ldb}, {"ldc", ldc}, {"batch", batch}};
  for (const auto& [what, v] : dims) check_int(what, v);
  const ColMajorGemm<T> g = col_major_gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  // The mapping swaps the operands, so their batch strides swap with them.
  const long long stride_ga = sb, stride_gb = sa;
  const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
  cublasHandle_t h = handle_for_current_device(stream);
  const int gm = static_cast<int>(g.m), gn = static_cast<int>(g.n), gk = static_cast<int>(g.k);
  const int glda = static_cast<int>(g.lda), gldb = static_cast<int>(g.ldb);
  const int gldc = static_cast<int>(g.ldc);
  if constexpr (std::is_same_v<T, float>) {
    if (batch == 1) {
      EMBER_CUBLAS_CHECK(cublasSgemm(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al, g.a, glda,
                                     g.b, gldb, &be, g.c, gldc));
    } else {
      EMBER_CUBLAS_CHECK(cublasSgemmStridedBatched(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al,
                                                   g.a, glda, stride_ga, g.b, gldb, stride_gb, &be,
                                                   g.c, gldc, sc, static_cast<int>(batch)));
    }
  } else {
#if !defined(EMBER_CUDASIM)
    if (batch == 1) {
      EMBER_CUBLAS_CHECK(cublasDgemm(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al, g.a, glda,
                                     g.b, gldb, &be, g.c, gldc));
    } else {
      EMBER_CUBLAS_CHECK(cublasDgemmStridedBatched(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al,
                                                   g.a, glda, stride_ga, g.b, gldb, stride_gb, &be,
                                                   g.c, gldc, sc, static_cast<int>(batch)));
    }
#endif
  }
}

template <class F>
void dispatch(const char* name, DType dt, F&& f) {
  switch (dt) {
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      return f(double{});
    default:
      throw DTypeError(::ember::detail::str_cat("kernels::cuda::", name, ": unsupported dtype ",
                                                dtype_name(dt), " (float32 or float64 only)"));
  }
}

}  // namespace

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
          void* stream) {
  dispatch("gemm", dt, [&](auto tag) {
    using T = decltype(tag);
    gemm_typed<T>(trans_a, trans_b, m, n, k, alpha, static_cast<const T*>(a), lda, 0,
                  static_cast<const T*>(b), ldb, 0, beta, static_cast<T*>(c), ldc, 0, 1,
                  static_cast<cudaStream_t>(stream));
  });
}

void gemm_batched(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  double alpha, const void* a, int64_t lda, int64_t stride_a, const void* b,
                  int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc,
                  int64_t stride_c, int64_t batch, void* stream) {
  dispatch("gemm_batched", dt, [&](auto tag) {
    using T = decltype(tag);
    gemm_typed<T>(trans_a, trans_b, m, n, k, alpha, static_cast<const T*>(a), lda, stride_a,
                  static_cast<const T*>(b), ldb, stride_b, beta, static_cast<T*>(c), ldc, stride_c,
                  batch, static_cast<cudaStream_t>(stream));
  });
}

}  // namespace ember::kernels::cuda
