// For tests that run once per device (tests/test_main.cpp): the device a test body's
// factories use, and a way to mark the few checks that only make sense on one device.
#pragma once

#include <gtest/gtest.h>

#include <ember/core/cuda.h>
#include <ember/core/device.h>

namespace ember_test {

inline ember::Device test_device() {
  return ember::default_device();
}
inline bool on_cuda() {
  return ember::default_device().is_cuda();
}

// Bad indices found by a CUDA kernel are reported at the next wait for the device (like
// PyTorch's device-side asserts, but as an ember::IndexError); a test that expects one waits.
inline void wait_for_device() {
  if (on_cuda()) ember::cuda::synchronize();
}

}  // namespace ember_test

// Skips the rest of a test on the CUDA run, saying why (e.g. it checks the host allocator).
#define EMBER_CPU_ONLY(why) \
  if (::ember_test::on_cuda()) GTEST_SKIP() << "CPU only: " << (why)
