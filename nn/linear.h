// nn::Linear: y = x Wᵀ + b, with PyTorch's default initialisation.
#pragma once

#include <cstdint>

#include <ember/core/generator.h>
#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

class LinearImpl : public Module {
 public:
  // Weight (out_features, in_features) and bias (out_features), float32 on the CPU
  // (convert with to()). Initialised by reset_parameters() from `gen` or the default
  // generator, so ember::manual_seed makes the weights reproducible.
  LinearImpl(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr);

  // PyTorch's default: kaiming_uniform_(weight, a = sqrt(5)), i.e. uniform in
  // ±1/sqrt(in_features), and the bias uniform in the same range.
  void reset_parameters(Generator* gen = nullptr);

  // x of shape (..., in_features) -> (..., out_features).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t in_features, out_features;
  Tensor weight;
  Tensor bias;  // undefined when constructed with bias = false
};
EMBER_MODULE(Linear);

}  // namespace ember::nn
