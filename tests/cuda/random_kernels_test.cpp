// kernels::cuda uniform / normal / randint on cudasim against kernels::cpu with the same
// (seed, offset): bit-identical uniforms and integers, normals within 1e-6 relative, for
// sizes that end mid-block, aligned and misaligned outputs, and offsets that start the
// stream anywhere. Each fill is one launch.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cuda/random.h>

#include "cuda/kernels_test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;

constexpr int64_t kSizes[] = {1, 3, 4, 5, 1003};
constexpr uint64_t kSeeds[] = {0, 42, 0x9E3779B97F4A7C15ull};
constexpr uint64_t kOffsets[] = {0, 7, (uint64_t{1} << 32) + 3};

template <class T>
void check_uniform(DType dt, double low, double high) {
  for (int64_t n : kSizes) {
    for (uint64_t seed : kSeeds) {
      for (uint64_t offset : kOffsets) {
        for (size_t shift : {0, 1}) {
          SCOPED_TRACE(std::string(dtype_name(dt)) + " n " + std::to_string(n) + " seed " +
                       std::to_string(seed) + " offset " + std::to_string(offset) + " shift " +
                       std::to_string(shift));
          std::vector<T> want(static_cast<size_t>(n));
          cpu::cpu_backend.uniform(dt, want.data(), n, seed, offset, low, high);
          DeviceBuffer<T> d(static_cast<size_t>(n), shift);
          const auto l = launches_during(
              "uniform", [&] { cuda::uniform(dt, d.get(), n, seed, offset, low, high, nullptr); });
          EXPECT_EQ(l.total, 1);
          EXPECT_EQ(l.named, 1);
          const std::vector<T> got = d.download();
          EXPECT_TRUE(all_close(got, want));  // bit-identical
          for (T v : got) {
            EXPECT_GE(v, T(low));
            EXPECT_LT(v, T(high));
          }
        }
      }
    }
  }
}

TEST(CudaRandom, UniformIsBitIdenticalToCpu) {
  check_uniform<float>(kFloat32, 0.0, 1.0);
  check_uniform<float>(kFloat32, -2.0, 3.0);
  check_uniform<double>(kFloat64, 0.0, 1.0);
  check_uniform<double>(kFloat64, -2.0, 3.0);
}

template <class T>
void check_normal(DType dt) {
  for (int64_t n : kSizes) {
    for (uint64_t seed : kSeeds) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " n " + std::to_string(n) + " seed " +
                   std::to_string(seed));
      std::vector<T> want(static_cast<size_t>(n));
      cpu::cpu_backend.normal(dt, want.data(), n, seed, 11, 0.5, 2.0);
      DeviceBuffer<T> d(static_cast<size_t>(n), 1);
      const auto l = launches_during(
          "normal", [&] { cuda::normal(dt, d.get(), n, seed, 11, 0.5, 2.0, nullptr); });
      EXPECT_EQ(l.named, 1);
      EXPECT_TRUE(all_close(d.download(), want, 1e-6));
    }
  }
}

TEST(CudaRandom, NormalMatchesCpu) {
  check_normal<float>(kFloat32);
  check_normal<double>(kFloat64);
}

TEST(CudaRandom, RandintIsBitIdenticalToCpu) {
  const std::pair<int64_t, int64_t> ranges[] = {
      {0, 10},
      {-5, 3},
      {0, int64_t{1} << 40},
      {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}};
  for (const auto& range : ranges) {
    // Not a structured binding: the lambda below captures low and high, which clang 14 cannot.
    const int64_t low = range.first, high = range.second;
    for (int64_t n : kSizes) {
      for (uint64_t offset : kOffsets) {
        SCOPED_TRACE("range [" + std::to_string(low) + ", " + std::to_string(high) + ") n " +
                     std::to_string(n) + " offset " + std::to_string(offset));
        std::vector<int64_t> want(static_cast<size_t>(n));
        cpu::cpu_backend.randint(want.data(), n, 1234, offset, low, high);
        DeviceBuffer<int64_t> d(static_cast<size_t>(n));
        const auto l = launches_during(
            "randint", [&] { cuda::randint(d.get(), n, 1234, offset, low, high, nullptr); });
        EXPECT_EQ(l.named, 1);
        EXPECT_TRUE(all_close(d.download(), want));
      }
    }
  }
}

// The stream is a function of the element's position only: a fill of 1003 values starting at
// counter `offset` continues, from element 4k on, exactly as a fill starting at offset + k.
TEST(CudaRandom, ElementsDependOnPositionOnly) {
  DeviceBuffer<float> whole(1003), tail(1003 - 40);
  cuda::uniform(kFloat32, whole.get(), 1003, 5, 100, 0.0, 1.0, nullptr);
  cuda::uniform(kFloat32, tail.get(), 1003 - 40, 5, 110, 0.0, 1.0, nullptr);
  const std::vector<float> w = whole.download();
  EXPECT_TRUE(all_close(tail.download(), std::vector<float>(w.begin() + 40, w.end())));
}

TEST(CudaRandom, BadArgumentsThrowBeforeLaunching) {
  DeviceBuffer<int64_t> d(8);
  const auto l = launches_during("randint", [&] {
    EXPECT_THROW(cuda::randint(d.get(), 8, 1, 0, 5, 5, nullptr), ValueError);
    EXPECT_THROW(cuda::uniform(kInt64, d.get(), 8, 1, 0, 0.0, 1.0, nullptr), DTypeError);
    EXPECT_THROW(cuda::normal(kBool, d.get(), 8, 1, 0, 0.0, 1.0, nullptr), DTypeError);
  });
  EXPECT_EQ(l.total, 0);
}

}  // namespace
}  // namespace ember::kernels
