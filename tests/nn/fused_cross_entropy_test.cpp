// cross_entropy's fused backward (Note [Unit gradient] in core/autograd/unit_gradient.h): when
// the loss itself is differentiated, the gradient its forward wrote is handed on, and it must
// be bit for bit what the unfused backward computes (an explicit upstream gradient of ones
// takes the unfused path), for mean and sum, with and without ignored targets, on every
// device; anything but the seed (a scaled loss, autograd::grad with a given gradient) still
// gets the right gradient; and the seed constant is never written.
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

using namespace ember;

namespace {

struct Case {
  Reduction reduction;
  std::vector<int64_t> targets;  // -100 (the default ignore_index) where ignored
};

std::vector<float> grad_of(const Tensor& logits_host, const Case& c, bool fused) {
  Tensor logits = logits_host.to(default_device()).detach().requires_grad_(true);
  const Tensor y =
      from_vector<int64_t>(c.targets, std::nullopt, TensorOptions(kInt64).device(default_device()));
  Tensor loss = cross_entropy(logits, y, c.reduction);
  if (fused) {
    loss.backward();
  } else {
    loss.backward(full_like(loss, 1.0));  // not the seed constant: the unfused kernel
  }
  return logits.grad().to_vector<float>();
}

TEST(FusedCrossEntropy, TheForwardsGradientEqualsTheBackwardsBitForBit) {
  Generator gen(4);
  const Tensor logits = randn({6, 5}, TensorOptions(kFloat32).device(kCPU), &gen) * 3.0;
  const std::vector<Case> cases = {
      {Reduction::Mean, {0, 4, 2, 2, 1, 3}},
      {Reduction::Sum, {0, 4, 2, 2, 1, 3}},
      {Reduction::Mean, {0, -100, 2, -100, 1, 3}},  // the divisor is 4, not 6
      {Reduction::Sum, {-100, 4, 2, 2, -100, 3}},
      {Reduction::Mean, {-100, -100, -100, -100, -100, -100}},
  };
  for (const Case& c : cases) {
    const std::vector<float> fused = grad_of(logits, c, true), plain = grad_of(logits, c, false);
    ASSERT_EQ(fused.size(), plain.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      if (std::isnan(plain[i])) {
        EXPECT_TRUE(std::isnan(fused[i])) << i;
      } else {
        EXPECT_EQ(fused[i], plain[i])
            << "element " << i << ", reduction " << static_cast<int>(c.reduction);
      }
    }
  }
}

TEST(FusedCrossEntropy, OtherUpstreamGradientsStillScaleTheGradient) {
  Generator gen(5);
  const Tensor host = randn({4, 3}, TensorOptions(kFloat32).device(kCPU), &gen);
  const Tensor y = from_vector<int64_t>({0, 2, 1, 1}, std::nullopt,
                                        TensorOptions(kInt64).device(default_device()));
  Tensor a = host.to(default_device()).detach().requires_grad_(true);
  cross_entropy(a, y).backward();
  Tensor b = host.to(default_device()).detach().requires_grad_(true);
  (cross_entropy(b, y) * 2.0).backward();
  const std::vector<float> ga = a.grad().to_vector<float>(), gb = b.grad().to_vector<float>();
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_FLOAT_EQ(gb[i], 2.0f * ga[i]) << i;
  Tensor c = host.to(default_device()).detach().requires_grad_(true);
  const Tensor gc = autograd::grad({cross_entropy(c, y)}, {c}, {full({}, 0.5)})[0];
  const std::vector<float> half = gc.to_vector<float>();
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_FLOAT_EQ(half[i], 0.5f * ga[i]) << i;
}

// The seed is shared by every backward: a leaf loss's .grad is a copy, so writing it leaves
// later backward calls seeded with 1.
TEST(FusedCrossEntropy, TheSeedConstantIsNeverWritten) {
  Tensor leaf = full({}, 3.0, TensorOptions().device(default_device())).requires_grad_(true);
  leaf.backward();
  leaf.grad().mul_(7.0);
  Tensor x = full({}, 2.0, TensorOptions().device(default_device())).requires_grad_(true);
  (x * 5.0).backward();
  EXPECT_EQ(x.grad().item<float>(), 5.0f);
}

}  // namespace
