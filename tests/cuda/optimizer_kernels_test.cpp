// kernels::cuda sgd_step / adam_step on cudasim against kernels::cpu: every combination of
// the hyper-parameter branches (weight decay, momentum, nesterov, first step; coupled or
// decoupled decay, amsgrad) for float32 and float64 over three consecutive steps, comparing
// the parameter and every state buffer after each. One launch per step.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cuda/optimizer.h>

#include "cuda/kernels_test_util.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;
using cuda_test::tolerance;

constexpr int64_t kN = 1001;

template <class T>
void check_sgd(DType dt) {
  for (double wd : {0.0, 0.01}) {
    for (double momentum : {0.0, 0.9}) {
      for (bool nesterov : {false, true}) {
        if (momentum == 0.0 && nesterov) continue;
        SCOPED_TRACE(std::string(dtype_name(dt)) + " wd " + std::to_string(wd) + " momentum " +
                     std::to_string(momentum) + " nesterov " + std::to_string(nesterov));
        std::vector<T> p = testing::random_vector<T>(kN, 1);
        std::vector<T> buf(kN, T(0));
        DeviceBuffer<T> dp(p), dbuf(kN), dg(kN);
        T* dbuf_ptr = momentum != 0.0 ? dbuf.get() : nullptr;
        for (int step = 0; step < 3; ++step) {
          const std::vector<T> g = testing::random_vector<T>(kN, 10 + step);
          dg.upload(g);
          cpu::cpu_backend.sgd_step(dt, p.data(), g.data(), momentum != 0.0 ? buf.data() : nullptr,
                                    kN, 0.1, momentum, 0.1, wd, nesterov, step == 0);
          const auto l = launches_during("sgd_step", [&] {
            cuda::sgd_step(dt, dp.get(), dg.get(), dbuf_ptr, kN, 0.1, momentum, 0.1, wd, nesterov,
                           step == 0, nullptr);
          });
          EXPECT_EQ(l.total, 1);
          EXPECT_EQ(l.named, 1);
          EXPECT_TRUE(all_close(dp.download(), p, tolerance<T>())) << "step " << step;
          if (momentum != 0.0) {
            EXPECT_TRUE(all_close(dbuf.download(), buf, tolerance<T>())) << "step " << step;
          }
        }
      }
    }
  }
}

TEST(CudaOptimizer, SgdMatchesCpuForEveryBranch) {
  check_sgd<float>(kFloat32);
  check_sgd<double>(kFloat64);
}

template <class T>
void check_adam(DType dt) {
  for (double wd : {0.0, 0.05}) {
    for (bool decoupled : {false, true}) {
      for (bool amsgrad : {false, true}) {
        if (wd == 0.0 && decoupled) continue;
        SCOPED_TRACE(std::string(dtype_name(dt)) + " wd " + std::to_string(wd) + " decoupled " +
                     std::to_string(decoupled) + " amsgrad " + std::to_string(amsgrad));
        std::vector<T> p = testing::random_vector<T>(kN, 2);
        std::vector<T> m(kN, T(0)), v(kN, T(0)), vmax(kN, T(0));
        DeviceBuffer<T> dp(p), dg(kN), dm(m), dv(v), dvmax(vmax);
        for (int64_t step = 1; step <= 3; ++step) {
          const std::vector<T> g = testing::random_vector<T>(kN, 20 + step);
          dg.upload(g);
          cpu::cpu_backend.adam_step(dt, p.data(), g.data(), m.data(), v.data(),
                                     amsgrad ? vmax.data() : nullptr, kN, 1e-2, 0.9, 0.999, 1e-8,
                                     wd, decoupled, step);
          const auto l = launches_during("adam_step", [&] {
            cuda::adam_step(dt, dp.get(), dg.get(), dm.get(), dv.get(),
                            amsgrad ? dvmax.get() : nullptr, kN, 1e-2, 0.9, 0.999, 1e-8, wd,
                            decoupled, step, nullptr);
          });
          EXPECT_EQ(l.total, 1);
          EXPECT_EQ(l.named, 1);
          EXPECT_TRUE(all_close(dp.download(), p, tolerance<T>())) << "step " << step;
          EXPECT_TRUE(all_close(dm.download(), m, tolerance<T>())) << "step " << step;
          EXPECT_TRUE(all_close(dv.download(), v, tolerance<T>())) << "step " << step;
          if (amsgrad) {
            EXPECT_TRUE(all_close(dvmax.download(), vmax, tolerance<T>())) << "step " << step;
          }
        }
      }
    }
  }
}

TEST(CudaOptimizer, AdamMatchesCpuForEveryBranch) {
  check_adam<float>(kFloat32);
  check_adam<double>(kFloat64);
}

TEST(CudaOptimizer, BadArgumentsThrowBeforeLaunching) {
  DeviceBuffer<float> a(4), b(4);
  DeviceBuffer<int64_t> i(4);
  const auto l = launches_during("sgd_step", [&] {
    EXPECT_THROW(cuda::sgd_step(kFloat32, a.get(), b.get(), nullptr, 4, 0.1, 0.9, 0, 0, false,
                                false, nullptr),
                 ValueError);
    EXPECT_THROW(
        cuda::sgd_step(kInt64, i.get(), i.get(), nullptr, 4, 0.1, 0, 0, 0, false, false, nullptr),
        DTypeError);
    EXPECT_THROW(cuda::adam_step(kFloat32, a.get(), b.get(), a.get(), b.get(), nullptr, 4, 0.1, 0.9,
                                 0.99, 1e-8, 0, false, 0, nullptr),
                 ValueError);
  });
  EXPECT_EQ(l.total, 0);
}

}  // namespace
}  // namespace ember::kernels
