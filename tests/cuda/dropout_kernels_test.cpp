// kernels::cuda dropout on cudasim against kernels::cpu with the same (seed, offset): the mask
// is bit-identical and the kept values exactly x / (1 - p), for float32 and float64, odd
// sizes, several p, in place and out of place. One launch per call.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cuda/dropout.h>

#include "cuda/kernels_test_util.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;

template <class T>
void check_dropout(DType dt, bool in_place) {
  for (int64_t n : {1, 7, 1001}) {
    for (double p : {0.0, 0.3, 0.9}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " n " + std::to_string(n) + " p " +
                   std::to_string(p) + (in_place ? " in place" : ""));
      const size_t un = static_cast<size_t>(n);
      const std::vector<T> x = testing::random_vector<T>(un, 17);
      std::vector<T> want(un);
      std::vector<uint8_t> want_mask(un);
      cpu::cpu_backend.dropout(dt, x.data(), want.data(), reinterpret_cast<bool*>(want_mask.data()),
                               n, p, 77, 5);
      DeviceBuffer<T> dx(x), dy(un);
      DeviceBuffer<uint8_t> dmask(un);
      T* y = in_place ? dx.get() : dy.get();
      const auto l = launches_during("dropout", [&] {
        cuda::dropout(dt, dx.get(), y, reinterpret_cast<bool*>(dmask.get()), n, p, 77, 5, nullptr);
      });
      EXPECT_EQ(l.total, 1);
      EXPECT_EQ(l.named, 1);
      EXPECT_TRUE(all_close(dmask.download(), want_mask));
      EXPECT_TRUE(all_close(in_place ? dx.download() : dy.download(), want));
    }
  }
}

TEST(CudaDropout, MaskAndValuesMatchCpu) {
  check_dropout<float>(kFloat32, false);
  check_dropout<float>(kFloat32, true);
  check_dropout<double>(kFloat64, false);
}

// The mask is "the float32 uniform of the same (seed, offset) is >= p", the definition the
// CPU kernel documents; checked here against kernels::cpu::uniform directly.
TEST(CudaDropout, MaskIsUniformDrawAtLeastP) {
  const int64_t n = 999;
  std::vector<float> u(n);
  cpu::cpu_backend.uniform(kFloat32, u.data(), n, 3, 9, 0.0, 1.0);
  DeviceBuffer<float> dx(std::vector<float>(n, 1.0f)), dy(n);
  DeviceBuffer<uint8_t> dmask(n);
  cuda::dropout(kFloat32, dx.get(), dy.get(), reinterpret_cast<bool*>(dmask.get()), n, 0.25, 3, 9,
                nullptr);
  const std::vector<uint8_t> mask = dmask.download();
  const std::vector<float> y = dy.download();
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(mask[i] != 0, u[i] >= 0.25f) << i;
    EXPECT_EQ(y[i], mask[i] ? 1.0f / 0.75f : 0.0f) << i;
    kept += mask[i];
  }
  EXPECT_GT(kept, n / 2);  // about 3/4 of 999
  EXPECT_LT(kept, n * 9 / 10);
}

TEST(CudaDropout, BadArgumentsThrowBeforeLaunching) {
  DeviceBuffer<double> d(4);
  DeviceBuffer<uint8_t> m(4);
  bool* mask = reinterpret_cast<bool*>(m.get());
  const auto l = launches_during("dropout", [&] {
    EXPECT_THROW(cuda::dropout(kFloat64, d.get(), d.get(), mask, 4, 1.0, 1, 0, nullptr),
                 ValueError);
    EXPECT_THROW(cuda::dropout(kFloat64, d.get(), d.get(), mask, 4, -0.1, 1, 0, nullptr),
                 ValueError);
    EXPECT_THROW(cuda::dropout(kInt64, d.get(), d.get(), mask, 4, 0.5, 1, 0, nullptr), DTypeError);
  });
  EXPECT_EQ(l.total, 0);
}

}  // namespace
}  // namespace ember::kernels
