// nn::Flatten: merges dims start_dim..end_dim into one (by default all but the batch dim).
#pragma once

#include <string>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(int start_dim = 1, int end_dim = -1)
      : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& input) override { return input.flatten(start_dim, end_dim); }
  std::string extra_repr() const override {
    return detail::str_cat("start_dim=", start_dim, ", end_dim=", end_dim);
  }
  int start_dim, end_dim;
};
EMBER_MODULE(Flatten);

}  // namespace ember::nn
