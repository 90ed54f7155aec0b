// Helpers for the CUDA kernel tests (tests/cuda/*_kernels_test.cpp): device buffers on
// cudasim that can start at an element offset (to hand kernels misaligned pointers), launch
// counting through cudasim's counters, and CPU-vs-device comparison.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

// After the standard headers (see tests/cuda/CMakeLists.txt).
#include <cuda_runtime.h>

#include "cudasim/counters.h"

namespace ember::kernels::cuda_test {

// n elements of device memory at element `shift` of a cudaMalloc'd block (shift 1 of a float
// buffer gives a pointer that is 4 but not 16-byte aligned).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n, size_t shift = 0) : n_(n), shift_(shift) {
    void* p = nullptr;
    // Exactly n + shift elements, so cudasim's guard bytes catch a write one past the end.
    const size_t count = n + shift > 0 ? n + shift : 1;
    if (cudaMalloc(&p, count * sizeof(T)) != cudaSuccess) {
      ADD_FAILURE() << "cudaMalloc of " << n << " elements failed";
    }
    base_ = static_cast<T*>(p);
  }
  explicit DeviceBuffer(const std::vector<T>& host, size_t shift = 0)
      : DeviceBuffer(host.size(), shift) {
    upload(host);
  }
  ~DeviceBuffer() { cudaFree(base_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return base_ + shift_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    EXPECT_EQ(host.size(), n_);
    EXPECT_EQ(cudaMemcpy(get(), host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    EXPECT_EQ(cudaMemcpy(host.data(), get(), n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }

 private:
  T* base_ = nullptr;
  size_t n_ = 0, shift_ = 0;
};

// Kernel launches made by f(): in all, and of one kernel name.
struct Launches {
  int64_t total = 0;
  int64_t named = 0;
};
template <class F>
Launches launches_during(const char* name, F&& f) {
  const cudasim::Counters before = cudasim::counters();
  const int64_t named_before = cudasim::launches_of(name);
  f();
  return Launches{cudasim::counters().kernel_launches - before.kernel_launches,
                  cudasim::launches_of(name) - named_before};
}

// Equal within rtol (relative to max(1, |want|)); NaN matches NaN, infinities match exactly.
// rtol = 0 demands equality.
template <class T>
::testing::AssertionResult all_close(const std::vector<T>& got, const std::vector<T>& want,
                                     double rtol = 0) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
    if (std::isnan(g) && std::isnan(w)) continue;
    if (g == w) continue;
    if (rtol > 0 && std::isfinite(w) && std::fabs(g - w) <= rtol * std::fmax(1.0, std::fabs(w)))
      continue;
    return ::testing::AssertionFailure()
           << "element " << i << ": device " << g << " vs CPU " << w << " (rtol " << rtol << ")";
  }
  return ::testing::AssertionSuccess();
}

// float32 results may differ from the CPU's in the last bits on a real GPU (FMA contraction,
// CUDA's libm); on cudasim they are bit-identical, so these bounds only matter there.
template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 2e-6 : (std::is_same_v<T, double> ? 1e-13 : 0.0);
}

}  // namespace ember::kernels::cuda_test
