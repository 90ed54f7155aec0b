// nn::Dropout: inverted dropout in training mode, the identity in eval mode.
#pragma once

#include <string>

#include <ember/core/generator.h>
#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

class DropoutImpl : public Module {
 public:
  // 0 <= p <= 1. Masks come from `gen` (kept by pointer; must outlive the module) or the
  // default generator.
  explicit DropoutImpl(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double p;

 private:
  Generator* gen_;
};
EMBER_MODULE(Dropout);

}  // namespace ember::nn
