// Adam (Kingma & Ba) with optional L2 weight decay and AMSGrad: torch.optim.Adam's update
// rule, one fused kernel per parameter (kernels/common/backend_kernels.inc documents the formula).
// AdamW (adamw.h) is the same optimizer with decoupled weight decay.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ember/optim/optimizer.h>

namespace ember::optim {

struct AdamOptions : OptimizerOptions {
  using Betas = std::pair<double, double>;

  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}

  EMBER_OPTIM_ARG(double, lr);
  EMBER_OPTIM_ARG(Betas, betas) = {0.9, 0.999};
  EMBER_OPTIM_ARG(double, eps) = 1e-8;
  EMBER_OPTIM_ARG(double, weight_decay) = 0;
  EMBER_OPTIM_ARG(bool, amsgrad) = false;

 public:
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<AdamOptions>(*this);
  }
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  void visit_fields(const FieldVisitor& fn) override;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& defaults = AdamOptions());
  Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults = AdamOptions());

  void step() override;

 protected:
  // For AdamW: the same state and options, decoupled weight decay.
  Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults, bool decoupled,
       const char* name);

  void check_options(const OptimizerOptions& options) const override;
  std::vector<std::string> state_names() const override {
    return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  }
  void check_state(const std::string& key, const ParamState& state) const override;
  std::vector<BufferSpec> state_buffers(const OptimizerOptions& options) const override;

 private:
  bool decoupled_ = false;
  const char* name_ = "Adam";
};

}  // namespace ember::optim
