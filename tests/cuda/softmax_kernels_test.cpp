// kernels::cuda softmax family and losses on cudasim against kernels::cpu: rows of every
// block size and strided columns, in place, large logits (stability), the fused
// cross-entropy forward/backward with ignore_index, the sum / mean reduction and the valid
// count computed in the same launch, a scalar or per-sample upstream gradient, bad targets
// recorded in the device IndexCheck, and nll_loss. Each op is one launch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/cpu/backend.h>
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
  cpu::cpu_backend.softmax(dt, x.data(), y.data(), g.outer, g.r, g.inner, log);
  cpu::cpu_backend.softmax_backward(dt, y.data(), gy.data(), gx.data(), g.outer, g.r, g.inner, log);

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

// The device IndexCheck, initialised as its owner must (kernels/cuda/index_check.h).
struct Check {
  DeviceBuffer<cuda::IndexCheck> buf{std::vector<cuda::IndexCheck>(1)};
  cuda::IndexCheck get() const { return buf.download()[0]; }
};

// Every launch's last block leaves the scratch as it found it, for the next launch.
void expect_scratch_restored(const cuda::IndexCheck& c) {
  EXPECT_EQ(c.launch_first_bad, cuda::kNoBadIndex);
  EXPECT_EQ(c.launch_valid, 0u);
  EXPECT_EQ(c.blocks_done, 0u);
}

// The loss forward of the fused or the nll kernel, on the CPU or the device.
template <class T>
struct LossResult {
  std::vector<T> losses;
  T reduced = T(0);
  int64_t count = -1;
};

template <class T>
LossResult<T> cpu_loss(bool fused, DType dt, const std::vector<T>& scores,
                       const std::vector<int64_t>& t, int64_t c, LossReduction reduction,
                       cpu::TargetCheck* check = nullptr) {
  const auto n = static_cast<int64_t>(t.size());
  LossResult<T> r;
  r.losses.resize(t.size());
  const cpu::TargetCheck got =
      fused ? cpu::cross_entropy_forward(dt, scores.data(), t.data(), n, c, kIgnore, reduction,
                                         r.losses.data(), &r.reduced, &r.count)
            : cpu::nll_loss_forward(dt, scores.data(), t.data(), n, c, kIgnore, reduction,
                                    r.losses.data(), &r.reduced, &r.count);
  if (check != nullptr) *check = got;
  return r;
}

template <class T>
LossResult<T> device_loss(bool fused, DType dt, const DeviceBuffer<T>& scores,
                          const DeviceBuffer<int64_t>& t, int64_t c, LossReduction reduction,
                          Check& check) {
  const auto n = static_cast<int64_t>(t.size());
  DeviceBuffer<T> losses(t.size()), reduced(1);
  DeviceBuffer<int64_t> count(1);
  const char* name = fused ? "cross_entropy_forward" : "nll_loss_forward";
  const auto l = launches_during(name, [&] {
    if (fused) {
      cuda::cross_entropy_forward(dt, scores.get(), t.get(), n, c, kIgnore, reduction, losses.get(),
                                  reduced.get(), count.get(), check.buf.get(), nullptr);
    } else {
      cuda::nll_loss_forward(dt, scores.get(), t.get(), n, c, kIgnore, reduction, losses.get(),
                             reduced.get(), count.get(), check.buf.get(), nullptr);
    }
  });
  EXPECT_EQ(l.total, 1) << "the forward, its reduction and its check are one launch";
  EXPECT_EQ(l.named, 1);
  expect_scratch_restored(check.get());
  return {losses.download(), reduced.download()[0], count.download()[0]};
}

template <class T>
void check_cross_entropy(DType dt, int64_t n, int64_t c) {
  SCOPED_TRACE(std::string(dtype_name(dt)) + " n " + std::to_string(n) + " c " + std::to_string(c));
  const std::vector<T> logits = testing::random_vector<T>(static_cast<size_t>(n * c), 5, -6, 6);
  const std::vector<int64_t> t = make_targets(n, c);
  DeviceBuffer<T> dlogits(logits);
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  for (LossReduction reduction : {LossReduction::Mean, LossReduction::Sum}) {
    cpu::TargetCheck cpu_check;
    const LossResult<T> want = cpu_loss(true, dt, logits, t, c, reduction, &cpu_check);
    ASSERT_EQ(cpu_check.bad_index, -1);
    const LossResult<T> got = device_loss(true, dt, dlogits, dt_, c, reduction, check);
    EXPECT_TRUE(all_close(got.losses, want.losses, 4 * rtol<T>()));
    EXPECT_TRUE(
        all_close(std::vector<T>{got.reduced}, std::vector<T>{want.reduced}, 4 * rtol<T>()));
    EXPECT_EQ(got.count, cpu_check.valid_count);
    EXPECT_EQ(check.get().position, cuda::kNoBadIndex);
  }

  // Backward: the mean's broadcast scalar (stride 0, divided by the count the forward left
  // in device memory) and 'none' (stride 1, no division).
  const int64_t valid = cpu_loss(true, dt, logits, t, c, LossReduction::None).count;
  for (int64_t stride : {0, 1}) {
    SCOPED_TRACE("grad_stride " + std::to_string(stride));
    const std::vector<T> g = testing::random_vector<T>(static_cast<size_t>(n), 6);
    const int64_t* mean_count = stride == 0 ? &valid : nullptr;
    std::vector<T> want_g(static_cast<size_t>(n * c));
    cpu::cpu_backend.cross_entropy_backward(dt, logits.data(), t.data(), n, c, kIgnore, g.data(),
                                            stride, mean_count, want_g.data());
    DeviceBuffer<T> dg(g), dglogits(static_cast<size_t>(n * c));
    DeviceBuffer<int64_t> dcount(std::vector<int64_t>{valid});
    const auto lb = launches_during("cross_entropy_backward", [&] {
      cuda::cross_entropy_backward(dt, dlogits.get(), dt_.get(), n, c, kIgnore, dg.get(), stride,
                                   stride == 0 ? dcount.get() : nullptr, dglogits.get(), nullptr);
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

// More rows than blocks in a grid: blocks loop over rows, and the last block still sums
// every loss and counts every valid target.
TEST(CudaCrossEntropy, ManyRowsCountAndReduceEveryRow) {
  const int64_t n = 70000, c = 3;
  const std::vector<float> logits = testing::random_vector<float>(static_cast<size_t>(n * c), 2);
  const std::vector<int64_t> t = make_targets(n, c, {69999});
  const LossResult<float> want = cpu_loss(true, kFloat32, logits, t, c, LossReduction::Mean);
  DeviceBuffer<float> dlogits(logits);
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  const LossResult<float> got =
      device_loss(true, kFloat32, dlogits, dt_, c, LossReduction::Mean, check);
  EXPECT_EQ(got.count, want.count);
  EXPECT_TRUE(all_close(got.losses, want.losses, 1e-6));
  EXPECT_TRUE(all_close(std::vector<float>{got.reduced}, std::vector<float>{want.reduced}, 1e-6));
  const cuda::IndexCheck rec = check.get();
  EXPECT_EQ(rec.position, 69999);
  EXPECT_EQ(rec.value, c);
  EXPECT_EQ(rec.bound, c);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::CrossEntropy);
}

// An empty batch still launches for a reduction: the sum is 0, the mean NaN, as on the CPU.
TEST(CudaCrossEntropy, EmptyBatchAndAllIgnored) {
  DeviceBuffer<float> none(0);
  DeviceBuffer<int64_t> no_targets(0);
  Check check;
  const LossResult<float> sum =
      device_loss(true, kFloat32, none, no_targets, 5, LossReduction::Sum, check);
  EXPECT_EQ(sum.reduced, 0.0f);
  const LossResult<float> mean =
      device_loss(true, kFloat32, none, no_targets, 5, LossReduction::Mean, check);
  EXPECT_TRUE(std::isnan(mean.reduced));
  EXPECT_EQ(mean.count, 0);

  const std::vector<float> logits = testing::random_vector<float>(12, 3);
  DeviceBuffer<float> dlogits(logits);
  DeviceBuffer<int64_t> ignored(std::vector<int64_t>(4, kIgnore));
  for (bool fused : {true, false}) {
    const LossResult<float> got =
        device_loss(fused, kFloat32, dlogits, ignored, 3, LossReduction::Mean, check);
    EXPECT_TRUE(std::isnan(got.reduced));
    EXPECT_EQ(got.count, 0);
  }
  EXPECT_EQ(check.get().position, cuda::kNoBadIndex);
}

TEST(CudaCrossEntropy, BadTargetsRecordTheFirstAndStayInsideTheRow) {
  const int64_t n = 40, c = 7;
  const std::vector<float> logits = testing::random_vector<float>(static_cast<size_t>(n * c), 8);
  const std::vector<int64_t> t = make_targets(n, c, {33, 5, 20});  // c, -3, c
  cpu::TargetCheck cpu_check;
  const LossResult<float> want =
      cpu_loss(true, kFloat32, logits, t, c, LossReduction::None, &cpu_check);
  ASSERT_EQ(cpu_check.bad_index, 5);
  DeviceBuffer<float> dlogits(logits);
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  const LossResult<float> got =
      device_loss(true, kFloat32, dlogits, dt_, c, LossReduction::None, check);
  EXPECT_TRUE(all_close(got.losses, want.losses, 1e-6));
  cuda::IndexCheck rec = check.get();
  EXPECT_EQ(rec.position, 5);
  EXPECT_EQ(rec.value, -3);
  EXPECT_EQ(rec.bound, c);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::CrossEntropy);

  // A later launch with its own bad target leaves the earlier error recorded.
  DeviceBuffer<int64_t> other(make_targets(n, c, {2}));
  device_loss(false, kFloat32, dlogits, other, c, LossReduction::Sum, check);
  rec = check.get();
  EXPECT_EQ(rec.position, 5);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::CrossEntropy);

  // The backward must not write outside a bad row (cudasim's guards would fail the launch).
  const std::vector<float> g{0.5f};
  const int64_t count = 10;
  std::vector<float> want_g(static_cast<size_t>(n * c));
  cpu::cpu_backend.cross_entropy_backward(kFloat32, logits.data(), t.data(), n, c, kIgnore,
                                          g.data(), 0, &count, want_g.data());
  DeviceBuffer<float> dg(g), dglogits(static_cast<size_t>(n * c));
  DeviceBuffer<int64_t> dcount(std::vector<int64_t>{count});
  cuda::cross_entropy_backward(kFloat32, dlogits.get(), dt_.get(), n, c, kIgnore, dg.get(), 0,
                               dcount.get(), dglogits.get(), nullptr);
  EXPECT_TRUE(all_close(dglogits.download(), want_g, 1e-6));
}

TEST(CudaNllLoss, ForwardAndBackwardMatchCpu) {
  const int64_t n = 300, c = 9;
  std::vector<double> logp = testing::random_vector<double>(static_cast<size_t>(n * c), 4, -5, 0);
  const std::vector<int64_t> t = make_targets(n, c, {250, 17});
  cpu::TargetCheck cpu_check;
  const LossResult<double> want =
      cpu_loss(false, kFloat64, logp, t, c, LossReduction::Mean, &cpu_check);
  DeviceBuffer<double> dlogp(logp);
  DeviceBuffer<int64_t> dt_(t);
  Check check;
  const LossResult<double> got =
      device_loss(false, kFloat64, dlogp, dt_, c, LossReduction::Mean, check);
  EXPECT_TRUE(all_close(got.losses, want.losses));
  EXPECT_TRUE(
      all_close(std::vector<double>{got.reduced}, std::vector<double>{want.reduced}, 1e-13));
  EXPECT_EQ(got.count, cpu_check.valid_count);
  const cuda::IndexCheck rec = check.get();
  EXPECT_EQ(rec.position, cpu_check.bad_index);
  EXPECT_EQ(rec.value, -3);
  EXPECT_EQ(rec.kernel, cuda::CheckedKernel::NllLoss);

  const int64_t count = 4;
  DeviceBuffer<int64_t> dcount(std::vector<int64_t>{count});
  for (int64_t stride : {0, 1}) {
    const std::vector<double> g = testing::random_vector<double>(static_cast<size_t>(n), 1);
    std::vector<double> want_g(static_cast<size_t>(n * c));
    cpu::cpu_backend.nll_loss_backward(kFloat64, t.data(), n, c, kIgnore, g.data(), stride, &count,
                                       want_g.data());
    DeviceBuffer<double> dg(g), dglogp(static_cast<size_t>(n * c));
    const auto lb = launches_during("nll_loss_backward", [&] {
      cuda::nll_loss_backward(kFloat64, dt_.get(), n, c, kIgnore, dg.get(), stride, dcount.get(),
                              dglogp.get(), nullptr);
    });
    EXPECT_EQ(lb.total, 1);
    EXPECT_TRUE(all_close(dglogp.download(), want_g));
  }
}

}  // namespace
}  // namespace ember::kernels
