// CPU <-> CUDA parity of the tutorial ops beyond the cases of tests/core/tutorial_ops_cases.h
// (which the op harness, op_harness_test.cpp, runs on every device): larger inputs for the ops
// with their own forward code, and errors on the device. Public API only, so it runs in every
// build: on cudasim in the SIM build, on the GPU in an nvcc build on a machine with one;
// skipped where there is no CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "core/tutorial_ops_cases.h"
#include "cuda/backend_test_util.h"

namespace ember {
namespace {

using cuda_backend_test::kCuda;
using cuda_backend_test::same_values;

class TutorialOpsCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device (nor cudasim) in this build";
  }
};

// Larger inputs for the ops with their own forward code: sort/topk/kthvalue (rows along a
// middle dim), cat of non-contiguous pieces, statistics over several dims.
TEST_F(TutorialOpsCuda, LargerInputsMatchTheCpu) {
  Generator gen(5);
  const Tensor x = randn({3, 200, 5}, kFloat32, &gen);
  const Tensor xg = x.to(kCuda);
  for (bool descending : {false, true}) {
    auto [v, i] = sort(x, 1, descending);
    auto [vg, ig] = sort(xg, 1, descending);
    EXPECT_TRUE(same_values(vg, v, 0));
    EXPECT_TRUE(same_values(ig, i, 0));
  }
  EXPECT_TRUE(same_values(std::get<1>(topk(xg, 7, 1)), std::get<1>(topk(x, 7, 1)), 0));
  EXPECT_TRUE(same_values(std::get<0>(kthvalue(xg, 50, 1)), std::get<0>(kthvalue(x, 50, 1)), 0));
  EXPECT_TRUE(same_values(argsort(xg, 0, true), argsort(x, 0, true), 0));
  EXPECT_TRUE(same_values(cat({xg.transpose(0, 2), xg.transpose(0, 2)}, 1),
                          cat({x.transpose(0, 2), x.transpose(0, 2)}, 1), 0));
  EXPECT_TRUE(same_values(var(xg, {0, 2}), var(x, {0, 2}), 1e-5));
  EXPECT_TRUE(same_values(norm(xg, 3, {1}), norm(x, 3, {1}), 1e-5));
  EXPECT_TRUE(same_values(prod(xg.narrow(1, 0, 4), 1), prod(x.narrow(1, 0, 4), 1), 1e-5));
  const Tensor idx = randint(0, 200, {50}, kInt64, &gen);
  EXPECT_TRUE(same_values(index_select(xg, 1, idx.to(kCuda)), index_select(x, 1, idx), 0));
  EXPECT_TRUE(same_values(all(gt(xg, -3.0), 1), all(gt(x, -3.0), 1), 0));
}

TEST_F(TutorialOpsCuda, ErrorsOnTheDevice) {
  const Tensor xg = zeros({2, 3}, kCuda);
  // Found on the device without a host wait; thrown where ember next waits, as gather's.
  EXPECT_THROW((void)index_select(xg, 1, from_vector<int64_t>({0, 3}).to(kCuda)).cpu(), IndexError);
  EXPECT_THROW(index_select(xg, 1, from_vector<int64_t>({0})), DeviceError);  // index on CPU
  EXPECT_THROW(cat({xg, zeros({2, 3})}), DeviceError);
  EXPECT_THROW(masked_fill(xg, zeros({2, 3}, kBool), 1), DeviceError);
  EXPECT_THROW(topk(xg, 4), IndexError);
}

}  // namespace
}  // namespace ember
