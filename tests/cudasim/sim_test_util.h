// Helpers for cudasim's tests: an RAII device array with upload/download, random inputs,
// waiting for the device, and a scope that runs blocks in index order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include <ember/kernels/cuda/check.h>

#include "cudasim/modes.h"

namespace cudasim_test {

// Waits for the device, throwing ember::CudaError when work it ran failed: in deferred mode
// (cudasim/modes.h) a kernel's failure surfaces here rather than at its launch.
inline void wait_for_device() {
  EMBER_CUDA_CHECK(cudaDeviceSynchronize());
}

// Blocks run in index order while this lives, whatever CUDASIM_SHUFFLE_SEED says: for tests of
// what that order implies.
class InOrderBlocks {
 public:
  InOrderBlocks() : was_on_(cudasim::block_shuffle(&seed_)) { cudasim::set_block_shuffle(false); }
  ~InOrderBlocks() { cudasim::set_block_shuffle(was_on_, seed_); }
  InOrderBlocks(const InOrderBlocks&) = delete;
  InOrderBlocks& operator=(const InOrderBlocks&) = delete;

 private:
  uint64_t seed_ = 0;
  bool was_on_;
};

// n floats uniform in [-1, 1), the same for the same seed.
inline std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) {
    void* p = nullptr;
    if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) {
      throw std::runtime_error("cudaMalloc failed: " + std::to_string(n * sizeof(T)));
    }
    p_ = static_cast<T*>(p);
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    if (cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice) !=
        cudaSuccess) {
      throw std::runtime_error("upload failed");
    }
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    if (cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost) != cudaSuccess) {
      throw std::runtime_error("download failed");
    }
    return host;
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace cudasim_test
