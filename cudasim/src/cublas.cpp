// cudasim cuBLAS: SGEMM / DGEMM and their strided-batched forms, and cuBLASLt's float32 matmul
// with the bias epilogue, on the CPU, in cuBLAS's
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
#include <cstring>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#if defined(CUDASIM_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.h>
#else
#include <cblas.h>
#endif

#include "cublasLt.h"
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
  if (std::is_same_v<T, float> &&
      (handle->math_mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION) ==
          CUBLAS_TF32_TENSOR_OP_MATH)
    ++mutable_counters().tf32_gemms;
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

// ---------------------------------------------------------------------------------------
// cuBLASLt (cublasLt.h): one matmul through descriptors, float32 only, with the bias
// epilogue. Validated as cuBLASLt does (layouts that do not fit the product are
// CUBLAS_STATUS_INVALID_VALUE), then the same checks and CPU GEMM as cublasSgemm.

struct cublasLtContext {
  int device = 0;
};

struct cublasLtMatmulDescOpaque_t {
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  cudaDataType_t scale = CUDA_R_32F;
  cublasOperation_t trans_a = CUBLAS_OP_N;
  cublasOperation_t trans_b = CUBLAS_OP_N;
  uint32_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  cudaDataType_t bias_type = CUDA_R_32F;
};

struct cublasLtMatrixLayoutOpaque_t {
  cudaDataType_t type = CUDA_R_32F;
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0;
};

namespace {

struct LtObjects {
  std::set<const void*> live;  // handles, descriptors and layouts
};

LtObjects& lt_objects() {
  static auto* o = new LtObjects;
  return *o;
}

bool lt_live(const void* p) {
  return p != nullptr && lt_objects().live.count(p) != 0;
}

template <class T>
cublasStatus_t lt_create(T** out, const char* api) {
  if (out == nullptr) return fail(CUBLAS_STATUS_INVALID_VALUE, strprintf("%s: null", api));
  *out = new T;
  lt_objects().live.insert(*out);
  return CUBLAS_STATUS_SUCCESS;
}

template <class T>
cublasStatus_t lt_destroy(T* p, const char* api) {
  if (!lt_live(p)) return fail(CUBLAS_STATUS_INVALID_VALUE, strprintf("%s: not live", api));
  lt_objects().live.erase(p);
  delete p;
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
  ApiLock lock(api_mutex());
  const cublasStatus_t s = lt_create(handle, "cublasLtCreate");
  if (s == CUBLAS_STATUS_SUCCESS) {
    (*handle)->device = current_device();
    touch_context((*handle)->device);
  }
  return s;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
  ApiLock lock(api_mutex());
  return lt_destroy(handle, "cublasLtDestroy");
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc,
                                        cublasComputeType_t compute_type,
                                        cudaDataType_t scale_type) {
  ApiLock lock(api_mutex());
  const cublasStatus_t s = lt_create(desc, "cublasLtMatmulDescCreate");
  if (s == CUBLAS_STATUS_SUCCESS) {
    (*desc)->compute = compute_type;
    (*desc)->scale = scale_type;
  }
  return s;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
  ApiLock lock(api_mutex());
  return lt_destroy(desc, "cublasLtMatmulDescDestroy");
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc,
                                              cublasLtMatmulDescAttributes_t attr, const void* buf,
                                              size_t size) {
  ApiLock lock(api_mutex());
  if (!lt_live(desc) || buf == nullptr) {
    return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulDescSetAttribute: bad descriptor");
  }
  auto read = [&](auto& field) {
    if (size != sizeof(field)) return false;
    std::memcpy(&field, buf, size);
    return true;
  };
  bool ok = false;
  int32_t op = 0;
  switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
      ok = read(op) && valid_op(static_cast<cublasOperation_t>(op));
      if (ok) desc->trans_a = static_cast<cublasOperation_t>(op);
      break;
    case CUBLASLT_MATMUL_DESC_TRANSB:
      ok = read(op) && valid_op(static_cast<cublasOperation_t>(op));
      if (ok) desc->trans_b = static_cast<cublasOperation_t>(op);
      break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
      ok = read(desc->epilogue);
      break;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
      ok = read(desc->bias);
      break;
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE:
      ok = read(desc->bias_type);
      break;
    default:
      return fail(CUBLAS_STATUS_NOT_SUPPORTED,
                  strprintf("cublasLtMatmulDescSetAttribute: attribute %d is not simulated",
                            static_cast<int>(attr)));
  }
  if (!ok) {
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                strprintf("cublasLtMatmulDescSetAttribute: bad value or size %zu for attribute %d",
                          size, static_cast<int>(attr)));
  }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType type,
                                          uint64_t rows, uint64_t cols, int64_t ld) {
  ApiLock lock(api_mutex());
  if (ld < static_cast<int64_t>(rows > 1 ? rows : 1)) {
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                strprintf("cublasLtMatrixLayoutCreate: ld %lld < rows %llu",
                          static_cast<long long>(ld), static_cast<unsigned long long>(rows)));
  }
  const cublasStatus_t s = lt_create(layout, "cublasLtMatrixLayoutCreate");
  if (s == CUBLAS_STATUS_SUCCESS) **layout = cublasLtMatrixLayoutOpaque_t{type, rows, cols, ld};
  return s;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
  ApiLock lock(api_mutex());
  return lt_destroy(layout, "cublasLtMatrixLayoutDestroy");
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha,
                              const void* A, cublasLtMatrixLayout_t Adesc, const void* B,
                              cublasLtMatrixLayout_t Bdesc, const void* beta, const void* C,
                              cublasLtMatrixLayout_t Cdesc, void* D, cublasLtMatrixLayout_t Ddesc,
                              const cublasLtMatmulAlgo_t* algo, void* workspace,
                              size_t workspace_size, cudaStream_t stream) {
  ApiLock lock(api_mutex());
  constexpr const char* api = "cublasLtMatmul";
  if (!lt_live(handle)) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtMatmul: bad handle");
  if (!lt_live(desc) || !lt_live(Adesc) || !lt_live(Bdesc) || !lt_live(Cdesc) || !lt_live(Ddesc) ||
      alpha == nullptr || beta == nullptr) {
    return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmul: a descriptor, alpha or beta is bad");
  }
  const bool bias = desc->epilogue == CUBLASLT_EPILOGUE_BIAS;
  const bool fp32_compute =
      desc->compute == CUBLAS_COMPUTE_32F || desc->compute == CUBLAS_COMPUTE_32F_FAST_TF32;
  if (!fp32_compute || desc->scale != CUDA_R_32F || algo != nullptr ||
      (desc->epilogue != CUBLASLT_EPILOGUE_DEFAULT && !bias) ||
      (bias && desc->bias_type != CUDA_R_32F)) {
    return fail(CUBLAS_STATUS_NOT_SUPPORTED,
                strprintf("cublasLtMatmul: cudasim computes only CUBLAS_COMPUTE_32F with float "
                          "scales, no explicit algo, and the DEFAULT or BIAS epilogue (got compute "
                          "%d, epilogue %u)",
                          static_cast<int>(desc->compute), desc->epilogue));
  }
  for (const cublasLtMatrixLayoutOpaque_t* l : {Adesc, Bdesc, Cdesc, Ddesc}) {
    if (l->type != CUDA_R_32F) {
      return fail(CUBLAS_STATUS_NOT_SUPPORTED, "cublasLtMatmul: cudasim computes float32 only");
    }
  }
  const bool ta = desc->trans_a != CUBLAS_OP_N, tb = desc->trans_b != CUBLAS_OP_N;
  const uint64_t m = Ddesc->rows, n = Ddesc->cols;
  const uint64_t k = ta ? Adesc->rows : Adesc->cols;
  const uint64_t a_m = ta ? Adesc->cols : Adesc->rows;
  const uint64_t b_k = tb ? Bdesc->cols : Bdesc->rows, b_n = tb ? Bdesc->rows : Bdesc->cols;
  if (a_m != m || b_k != k || b_n != n || Cdesc->rows != m || Cdesc->cols != n ||
      (C != D && Cdesc->ld != Ddesc->ld)) {
    return fail(
        CUBLAS_STATUS_INVALID_VALUE,
        strprintf("cublasLtMatmul: layouts do not fit: op(A) %llux%llu, op(B) %llux%llu, "
                  "C %llux%llu, D %llux%llu",
                  static_cast<unsigned long long>(a_m), static_cast<unsigned long long>(k),
                  static_cast<unsigned long long>(b_k), static_cast<unsigned long long>(b_n),
                  static_cast<unsigned long long>(Cdesc->rows),
                  static_cast<unsigned long long>(Cdesc->cols), static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(n)));
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (workspace_size > 0 && classify(workspace) != Space::kDevice) {
    return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmul: the workspace is not device memory");
  }
  const float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
  const bool reads_ab = k > 0 && al != 0.0f;
  const auto* a = static_cast<const float*>(A);
  const auto* b = static_cast<const float*>(B);
  const auto* c = static_cast<const float*>(C);
  auto* d = static_cast<float*>(D);
  const auto* bias_p = static_cast<const float*>(desc->bias);
  const long long lm = static_cast<long long>(m), ln = static_cast<long long>(n),
                  lk = static_cast<long long>(k);
  const Extent ea = extent(Adesc->rows, Adesc->cols, Adesc->ld, 0, 1);
  const Extent eb = extent(Bdesc->rows, Bdesc->cols, Bdesc->ld, 0, 1);
  const Extent ed = extent(lm, ln, Ddesc->ld, 0, 1);
  std::string why = check_operand("D", d, ed);
  if (why.empty() && be != 0.0f && C != D) why = check_operand("C", c, ed);
  if (why.empty() && reads_ab) why = check_operand("A", a, ea);
  if (why.empty() && reads_ab) why = check_operand("B", b, eb);
  if (why.empty() && bias) why = check_operand("bias", bias_p, Extent{0, lm});
  const int device = handle->device;
  for (const void* p : {static_cast<const void*>(d), static_cast<const void*>(a),
                        static_cast<const void*>(b), static_cast<const void*>(bias_p)}) {
    if (why.empty() && p != nullptr && classify(p) == Space::kDevice && device_of(p) != device) {
      why = strprintf("%p is memory of device %d, the handle works on device %d", p, device_of(p),
                      device);
    }
  }
  if (why.empty() && stream_device(stream) != device) {
    why = strprintf("the stream belongs to device %d, the handle to device %d",
                    stream_device(stream), device);
  }
  if (!why.empty()) return fail(CUBLAS_STATUS_EXECUTION_FAILED, strprintf("%s: ", api) + why);
  ++mutable_counters().cublas_calls;
  if (desc->compute == CUBLAS_COMPUTE_32F_FAST_TF32) ++mutable_counters().tf32_gemms;
  const int ilda = static_cast<int>(Adesc->ld), ildb = static_cast<int>(Bdesc->ld),
            ildd = static_cast<int>(Ddesc->ld);
  (void)submit(stream, [=] {
    if (be != 0.0f && C != D) {
      DeviceAccess access(DeviceAccess::kDevice, device);
      for (long long j = 0; j < ln; ++j)
        std::memcpy(d + j * ildd, c + j * ildd, static_cast<size_t>(lm) * sizeof(float));
    }
    run_gemm<float>(ta, tb, static_cast<int>(lm), static_cast<int>(ln), static_cast<int>(lk), al, a,
                    ilda, 0, ea, b, ildb, 0, eb, be, d, ildd, 0, ed, 1, reads_ab, device);
    if (bias) {
      DeviceAccess access(DeviceAccess::kDevice, device);
      for (long long j = 0; j < ln; ++j)
        for (long long i = 0; i < lm; ++i) d[j * ildd + i] += bias_p[i];
    }
    return Outcome{};
  });
  return CUBLAS_STATUS_SUCCESS;
}
