// The op harness's value and gradient modes (tests/op_harness.h): one ctest entry per case and
// device -- "cpu/OpHarness.Value/<case>", "cuda/OpHarnessGradient.Gradient/<case>", ... -- so a
// listing shows what runs where. The CUDA entries run on cudasim in the SIM build and on the GPU in
// an nvcc build on a machine with one; elsewhere they are skipped.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "cuda/backend_test_util.h"
#include "gradcheck.h"
#include "op_harness.h"

namespace ember {
namespace {

using testing::harness::inputs_on;
using testing::tutorial::In;
using testing::tutorial::OpCase;

const std::vector<OpCase>& cases() {
  return testing::tutorial::cases();
}

struct HarnessCase {
  Device device;
  size_t index;
};

// Every case on `device`, or only the differentiable ones.
std::vector<HarnessCase> on(Device device, bool differentiable_only) {
  std::vector<HarnessCase> out;
  for (size_t i = 0; i < cases().size(); ++i)
    if (!differentiable_only || cases()[i].grad) out.push_back({device, i});
  return out;
}

// ctest names each entry after this: "cpu/OpHarness.Value/003_cat_dim_0".
void PrintTo(const HarnessCase& c, std::ostream* os) {
  *os << testing::harness::case_name(c.index, cases()[c.index]);
}

// `out` against the case's hand-computed result, within its tolerance (NaN matches NaN).
::testing::AssertionResult matches(const Tensor& out, const OpCase& c) {
  if (out.sizes() != c.shape)
    return ::testing::AssertionFailure() << "shape " << out.sizes() << ", expected " << c.shape;
  const std::vector<double> got = out.to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = c.expected[i], g = got[i];
    const bool ok = std::isnan(e)   ? std::isnan(g)
                    : std::isinf(e) ? g == e
                                    : std::abs(g - e) <= c.tol * std::max(1.0, std::abs(e));
    if (!ok) return ::testing::AssertionFailure() << "element " << i << ": " << g << " vs " << e;
  }
  return ::testing::AssertionSuccess();
}

// Input gradients of <fn(inputs), v> for the floating inputs (leaves made to require grad).
std::vector<Tensor> input_grads(const OpCase& c, In inputs, const Tensor& v_cpu) {
  std::vector<Tensor> wrt;
  for (Tensor& t : inputs)
    if (is_floating(t.dtype())) wrt.push_back(t.requires_grad_(true));
  Tensor out = c.fn(inputs);
  Tensor proj = sum(out * v_cpu.to(out.device()));
  return autograd::grad({proj}, wrt, {}, false, /*allow_unused=*/true);
}

class OpHarness : public ::testing::TestWithParam<HarnessCase> {
 protected:
  void SetUp() override {
    if (device().is_cuda() && !cuda::is_available())
      GTEST_SKIP() << "no CUDA device (nor cudasim) in this build";
  }
  Device device() const { return GetParam().device; }
  const OpCase& op_case() const { return cases()[GetParam().index]; }
};

// The hand-computed value in float32 and float64 on the device; on a GPU, the CPU's too.
TEST_P(OpHarness, Value) {
  const OpCase& c = op_case();
  ASSERT_EQ(c.expected.size(), static_cast<size_t>(c.shape.numel())) << "a malformed case";
  const Tensor out = c.fn(inputs_on(c, kFloat32, device()));
  EXPECT_EQ(out.device(), device());
  EXPECT_TRUE(matches(out, c));
  const Tensor out64 = c.fn(inputs_on(c, kFloat64, device()));
  if (is_floating(out64.dtype())) {
    EXPECT_EQ(out64.dtype(), kFloat64);
  }
  EXPECT_TRUE(matches(out64, c)) << "float64";
  if (device().is_cuda()) {
    EXPECT_TRUE(cuda_backend_test::same_values(out, c.fn(c.inputs(kFloat32)), 1e-5));
  }
}

using OpHarnessGradient = OpHarness;

// float64 gradcheck on the device; on a GPU, the float32 input gradients against the CPU's.
TEST_P(OpHarnessGradient, Gradient) {
  const OpCase& c = op_case();
  EXPECT_TRUE(testing::gradcheck(c.fn, inputs_on(c, kFloat64, device())));
  if (!device().is_cuda()) return;
  Generator gen(99);
  const Tensor v = randn(c.shape, kFloat32, &gen);
  const std::vector<Tensor> want = input_grads(c, c.inputs(kFloat32), v);
  const std::vector<Tensor> got = input_grads(c, inputs_on(c, kFloat32, device()), v);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].defined(), got[i].defined()) << "gradient " << i;
    if (want[i].defined()) {
      EXPECT_TRUE(cuda_backend_test::same_values(got[i], want[i], 1e-5)) << "gradient " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(cpu, OpHarness, ::testing::ValuesIn(on(kCPU, false)));
INSTANTIATE_TEST_SUITE_P(cuda, OpHarness, ::testing::ValuesIn(on(Device::cuda(0), false)));
INSTANTIATE_TEST_SUITE_P(cpu, OpHarnessGradient, ::testing::ValuesIn(on(kCPU, true)));
INSTANTIATE_TEST_SUITE_P(cuda, OpHarnessGradient, ::testing::ValuesIn(on(Device::cuda(0), true)));

// The table did not silently lose cases: every family the harness promises is in it.
TEST(OpHarnessTable, CoversThePublicOps) {
  int differentiable = 0;
  std::set<std::string> ops;
  for (const OpCase& c : cases()) {
    differentiable += c.grad;
    ops.insert(c.op);
  }
  EXPECT_GT(cases().size(), 150u);
  EXPECT_GT(differentiable, 100);
  for (const char* op :
       {"linear", "cross_entropy", "nll_loss", "mse_loss", "scatter_add", "dropout", "to", "copy_",
        "fused::sgd_step_", "fused::adam_step_", "matmul", "softmax", "gather", "sum"})
    EXPECT_TRUE(ops.contains(op)) << op;
}

}  // namespace
}  // namespace ember
