// kernels::cuda softmax family and losses on cudasim against kernels::cpu: rows of every
// block size and strided columns, in place, large logits (stability), the fused
// cross-entropy forward/backward with ignore_index, a scalar or per-sample upstream gradient
// and bad targets reported through the device check buffer, and nll_loss. Each op is one
// launch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/softmax.h>
#include <ember/kernels/cuda/softmax.h>

#include "cuda/kernels_test_util.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;

constexpr int64_t kIgnore = -100;

struct Geometry {
  int64_t outer, r, inner;
};
const Geometry kGeometries[] = {{6, 10, 1},  {3, 300, 1}, {2, 5000, 1}, {1, 1, 1},
                                {3, 17, 40}, {2, 5, 3},   {1, 300, 2}};

template <class T>
double rtol() {
  return std::is_same_v<T, float> ? 2e-6 : 1e-13;
}

template <class T>
void check_softmax(DType dt, const Geometry& g, bool log) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + (log ? " log_softmax (" : " softmax (") +
               std::to_string(g.outer) + ", " + std::to_string(g.r) + ", " +
               std::to_string(g.inner) + ")");
  const size_t n = static_cast<size_t>(g.outer * g.r * g.inner);
  std::vector<T> x = testing::random_vector<T>(n, 3, -4.0, 4.0);
  x[0] += T(1000);  // one huge logit: only a max-subtracted softmax stays finite
  std::vector<T> y(n), gy = testing::random_vector<T>(n, 4), gx(n);
  cpu::softmax(dt, x.data(), y.data(), g.outer, g.r, g.inner, log);
  cpu::softmax_backward(dt, y.data(), gy.data(), gx.data(), g.outer, g.r, g.inner, log);

  DeviceBuffer<T> dx(x), dy(n), dgy(gy), dgx(n);
  const auto l = launches_during(
      "", [&] { cuda::softmax(dt, dx.get(), dy.get(), g.outer, g.r, g.inner, log, nullptr); });
  EXPECT_EQ(l.total, 1);
  const std::vector<T> got = dy.download();
  EXPECT_TRUE(all_close(got, y, rtol<T>()));
  for (T v : got) ASSERT_TRUE(std::isfinite(static_cast<double>(v)));

  // In place, as the op layer may do: x and y alias.
  cuda::softmax(dt, dx.get(), dx.get(), g.outer, g.r, g.inner, log, nullptr);
  EXPECT_TRUE(all_close(dx.download(), y, rtol<T>()));

  // Backward from the CPU's forward output, so only the backward is compared.
  dy.upload(y);
  const auto lb = launches_during("", [&] {
    cuda::softmax_backward(dt, dy.get(), dgy.get(), dgx.get(), g.outer, g.r, g.inner, log, nullptr);
  });
  EXPECT_EQ(lb.total, 1);
  EXPECT_TRUE(all_close(dgx.download(), gx, 10 * rtol<T>()));
}

TEST(CudaSoftmax, ForwardAndBackwardMatchCpu) {
  for (const Geometry& g : kGeometries) {
    for (bool log : {false, true}) {
      check_softmax<float>(kFloat32, g, log);
      check_softmax<double>(kFloat64, g, log);
    }
  }
}

TEST(CudaSoftmax, AllNegativeInfinityRowIsNan) {
  const float inf = std::numeric_limits<float>::infinity();
  DeviceBuffer<float> dx(std::vector<float>{-inf, -inf, -inf, 1.0f, 2.0f, 3.0f}), dy(6);
  cuda::softmax(kFloat32, dx.get(), dy.get(), 2, 3, 1, false, nullptr);
  const std::vector<float> y = dy.download();
  for (int j = 0; j < 3; ++j) EXPECT_TRUE(std::isnan(y[j]));
  for (int j = 3; j < 6; ++j) EXPECT_TRUE(std::isfinite(y[j]));
}

TEST(CudaSoftmax, IntegerDtypesAreRejected) {
  DeviceBuffer<int64_t> d(4);
  EXPECT_THROW(cuda::softmax(kInt64, d.get(), d.get(), 1, 4, 1, false, nullptr), DTypeError);
}

// ---------------------------------------------------------------------------------------
// Losses

// n targets in [0, c) with every fourth ignored, and bad ones planted at `bad` positions.
std::vector<int64_t> make_targets(int64_t n, int64_t c, std::vector<int64_t> bad = {}) {
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[static_cast<size_t>(i)] = i % 4 == 1 ? kIgnore : (i * 7) % c;
  for (size_t k = 0; k < bad.size(); ++k) t[static_cast<size_t>(bad[k])] = k % 2 == 0 ? c : -3;
  return t;
}

// The device check buffer, initialised as the caller must: [0] = INT64_MAX, [1] anything.
struct Check {
  DeviceBuffer<int64_t> buf{std::vector<int64_t>{cuda::kNoBadTarget, -12345}};
  int64_t bad() const { return buf.download()[0]; }
  int64_t valid() const { return buf.download()[1]; }
};

template <class T>
void check_cross_entropy(DType dt, int64_t n, int64_t c) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + " n " + std::to_string(n) + " c " + std::to_string(c));
  const std::vector<T> logits = testing::random_vector<T>(static_cast<size_t>(n * c), 5, -6, 6);
  const std::vector<int64_t> t = make_targets(n, c);
  std::vector<T> want(static_cast<size_t>(n));
  const cpu::TargetCheck cpu_check =
      cpu::cross_entropy_forward(dt, logits.data(), t.data(), n, c, kIgnore, want.data());
  ASSERT_EQ(cpu_check.bad_index, -1);

  DeviceBuffer<T> dlogits(logits), dlosses(static_cast<size_t>(n));
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  const auto l = launches_during("cross_entropy_forward", [&] {
    cuda::cross_entropy_forward(dt, dlogits.get(), dt_.get(), n, c, kIgnore, dlosses.get(),
                                check.buf.get(), nullptr);
  });
  EXPECT_EQ(l.total, 1);
  EXPECT_EQ(l.named, 1);
  EXPECT_TRUE(all_close(dlosses.download(), want, 4 * rtol<T>()));
  EXPECT_EQ(check.bad(), cuda::kNoBadTarget);
  EXPECT_EQ(check.valid(), cpu_check.valid_count);

  // Backward: the mean's broadcast scalar (stride 0, scale 1/valid) and 'none' (stride 1).
  for (int64_t stride : {0, 1}) {
    SCOPED_TRACE("grad_stride " + std::to_string(stride));
    const std::vector<T> g = testing::random_vector<T>(static_cast<size_t>(n), 6);
    const double scale = stride == 0 ? 1.0 / static_cast<double>(cpu_check.valid_count) : 1.0;
    std::vector<T> want_g(static_cast<size_t>(n * c));
    cpu::cross_entropy_backward(dt, logits.data(), t.data(), n, c, kIgnore, g.data(), stride, scale,
                                want_g.data());
    DeviceBuffer<T> dg(g), dglogits(static_cast<size_t>(n * c));
    const auto lb = launches_during("cross_entropy_backward", [&] {
      cuda::cross_entropy_backward(dt, dlogits.get(), dt_.get(), n, c, kIgnore, dg.get(), stride,
                                   scale, dglogits.get(), nullptr);
    });
    EXPECT_EQ(lb.total, 1);
    EXPECT_EQ(lb.named, 1);
    EXPECT_TRUE(all_close(dglogits.download(), want_g, 4 * rtol<T>()));
  }
}

TEST(CudaCrossEntropy, ForwardAndBackwardMatchCpu) {
  for (int64_t c : {10, 300, 5000}) {
    check_cross_entropy<float>(kFloat32, 37, c);
    check_cross_entropy<double>(kFloat64, 37, c);
  }
  check_cross_entropy<float>(kFloat32, 1, 1);
}

// More rows than blocks in a grid: blocks loop over rows and tally their checks.
TEST(CudaCrossEntropy, ManyRowsCountEveryValidTarget) {
  const int64_t n = 70000, c = 3;
  const std::vector<float> logits = testing::random_vector<float>(static_cast<size_t>(n * c), 2);
  const std::vector<int64_t> t = make_targets(n, c, {69999});
  std::vector<float> want(static_cast<size_t>(n));
  const cpu::TargetCheck cpu_check =
      cpu::cross_entropy_forward(kFloat32, logits.data(), t.data(), n, c, kIgnore, want.data());
  DeviceBuffer<float> dlogits(logits), dlosses(static_cast<size_t>(n));
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  cuda::cross_entropy_forward(kFloat32, dlogits.get(), dt_.get(), n, c, kIgnore, dlosses.get(),
                              check.buf.get(), nullptr);
  EXPECT_EQ(check.bad(), 69999);
  EXPECT_EQ(check.valid(), cpu_check.valid_count);
  EXPECT_TRUE(all_close(dlosses.download(), want, 1e-6));
}

TEST(CudaCrossEntropy, BadTargetsReportTheFirstAndStayInsideTheRow) {
  const int64_t n = 40, c = 7;
  const std::vector<float> logits = testing::random_vector<float>(static_cast<size_t>(n * c), 8);
  const std::vector<int64_t> t = make_targets(n, c, {33, 5, 20});  // c, -3, c
  std::vector<float> want(static_cast<size_t>(n));
  const cpu::TargetCheck cpu_check =
      cpu::cross_entropy_forward(kFloat32, logits.data(), t.data(), n, c, kIgnore, want.data());
  ASSERT_EQ(cpu_check.bad_index, 5);
  DeviceBuffer<float> dlogits(logits), dlosses(static_cast<size_t>(n));
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  cuda::cross_entropy_forward(kFloat32, dlogits.get(), dt_.get(), n, c, kIgnore, dlosses.get(),
                              check.buf.get(), nullptr);
  EXPECT_EQ(check.bad(), 5);
  EXPECT_EQ(check.valid(), cpu_check.valid_count);
  EXPECT_TRUE(all_close(dlosses.download(), want, 1e-6));
  // The backward must not write outside a bad row (cudasim's guards would fail the launch).
  const std::vector<float> g{0.5f};
  std::vector<float> want_g(static_cast<size_t>(n * c));
  cpu::cross_entropy_backward(kFloat32, logits.data(), t.data(), n, c, kIgnore, g.data(), 0, 0.1,
                              want_g.data());
  DeviceBuffer<float> dg(g), dglogits(static_cast<size_t>(n * c));
  cuda::cross_entropy_backward(kFloat32, dlogits.get(), dt_.get(), n, c, kIgnore, dg.get(), 0, 0.1,
                               dglogits.get(), nullptr);
  EXPECT_TRUE(all_close(dglogits.download(), want_g, 1e-6));
}

TEST(CudaNllLoss, ForwardAndBackwardMatchCpu) {
  const int64_t n = 300, c = 9;
  std::vector<double> logp = testing::random_vector<double>(static_cast<size_t>(n * c), 4, -5, 0);
  const std::vector<int64_t> t = make_targets(n, c, {250, 17});
  std::vector<double> want(static_cast<size_t>(n));
  const cpu::TargetCheck cpu_check =
      cpu::nll_loss_forward(kFloat64, logp.data(), t.data(), n, c, kIgnore, want.data());
  DeviceBuffer<double> dlogp(logp), dlosses(static_cast<size_t>(n));
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  const auto l = launches_during("nll_loss_forward", [&] {
    cuda::nll_loss_forward(kFloat64, dlogp.get(), dt_.get(), n, c, kIgnore, dlosses.get(),
                           check.buf.get(), nullptr);
  });
  EXPECT_EQ(l.total, 1);
  EXPECT_EQ(check.bad(), cpu_check.bad_index);
  EXPECT_EQ(check.valid(), cpu_check.valid_count);
  EXPECT_TRUE(all_close(dlosses.download(), want));

  for (int64_t stride : {0, 1}) {
    const std::vector<double> g = testing::random_vector<double>(static_cast<size_t>(n), 1);
    std::vector<double> want_g(static_cast<size_t>(n * c));
    cpu::nll_loss_backward(kFloat64, t.data(), n, c, kIgnore, g.data(), stride, 0.25,
                           want_g.data());
    DeviceBuffer<double> dg(g), dglogp(static_cast<size_t>(n * c));
    const auto lb = launches_during("nll_loss_backward", [&] {
      cuda::nll_loss_backward(kFloat64, dt_.get(), n, c, kIgnore, dg.get(), stride, 0.25,
                              dglogp.get(), nullptr);
    });
    EXPECT_EQ(lb.total, 1);
    EXPECT_TRUE(all_close(dglogp.download(), want_g));
  }
}

}  // namespace
}  // namespace ember::kernels
