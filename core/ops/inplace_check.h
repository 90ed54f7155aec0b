// The rule for in-place ops and autograd. ember does not record in-place ops in the graph,
// so while grad mode is on an in-place op may not touch a tensor that requires grad (nor
// read one that does, since its gradient would be lost). Optimizers and init functions run
// under NoGradGuard, where in-place updates of parameters are exactly what is wanted.
#pragma once

#include <string_view>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/tensor.h>

namespace ember::detail {

inline void check_inplace(const char* op, const Tensor& self, const Tensor* other = nullptr) {
  EMBER_CHECK(self.defined(), ValueError, op, ": in-place op on an undefined tensor");
  if (!GradMode::is_enabled()) return;
  EMBER_CHECK(!self.requires_grad(), AutogradError, op,
              ": in-place operation on a tensor of shape ", self.sizes(),
              " that requires grad. ember does not record in-place ops; use the out-of-place "
              "form, or wrap the update in NoGradGuard (as optimizers do)");
  EMBER_CHECK(other == nullptr || !other->defined() || !other->requires_grad(), AutogradError, op,
              ": in-place operation reading a tensor that requires grad would drop its "
              "gradient; use the out-of-place form");
}

}  // namespace ember::detail
