// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
// weight decay: torch.optim.SGD's update rule, one fused kernel per parameter
// (kernels/common/backend_kernels.inc documents the formula).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ember/optim/optimizer.h>

namespace ember::optim {

struct SGDOptions : OptimizerOptions {
  explicit SGDOptions(double lr) : lr_(lr) {}

  EMBER_OPTIM_ARG(double, lr);
  EMBER_OPTIM_ARG(double, momentum) = 0;
  EMBER_OPTIM_ARG(double, dampening) = 0;
  EMBER_OPTIM_ARG(double, weight_decay) = 0;
  EMBER_OPTIM_ARG(bool, nesterov) = false;

 public:
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<SGDOptions>(*this);
  }
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  void visit_fields(const FieldVisitor& fn) override;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& defaults);
  SGD(std::vector<ParamGroup> groups, const SGDOptions& defaults);

  void step() override;

 protected:
  void check_options(const OptimizerOptions& options) const override;
  std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
  std::vector<BufferSpec> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace ember::optim
