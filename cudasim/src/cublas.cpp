// cudasim cuBLAS: SGEMM / DGEMM and their strided-batched forms on the CPU, in cuBLAS's
// column-major convention, validating arguments in cuBLAS's order and with its status codes.
// Beyond what cuBLAS checks, every matrix extent must lie in device memory (and inside a
// caching-allocator block), since a stray extent would be an illegal access on a GPU: that
// fails with CUBLAS_STATUS_EXECUTION_FAILED and cudasim::last_error_detail() says which operand.
//
// The CPU SGEMM is row-major (oneDNN's dnnl_sgemm, or CBLAS): a column-major C = op(A) op(B) is
// the row-major C^T = op(B)^T op(A)^T over the same buffers, so it is called with the operands
// swapped and m and n exchanged. oneDNN has no DGEMM, and float64 on the device serves only
// gradchecks and tests (small matrices), so DGEMM is a plain column-major loop in both builds.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#if defined(CUDASIM_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.h>
#else
#include <cblas.h>
#endif

#include "cublas_v2.h"
#include "internal.h"

struct cublasContext {
  int device = 0;  // the device current at cublasCreate, which the handle works on
  cudaStream_t stream = nullptr;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
};

namespace {

using namespace cudasim::detail;

std::set<cublasContext*>& handles() {
  static auto* h = new std::set<cublasContext*>;
  return *h;
}

bool valid(cublasHandle_t handle) {
  return handle != nullptr && handles().count(handle) != 0;
}

bool valid_op(cublasOperation_t op) {
  return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

cublasStatus_t fail(cublasStatus_t status, std::string why) {
  set_detail(std::move(why));
  return status;
}

// Elements spanned by a column-major rows x cols matrix with leading dimension ld, repeated
// `batch` times `stride` apart (stride may be negative or zero).
struct Extent {
  long long lo = 0;
  long long hi = 0;  // one past the last element
};
Extent extent(long long rows, long long cols, long long ld, long long stride, long long batch) {
  const long long one = ld * (cols - 1) + rows;
  const long long last = stride * (batch - 1);
  return Extent{last < 0 ? last : 0, (last > 0 ? last : 0) + one};
}

template <class T>
std::string check_operand(const char* name, const T* p, Extent e) {
  if (p == nullptr) return std::string(name) + " is null";
  if (classify(p) != Space::kDevice) {
    return strprintf("%s = %p is not device memory", name, static_cast<const void*>(p));
  }
  std::string why = check_device_range(p + e.lo, static_cast<size_t>(e.hi - e.lo) * sizeof(T));
  return why.empty() ? why : std::string(name) + ": " + why;
}

void cpu_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc) {
#if defined(CUDASIM_HAVE_DNNL)
  dnnl_sgemm(tb ? 'T' : 'N', ta ? 'T' : 'N', n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
#else
  cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

// Called only with k > 0 and alpha != 0 (as the SGEMM path); beta == 0 does not read C.
void cpu_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, int lda,
              const double* b, int ldb, double beta, double* c, int ldc) {
  for (long long j = 0; j < n; ++j) {
    for (long long i = 0; i < m; ++i) {
      double acc = 0;
      for (long long l = 0; l < k; ++l) {
        acc += (ta ? a[l + i * lda] : a[i + l * lda]) * (tb ? b[j + l * ldb] : b[l + j * ldb]);
      }
      double& out = c[i + j * ldc];
      out = beta == 0.0 ? alpha * acc : alpha * acc + beta * out;
    }
  }
}

// Runs a validated GEMM (see gemm) on host copies of the operands: BLAS's worker threads must
// not need access to device memory (under protection keys only the calling thread opens it).
template <class T>
void run_gemm(bool ta, bool tb, int m, int n, int k, T al, const T* A, int lda, long long stride_a,
              Extent ea, const T* B, int ldb, long long stride_b, Extent eb, T be, T* C, int ldc,
              long long stride_c, Extent ec, int batch, bool reads_ab, int device) {
  DeviceAccess access(DeviceAccess::kDevice, device);
  auto gather = [](const T* p, Extent e) { return std::vector<T>(p + e.lo, p + e.hi); };
  std::vector<T> a, b;
  std::vector<T> c = gather(C, ec);
  if (reads_ab) {
    a = gather(A, ea);
    b = gather(B, eb);
  }
  for (int i = 0; i < batch; ++i) {
    T* ci = c.data() + (stride_c * i - ec.lo);
    if (!reads_ab) {
      // C = beta * C; beta == 0 means C is not read (it may hold NaN), as in BLAS.
      for (int col = 0; col < n; ++col) {
        for (int row = 0; row < m; ++row) {
          T& v = ci[static_cast<long long>(col) * ldc + row];
          v = be == T(0) ? T(0) : be * v;
        }
      }
      continue;
    }
    cpu_gemm(ta, tb, m, n, k, al, a.data() + (stride_a * i - ea.lo), lda,
             b.data() + (stride_b * i - eb.lo), ldb, be, ci, ldc);
  }
  std::copy(c.begin(), c.end(), C + ec.lo);
}

template <class T>
cublasStatus_t gemm(const char* api, cublasHandle_t handle, cublasOperation_t transa,
                    cublasOperation_t transb, int m, int n, int k, const T* alpha, const T* A,
                    int lda, long long stride_a, const T* B, int ldb, long long stride_b,
                    const T* beta, T* C, int ldc, long long stride_c, int batch) {
  ApiLock lock(api_mutex());
  if (!valid(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, strprintf("%s: bad handle", api));
  const bool ta = transa != CUBLAS_OP_N;
  const bool tb = transb != CUBLAS_OP_N;
  const int a_rows = ta ? k : m;  // A as stored
  const int b_rows = tb ? n : k;
  if (!valid_op(transa) || !valid_op(transb) || m < 0 || n < 0 || k < 0 || batch < 0 ||
      lda < (a_rows > 1 ? a_rows : 1) || ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1)) {
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                strprintf("%s(transa=%d, transb=%d, m=%d, n=%d, k=%d, lda=%d, ldb=%d, ldc=%d, "
                          "batch=%d): invalid value (need m,n,k,batch >= 0, lda >= max(1,%d), "
                          "ldb >= max(1,%d), ldc >= max(1,m))",
                          api, transa, transb, m, n, k, lda, ldb, ldc, batch, a_rows, b_rows));
  }
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  if (alpha == nullptr || beta == nullptr) {
    return fail(CUBLAS_STATUS_INVALID_VALUE, strprintf("%s: alpha or beta is null", api));
  }
  // Host pointer mode: alpha and beta are read on the host, before device memory opens.
  const T al = *alpha;
  const T be = *beta;
  const bool reads_ab = k > 0 && al != T(0);
  const Extent ea = extent(a_rows, ta ? m : k, lda, stride_a, batch);
  const Extent eb = extent(b_rows, tb ? k : n, ldb, stride_b, batch);
  const Extent ec = extent(m, n, ldc, stride_c, batch);
  std::string why = check_operand("C", C, ec);
  if (why.empty() && reads_ab) why = check_operand("A", A, ea);
  if (why.empty() && reads_ab) why = check_operand("B", B, eb);
  const int device = handle->device;
  if (why.empty()) {
    // The handle's GPU runs the GEMM: it cannot read another device's memory.
    for (auto [name, p] :
         {std::pair<const char*, const void*>{"C", C}, std::pair<const char*, const void*>{"A", A},
          std::pair<const char*, const void*>{"B", B}}) {
      if ((name[0] == 'C' || reads_ab) && device_of(p) != device) {
        why = strprintf("%s = %p is memory of device %d, the handle works on device %d", name, p,
                        device_of(p), device);
        break;
      }
    }
  }
  if (why.empty() && stream_device(handle->stream) != device) {
    why = strprintf("the handle (device %d) is set to a stream of device %d", device,
                    stream_device(handle->stream));
  }
  if (!why.empty()) return fail(CUBLAS_STATUS_EXECUTION_FAILED, strprintf("%s: ", api) + why);

  ++mutable_counters().cublas_calls;
  (void)submit(handle->stream, [=] {
    run_gemm<T>(ta, tb, m, n, k, al, A, lda, stride_a, ea, B, ldb, stride_b, eb, be, C, ldc,
                stride_c, ec, batch, reads_ab, device);
    return Outcome{};
  });
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  ApiLock lock(api_mutex());
  if (handle == nullptr) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate: null");
  *handle = new cublasContext;
  (*handle)->device = current_device();
  touch_context((*handle)->device);
  handles().insert(*handle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  ApiLock lock(api_mutex());
  if (!valid(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasDestroy: bad handle");
  handles().erase(handle);
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  ApiLock lock(api_mutex());
  if (!valid(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetStream: bad handle");
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  ApiLock lock(api_mutex());
  if (!valid(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetStream: bad handle");
  if (stream == nullptr) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream: null");
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  ApiLock lock(api_mutex());
  if (!valid(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetMathMode: bad handle");
  const int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_TF32_TENSOR_OP_MATH) {
    return fail(CUBLAS_STATUS_INVALID_VALUE, strprintf("cublasSetMathMode: mode %d", mode));
  }
  handle->math_mode = mode;  // recorded only: the CPU computes in full FP32 whatever the mode
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  ApiLock lock(api_mutex());
  if (!valid(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetMathMode: bad handle");
  if (mode == nullptr) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetMathMode: null");
  *mode = handle->math_mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "the functionality requested requires a license";
  }
  return "unknown error";
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* A, int lda, const float* B, int ldb, const float* beta,
                           float* C, int ldc) {
  return gemm("cublasSgemm", handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C,
              ldc, 0, 1);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb,
                                         long long int strideB, const float* beta, float* C,
                                         int ldc, long long int strideC, int batchCount) {
  return gemm("cublasSgemmStridedBatched", handle, transa, transb, m, n, k, alpha, A, lda, strideA,
              B, ldb, strideB, beta, C, ldc, strideC, batchCount);
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const double* alpha,
                           const double* A, int lda, const double* B, int ldb, const double* beta,
                           double* C, int ldc) {
  return gemm("cublasDgemm", handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C,
              ldc, 0, 1);
}

cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const double* alpha, const double* A, int lda,
                                         long long int strideA, const double* B, int ldb,
                                         long long int strideB, const double* beta, double* C,
                                         int ldc, long long int strideC, int batchCount) {
  return gemm("cublasDgemmStridedBatched", handle, transa, transb, m, n, k, alpha, A, lda, strideA,
              B, ldb, strideB, beta, C, ldc, strideC, batchCount);
}
