// The one way ember launches a kernel. Under nvcc `launch(...)` is `kernel<<<grid, block, smem,
// stream>>>(args...)` followed by a cudaGetLastError check; under cudasim it runs the
// simulator. Either way an invalid configuration (more than 1024 threads, a zero-sized grid or
// block, dimensions over the limits, too much dynamic shared memory) or a failed kernel throws
// ember::CudaError naming the kernel and its configuration. The runtime (real or simulated)
// does the validating, so the rules are exactly the runtime's. A kernel fault (an illegal
// address, ...) surfaces at a later launch or wait; its message says so, and with
// EMBER_CUDA_SYNC_LAUNCHES=1 every launch waits for its kernel, so the fault names the kernel
// that caused it (check.h).
//
// Internal: included by kernels/cuda/*.cu only (the <<<>>> syntax needs nvcc).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cuda/check.h>
#include <ember/kernels/cuda/counters.h>

namespace ember::kernels::cuda {

namespace detail {

[[noreturn]] inline void throw_launch_failure(const char* name, cudaError_t err, dim3 grid,
                                              dim3 block, size_t smem) {
  throw CudaError(::ember::detail::str_cat(
      "CUDA kernel '", name, "' (grid (", grid.x, ",", grid.y, ",", grid.z, "), block (", block.x,
      ",", block.y, ",", block.z, "), ", smem,
      " bytes of dynamic shared memory) failed: ", cudaGetErrorName(err), " (",
      cudaGetErrorString(err), ")", kernel_fault_hint(err), simulator_detail()));
}

}  // namespace detail

// The block's dynamic shared memory (the `smem` bytes given to launch), viewed as T[].
#if defined(EMBER_CUDASIM)
template <typename T>
inline T* dynamic_smem() {
  return static_cast<T*>(::cudasim::detail::dynamic_shared_memory());
}
#else
template <typename T>
__device__ __forceinline__ T* dynamic_smem() {
  extern __shared__ __align__(16) unsigned char ember_dynamic_smem[];
  return reinterpret_cast<T*>(ember_dynamic_smem);
}
#endif

// Calls f(std::integral_constant<int, kBlock>) with a block size fitted to rows of length r,
// for kernels that give one block to a row (softmax, the losses, the norms): a warp for short
// rows (10 classes should not idle 500 threads), more threads for long ones.
template <class F>
void with_row_block(int64_t r, F&& f) {
  if (r <= 64) {
    f(std::integral_constant<int, 32>{});
  } else if (r <= 4096) {
    f(std::integral_constant<int, 128>{});
  } else {
    f(std::integral_constant<int, 512>{});
  }
}

template <typename... Params, typename... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem,
            cudaStream_t stream, Args... args) {
#if defined(EMBER_CUDASIM)
  // By value: in cudasim's deferred mode the kernel runs after launch returns.
  ::cudasim::launch(name, grid, block, smem, stream, [=] { kernel(args...); });
#else
  // clang-format off
  kernel<<<grid, block, smem, stream>>>(args...);
  // clang-format on
#endif
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) detail::count(detail::Counter::kKernelLaunches);
  if (err == cudaSuccess && detail::sync_launches()) {
    // Not while the stream is being captured: nothing has run, and the wait would break it.
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream, &capture) == cudaSuccess &&
        capture == cudaStreamCaptureStatusNone)
      err = cudaStreamSynchronize(stream);
  }
  if (err != cudaSuccess) detail::throw_launch_failure(name, err, grid, block, smem);
}

}  // namespace ember::kernels::cuda
