// One check macro for every CUDA library (the ggml CUDA_CHECK_GEN idea): a failing runtime or
// cuBLAS call throws ember::CudaError whose message has file:line, the expression, the
// status's name and its library's description. Under cudasim the simulator's explanation
// (which kernel, pointer or guard) is appended. Internal: included by kernels/cuda/*.cu only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdlib>
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

// A fault of a kernel that already ran (an illegal address, a trap or assert, ...). The
// runtime reports it at the next launch or wait on the stream, so the call that sees it is not
// necessarily the one that caused it.
inline bool is_kernel_fault(cudaError_t err) {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorAssert:
    case cudaErrorLaunchFailure:
#if !defined(EMBER_CUDASIM)
    case cudaErrorLaunchTimeout:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
#endif
      return true;
    default:
      return false;
  }
}

// EMBER_CUDA_SYNC_LAUNCHES=1 (read at the first launch): wait for every kernel right after
// launching it, so a fault is reported by the launch of the kernel that caused it. For
// debugging only: it serialises the host with the GPU.
inline bool sync_launches() {
  static const bool on = [] {
    const char* env = std::getenv("EMBER_CUDA_SYNC_LAUNCHES");
    return env != nullptr && *env != '\0' && std::string(env) != "0";
  }();
  return on;
}

// What a kernel fault's message adds: where it may really come from, and how to find out.
inline std::string kernel_fault_hint(cudaError_t err) {
  if (!is_kernel_fault(err)) return {};
  return sync_launches()
             ? std::string(" (EMBER_CUDA_SYNC_LAUNCHES=1: raised by this kernel's own wait)")
             : std::string(
                   " (a kernel fault, reported at the next launch or wait: possibly from an "
                   "earlier asynchronous launch; EMBER_CUDA_SYNC_LAUNCHES=1 names the faulting "
                   "kernel)");
}

[[noreturn]] inline void throw_check_failure(const char* file, int line, const char* expr,
                                             const char* status_name, const char* status_text,
                                             std::string hint = {}) {
  // A failed call also sets the runtime's last error; clear it so the next launch check does
  // not blame the next kernel for it.
  (void)cudaGetLastError();
  throw CudaError(::ember::detail::str_cat(file, ":", line, ": ", expr, " failed: ", status_name,
                                           " (", status_text, ")", hint, simulator_detail()));
}

inline std::string check_hint(cudaError_t err) {
  return kernel_fault_hint(err);
}
inline std::string check_hint(cublasStatus_t) {
  return {};
}

}  // namespace ember::kernels::cuda::detail

// EMBER_CUDA_CHECK_GEN(expr, success, name_of, string_of): evaluates expr once and throws
// unless it equals `success`.
#define EMBER_CUDA_CHECK_GEN(expr, success, name_of, string_of)                        \
  do {                                                                                 \
    const auto ember_status_ = (expr);                                                 \
    if (ember_status_ != (success)) {                                                  \
      ::ember::kernels::cuda::detail::throw_check_failure(                             \
          __FILE__, __LINE__, #expr, name_of(ember_status_), string_of(ember_status_), \
          ::ember::kernels::cuda::detail::check_hint(ember_status_));                  \
    }                                                                                  \
  } while (0)

#define EMBER_CUDA_CHECK(expr) \
  EMBER_CUDA_CHECK_GEN(expr, cudaSuccess, cudaGetErrorName, cudaGetErrorString)
#define EMBER_CUBLAS_CHECK(expr) \
  EMBER_CUDA_CHECK_GEN(expr, CUBLAS_STATUS_SUCCESS, cublasGetStatusName, cublasGetStatusString)
