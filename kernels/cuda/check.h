// One check macro for every CUDA library (the ggml CUDA_CHECK_GEN idea): a failing runtime or
// cuBLAS call throws ember::CudaError whose message has file:line, the expression, the
// status's name and its library's description. Under cudasim the simulator's explanation
// (which kernel, pointer or guard) is appended. Internal: included by kernels/cuda/*.cu only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include <ember/kernels/common/error.h>

namespace ember::kernels::cuda::detail {

// What cudasim adds to an error code; nothing on a real GPU.
inline std::string simulator_detail() {
#if defined(EMBER_CUDASIM)
  const char* detail = ::cudasim::last_error_detail();
  if (detail != nullptr && *detail != '\0') return std::string(" [cudasim: ") + detail + "]";
#endif
  return {};
}

[[noreturn]] inline void throw_check_failure(const char* file, int line, const char* expr,
                                             const char* status_name, const char* status_text) {
  // A failed call also sets the runtime's last error; clear it so the next launch check does
  // not blame the next kernel for it.
  (void)cudaGetLastError();
  throw CudaError(::ember::detail::str_cat(file, ":", line, ": ", expr, " failed: ", status_name,
                                           " (", status_text, ")", simulator_detail()));
}

}  // namespace ember::kernels::cuda::detail

// EMBER_CUDA_CHECK_GEN(expr, success, name_of, string_of): evaluates expr once and throws
// unless it equals `success`.
#define EMBER_CUDA_CHECK_GEN(expr, success, name_of, string_of)                         \
  do {                                                                                  \
    const auto ember_status_ = (expr);                                                  \
    if (ember_status_ != (success)) {                                                   \
      ::ember::kernels::cuda::detail::throw_check_failure(                              \
          __FILE__, __LINE__, #expr, name_of(ember_status_), string_of(ember_status_)); \
    }                                                                                   \
  } while (0)

#define EMBER_CUDA_CHECK(expr) \
  EMBER_CUDA_CHECK_GEN(expr, cudaSuccess, cudaGetErrorName, cudaGetErrorString)
#define EMBER_CUBLAS_CHECK(expr) \
  EMBER_CUDA_CHECK_GEN(expr, CUBLAS_STATUS_SUCCESS, cublasGetStatusName, cublasGetStatusString)
