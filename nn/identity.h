// nn::Identity: returns its input; a placeholder where a layer is optional.
#pragma once

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

class IdentityImpl : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input; }
};
EMBER_MODULE(Identity);

}  // namespace ember::nn
