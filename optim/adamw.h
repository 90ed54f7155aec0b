// AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient
// (p *= 1 - lr * weight_decay before the Adam update), as torch.optim.AdamW. Same options
// and state as Adam; AdamWOptions only changes the weight_decay default to 1e-2.
#pragma once

#include <memory>
#include <vector>

#include <ember/optim/adam.h>

namespace ember::optim {

struct AdamWOptions : AdamOptions {
  explicit AdamWOptions(double lr = 1e-3) : AdamOptions(lr) { weight_decay(1e-2); }
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, const AdamOptions& defaults = AdamWOptions())
      : AdamW(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}
  AdamW(std::vector<ParamGroup> groups, const AdamOptions& defaults = AdamWOptions())
      : Adam(std::move(groups), defaults, true, "AdamW") {}
};

}  // namespace ember::optim
