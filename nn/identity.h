// nn::Identity: returns its input; a placeholder where a layer is optional.
#pragma once

#include <ember/nn/module.h>

namespace ember::nn {

class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input; }
};

}  // namespace ember::nn
