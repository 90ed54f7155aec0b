// Activation modules: thin stateless wrappers over ember's activation ops, so they can sit
// in a Sequential and print their settings.
#pragma once

#include <string>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

class ReLUImpl : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};
EMBER_MODULE(ReLU);

class SigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};
EMBER_MODULE(Sigmoid);

class TanhImpl : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};
EMBER_MODULE(Tanh);

// log(1 + exp(beta x)) / beta, linear above beta x > threshold.
class SoftplusImpl : public Module {
 public:
  explicit SoftplusImpl(double beta = 1.0, double threshold = 20.0);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double beta, threshold;
};
EMBER_MODULE(Softplus);

class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(double negative_slope = 0.01);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double negative_slope;
};
EMBER_MODULE(LeakyReLU);

// approximate: "none" (exact, erf) or "tanh".
class GELUImpl : public Module {
 public:
  explicit GELUImpl(std::string approximate = "none");
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  std::string approximate;
};
EMBER_MODULE(GELU);

}  // namespace ember::nn
