// CUDA dropout (kernels/cuda/dropout.h). Thread g handles Philox block g of
// kernels/common/dropout_block.h, the CPU loop's block too, so the mask is bit-identical to
// the CPU kernel's for every dtype.
#include <ember/kernels/cuda/dropout.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/dropout_block.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

// y may alias x (dropout_block reads each element before writing it).
template <class T>
__global__ void dropout_kernel(const T* x, T* y, bool* mask, int64_t n, float p, T scale,
                               uint64_t seed, uint64_t offset) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t g = global_thread_index(); g < blocks; g += grid_stride()) {
    dropout_block(x, y, mask, n, p, scale, seed, offset, g);
  }
}

template <class T>
void dropout_typed(const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
                   uint64_t offset, void* stream) {
  if (n <= 0) return;
  // Both narrowed on the host exactly as the CPU kernel narrows them.
  const float pf = static_cast<float>(p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  launch("dropout", dropout_kernel<T>, grid_for((n + 3) / 4), dim3(kBlockSize), 0,
         as_stream(stream), static_cast<const T*>(x), static_cast<T*>(y), mask, n, pf, scale, seed,
         offset);
}

}  // namespace

void dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p, uint64_t seed,
             uint64_t offset, void* stream) {
  EMBER_CHECK(p >= 0.0 && p < 1.0, ValueError, "kernels::cuda::dropout: p must be in [0, 1), got ",
              p);
  if (dt == DType::Float32) {
    dropout_typed<float>(x, y, mask, n, p, seed, offset, stream);
  } else if (dt == DType::Float64) {
    dropout_typed<double>(x, y, mask, n, p, seed, offset, stream);
  } else {
    throw DTypeError(::ember::detail::str_cat("kernels::cuda::dropout: unsupported dtype ",
                                              dtype_name(dt), " (float32 or float64 only)"));
  }
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::dropout(DType dt, const void* x, void* y, bool* mask, int64_t n, double p,
                          uint64_t seed, uint64_t offset) {
  refuse_during_capture("random numbers (dropout)", "draw them outside the captured work");
  ensure_device(device_);
  cuda::dropout(dt, x, y, mask, n, p, seed, offset, stream_);
}

}  // namespace ember::kernels::cuda
