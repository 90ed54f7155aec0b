// CUDA GEMM through cuBLAS: the row-major call is mapped once, by kernels/common/gemm_args.h,
// onto cuBLAS's column-major convention (A and B swapped, m and n swapped). float32 goes to
// cublasSgemm / cublasSgemmStridedBatched and float64 to cublasDgemm /
// cublasDgemmStridedBatched (cudasim provides both).
//
// cuBLAS keeps its default math mode unless TF32 is allowed (set_allow_tf32, off by default):
// FP32 results, no TF32 tensor-op shortcuts, so a GPU matmul matches the CPU's to float32
// rounding, which the tests rely on.
#include <ember/kernels/cuda/gemm.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

#include <ember/kernels/common/dispatch.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/common/gemm_args.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/counters.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

// One cuBLAS handle per device, created on first use with that device current, and kept for
// the life of the process (destroying it at exit would race the runtime's teardown).
struct Handles {
  std::mutex mutex;
  std::array<cublasHandle_t, 64> handle{};
  std::array<cudaStream_t, 64> stream{};  // the stream each handle is set to
  std::array<bool, 64> tf32{};            // the math mode each handle is set to
};

std::atomic<bool> g_allow_tf32{false};

cublasHandle_t handle_for_current_device(cudaStream_t stream) {
  static auto* handles = new Handles;
  int device = 0;
  EMBER_CUDA_CHECK(cudaGetDevice(&device));
  EMBER_CHECK(device >= 0 && device < static_cast<int>(handles->handle.size()), DeviceError,
              "gemm: CUDA device ", device, " is out of range");
  std::lock_guard<std::mutex> lock(handles->mutex);
  cublasHandle_t& h = handles->handle[device];
  if (h == nullptr) EMBER_CUBLAS_CHECK(cublasCreate(&h));
  // Once per handle (ember queues a device's work on one stream): cublasSetStream also resets
  // the handle's workspace, which is no per-call cost to pay.
  if (handles->stream[device] != stream || stream == nullptr) {
    EMBER_CUBLAS_CHECK(cublasSetStream(h, stream));
    handles->stream[device] = stream;
  }
  const bool tf32 = g_allow_tf32.load(std::memory_order_relaxed);
  if (handles->tf32[device] != tf32) {
    EMBER_CUBLAS_CHECK(
        cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    handles->tf32[device] = tf32;
  }
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
      detail::count(detail::Counter::kLibraryCalls);
      EMBER_CUBLAS_CHECK(cublasSgemm(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al, g.a, glda,
                                     g.b, gldb, &be, g.c, gldc));
    } else {
      detail::count(detail::Counter::kLibraryCalls);
      EMBER_CUBLAS_CHECK(cublasSgemmStridedBatched(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al,
                                                   g.a, glda, stride_ga, g.b, gldb, stride_gb, &be,
                                                   g.c, gldc, sc, static_cast<int>(batch)));
    }
  } else {
    if (batch == 1) {
      detail::count(detail::Counter::kLibraryCalls);
      EMBER_CUBLAS_CHECK(cublasDgemm(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al, g.a, glda,
                                     g.b, gldb, &be, g.c, gldc));
    } else {
      detail::count(detail::Counter::kLibraryCalls);
      EMBER_CUBLAS_CHECK(cublasDgemmStridedBatched(h, op(g.trans_a), op(g.trans_b), gm, gn, gk, &al,
                                                   g.a, glda, stride_ga, g.b, gldb, stride_gb, &be,
                                                   g.c, gldc, sc, static_cast<int>(batch)));
    }
  }
}

// One cuBLASLt handle per device, as for cuBLAS.
cublasLtHandle_t lt_handle_for_current_device() {
  static auto* handles = new std::array<cublasLtHandle_t, 64>{};
  static std::mutex mutex;
  int device = 0;
  EMBER_CUDA_CHECK(cudaGetDevice(&device));
  EMBER_CHECK(device >= 0 && device < static_cast<int>(handles->size()), DeviceError,
              "gemm_bias: CUDA device ", device, " is out of range");
  std::lock_guard<std::mutex> lock(mutex);
  cublasLtHandle_t& h = (*handles)[device];
  if (h == nullptr) EMBER_CUBLAS_CHECK(cublasLtCreate(&h));
  return h;
}

// The descriptors of one matmul, destroyed with it (they are host objects, a few microseconds
// to make).
struct LtMatmul {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  ~LtMatmul() {
    for (cublasLtMatrixLayout_t l : {a, b, c})
      if (l != nullptr) (void)cublasLtMatrixLayoutDestroy(l);
    if (desc != nullptr) (void)cublasLtMatmulDescDestroy(desc);
  }
};

// The column-major D = op(A) op(B) + bias (bias per row of D) of g, through cuBLASLt's bias
// epilogue: no separate pass to put the bias in place. No workspace: the call then needs no
// memory of its own, which keeps it capturable in a CUDA graph.
void lt_gemm_bias(const ColMajorGemm<float>& g, const float* bias, cudaStream_t stream) {
  LtMatmul mm;
  const cublasComputeType_t compute = g_allow_tf32.load(std::memory_order_relaxed)
                                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F;
  EMBER_CUBLAS_CHECK(cublasLtMatmulDescCreate(&mm.desc, compute, CUDA_R_32F));
  const int32_t ta = op(g.trans_a), tb = op(g.trans_b);
  const uint32_t epilogue = CUBLASLT_EPILOGUE_BIAS;
  EMBER_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(mm.desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  EMBER_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(mm.desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  EMBER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(mm.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                    &epilogue, sizeof(epilogue)));
  EMBER_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(mm.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                    &bias, sizeof(bias)));
  const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&mm.a, CUDA_R_32F, u(g.trans_a ? g.k : g.m),
                                                u(g.trans_a ? g.m : g.k), g.lda));
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&mm.b, CUDA_R_32F, u(g.trans_b ? g.n : g.k),
                                                u(g.trans_b ? g.k : g.n), g.ldb));
  EMBER_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&mm.c, CUDA_R_32F, u(g.m), u(g.n), g.ldc));
  const float one = 1.0f, zero = 0.0f;
  detail::count(detail::Counter::kLibraryCalls);
  EMBER_CUBLAS_CHECK(cublasLtMatmul(lt_handle_for_current_device(), mm.desc, &one, g.a, mm.a, g.b,
                                    mm.b, &zero, g.c, mm.c, g.c, mm.c, nullptr, nullptr, 0,
                                    stream));
}

// Row-major c[i, j] = bias[j] (for the GEMM to accumulate onto).
template <class T>
__global__ void fill_rows_kernel(T* c, int64_t m, int64_t n, int64_t ldc, const T* bias) {
  for (int64_t i = global_thread_index(); i < m * n; i += grid_stride())
    c[(i / n) * ldc + i % n] = bias[i % n];
}

}  // namespace

void gemm_bias(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const void* a,
               int64_t lda, const void* b, int64_t ldb, const void* bias, void* c, int64_t ldc,
               void* stream) {
  if (m <= 0 || n <= 0) return;
  const auto s = static_cast<cudaStream_t>(stream);
  if (dt == DType::Float32 && k > 0) {
    const std::pair<const char*, int64_t> dims[] = {{"m", m},     {"n", n},     {"k", k},
                                                    {"lda", lda}, {"ldb", ldb}, {"ldc", ldc}};
    for (const auto& [what, v] : dims) check_int(what, v);
    lt_gemm_bias(col_major_gemm(trans_a, trans_b, m, n, k, static_cast<const float*>(a), lda,
                                static_cast<const float*>(b), ldb, static_cast<float*>(c), ldc),
                 static_cast<const float*>(bias), s);
    return;
  }
  dispatch_floating("cuda", "gemm_bias", dt, [&](auto tag) {
    using T = decltype(tag);
    launch("gemm_bias_rows", fill_rows_kernel<T>, grid_for(m * n), dim3(kBlockSize), 0, s,
           static_cast<T*>(c), m, n, ldc, static_cast<const T*>(bias));
  });
  gemm(dt, trans_a, trans_b, m, n, k, 1.0, a, lda, b, ldb, 1.0, c, ldc, stream);
}

void set_allow_tf32(bool on) {
  g_allow_tf32.store(on, std::memory_order_relaxed);
}

bool allow_tf32() {
  return g_allow_tf32.load(std::memory_order_relaxed);
}

void prepare_for_capture(void* stream) {
  (void)handle_for_current_device(static_cast<cudaStream_t>(stream));
  (void)lt_handle_for_current_device();
}

void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
          void* stream) {
  dispatch_floating("cuda", "gemm", dt, [&](auto tag) {
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
  dispatch_floating("cuda", "gemm_batched", dt, [&](auto tag) {
    using T = decltype(tag);
    gemm_typed<T>(trans_a, trans_b, m, n, k, alpha, static_cast<const T*>(a), lda, stride_a,
                  static_cast<const T*>(b), ldb, stride_b, beta, static_cast<T*>(c), ldc, stride_c,
                  batch, static_cast<cudaStream_t>(stream));
  });
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                       double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                       double beta, void* c, int64_t ldc) {
  ensure_device(device_);
  cuda::gemm(dt, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, stream_);
}

void CudaBackend::gemm_bias(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            const void* a, int64_t lda, const void* b, int64_t ldb,
                            const void* bias, void* c, int64_t ldc) {
  ensure_device(device_);
  cuda::gemm_bias(dt, trans_a, trans_b, m, n, k, a, lda, b, ldb, bias, c, ldc, stream_);
}

void CudaBackend::gemm_batched(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n,
                               int64_t k, double alpha, const void* a, int64_t lda,
                               int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b,
                               double beta, void* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  ensure_device(device_);
  cuda::gemm_batched(dt, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta,
                     c, ldc, stride_c, batch, stream_);
}

}  // namespace ember::kernels::cuda
