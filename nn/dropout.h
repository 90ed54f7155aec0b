// nn::Dropout: inverted dropout in training mode, the identity in eval mode.
#pragma once

#include <string>

#include <ember/core/generator.h>
#include <ember/nn/module.h>

namespace ember::nn {

class Dropout : public Module {
 public:
  // 0 <= p <= 1. Masks come from `gen` (kept by pointer; must outlive the module) or the
  // default generator.
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  double p;

 private:
  Generator* gen_;
};

}  // namespace ember::nn
