// CUDA random fills (kernels/cuda/random.h). All the numerics (Philox, bits -> uniform,
// Box-Muller, the randint mapping) live in kernels/common/philox.h and are shared with the
// CPU kernels; this file only assigns Philox blocks to threads: thread g computes block
// offset + g and stores elements 4g .. 4g + 3, exactly the CPU's mapping, so any grid yields
// the same values.
#include <ember/kernels/cuda/random.h>
#include <ember/kernels/cuda/backend.h>
#include <ember/kernels/cuda/memory.h>

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include <ember/kernels/common/error.h>
#include <ember/kernels/common/philox.h>
#include <ember/kernels/cuda/launch.h>
#include <ember/kernels/cuda/loops.h>

namespace ember::kernels::cuda {
namespace {

// One Philox block's four values, per distribution.
template <class T>
struct UniformGen {
  T low, high;
  EMBER_HD void operator()(uint64_t seed, uint64_t counter, T out[4]) const {
    philox_uniform4(seed, counter, low, high, out);
  }
};

template <class T>
struct NormalGen {
  T mean, stddev;
  EMBER_HD void operator()(uint64_t seed, uint64_t counter, T out[4]) const {
    philox_normal4(seed, counter, mean, stddev, out);
  }
};

struct RandintGen {
  int64_t low, high;
  EMBER_HD void operator()(uint64_t seed, uint64_t counter, int64_t out[4]) const {
    philox_randint4(seed, counter, low, high, out);
  }
};

// Thread g fills elements 4g .. 4g + 3 (those below n) from block offset + g. A float32 block
// that is whole and 16-byte aligned goes out as one float4 store.
template <class T, class Gen>
__global__ void philox_fill_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, Gen gen,
                                   bool vec4) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t g = global_thread_index(); g < blocks; g += grid_stride()) {
    T v[4];
    gen(seed, offset + static_cast<uint64_t>(g), v);
    const int64_t base = 4 * g;
    if constexpr (std::is_same_v<T, float>) {
      if (vec4 && base + 4 <= n) {
        reinterpret_cast<float4*>(out)[g] = make_float4(v[0], v[1], v[2], v[3]);
        continue;
      }
    }
    const int64_t lanes = n - base < 4 ? n - base : 4;
    for (int64_t l = 0; l < lanes; ++l) out[base + l] = v[l];
  }
}

template <class T, class Gen>
void launch_fill(const char* name, T* out, int64_t n, uint64_t seed, uint64_t offset, Gen gen,
                 void* stream) {
  if (n <= 0) return;
  const bool vec4 = std::is_same_v<T, float> && aligned16(out);
  launch(name, philox_fill_kernel<T, Gen>, grid_for((n + 3) / 4), dim3(kBlockSize), 0,
         as_stream(stream), out, n, seed, offset, gen, vec4);
}

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(::ember::detail::str_cat("kernels::cuda::", kernel, ": unsupported dtype ",
                                            dtype_name(dt), " (float32 or float64 only)"));
}

}  // namespace

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double low,
             double high, void* stream) {
  if (dt == DType::Float32) {
    // Narrowed once on the host, as the CPU kernel does.
    const UniformGen<float> gen{static_cast<float>(low), static_cast<float>(high)};
    launch_fill("uniform", static_cast<float*>(out), n, seed, offset, gen, stream);
  } else if (dt == DType::Float64) {
    launch_fill("uniform", static_cast<double*>(out), n, seed, offset,
                UniformGen<double>{low, high}, stream);
  } else {
    unsupported("uniform", dt);
  }
}

void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
            void* stream) {
  if (dt == DType::Float32) {
    const NormalGen<float> gen{static_cast<float>(mean), static_cast<float>(std)};
    launch_fill("normal", static_cast<float*>(out), n, seed, offset, gen, stream);
  } else if (dt == DType::Float64) {
    launch_fill("normal", static_cast<double*>(out), n, seed, offset, NormalGen<double>{mean, std},
                stream);
  } else {
    unsupported("normal", dt);
  }
}

void randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
             void* stream) {
  EMBER_CHECK(high > low, ValueError, "kernels::cuda::randint: empty range [", low, ", ", high,
              ")");
  launch_fill("randint", out, n, seed, offset, RandintGen{low, high}, stream);
}

// ---- CudaBackend entry points: the launchers above on this backend's device and stream

void CudaBackend::uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset,
                          double low, double high) {
  refuse_during_capture("random numbers (uniform)", "draw them outside the captured work");
  ensure_device(device_);
  cuda::uniform(dt, out, n, seed, offset, low, high, stream_);
}

void CudaBackend::normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset,
                         double mean, double std) {
  refuse_during_capture("random numbers (normal)", "draw them outside the captured work");
  ensure_device(device_);
  cuda::normal(dt, out, n, seed, offset, mean, std, stream_);
}

void CudaBackend::randint(int64_t* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low,
                          int64_t high) {
  refuse_during_capture("random numbers (randint)", "draw them outside the captured work");
  ensure_device(device_);
  cuda::randint(out, n, seed, offset, low, high, stream_);
}

}  // namespace ember::kernels::cuda
