// Helpers for the CUDA backend tests (tests/cuda/backend*_test.cpp): they drive ember's
// public API on Device::cuda() and compare every result with the same call on the CPU.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace ember::cuda_backend_test {

inline const Device kCuda = Device::cuda();

// `got` lives on the GPU, `want` on the CPU; same shape and dtype, values equal within rtol
// relative to max(1, |want|) (NaN matches NaN; rtol 0 demands equality).
inline ::testing::AssertionResult same_values(const Tensor& got, const Tensor& want,
                                              double rtol = 0) {
  if (got.device() != kCuda)
    return ::testing::AssertionFailure() << "result is on " << got.device() << ", not cuda:0";
  if (want.device() != kCPU)
    return ::testing::AssertionFailure() << "reference is on " << want.device();
  if (got.sizes() != want.sizes())
    return ::testing::AssertionFailure() << "shape " << got.sizes() << " vs " << want.sizes();
  if (got.dtype() != want.dtype())
    return ::testing::AssertionFailure() << "dtype " << got.dtype() << " vs " << want.dtype();
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) && std::isnan(w[i])) continue;
    if (g[i] == w[i]) continue;
    if (rtol > 0 && std::fabs(g[i] - w[i]) <= rtol * std::fmax(1.0, std::fabs(w[i]))) continue;
    return ::testing::AssertionFailure() << "element " << i << ": cuda " << g[i] << " vs cpu "
                                         << w[i] << " (rtol " << rtol << ")";
  }
  return ::testing::AssertionSuccess();
}

// float32 work differs from the CPU's in accumulation order (cuBLAS, block reductions).
inline constexpr double kF32 = 1e-5;
inline constexpr double kF64 = 1e-12;

// The message of the ember::Error that f() throws ("" when it throws none).
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace ember::cuda_backend_test
