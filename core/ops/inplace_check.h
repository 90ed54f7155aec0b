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

// Whether an in-place op writing `self` element by element may overwrite an element of `other`
// before reading it: both view one storage, their element ranges meet, and `other` is not the
// very same view (x.add_(x) reads each element just before writing it, which is safe). Callers
// then read a copy of `other`, so x.add_(x.t()) means x + x.t() of the old values, as NumPy
// computes it (PyTorch raises instead).
inline bool overlaps_partially(const Tensor& self, const Tensor& other) {
  if (!other.defined() || !self.shares_storage(other) || self.numel() == 0 || other.numel() == 0)
    return false;
  if (self.storage_offset() == other.storage_offset() && self.sizes() == other.sizes() &&
      self.strides() == other.strides())
    return false;
  auto last = [](const Tensor& t) {  // the highest element offset the view touches
    int64_t end = t.storage_offset();
    for (int d = 0; d < t.dim(); ++d) end += (t.size(d) - 1) * t.stride(d);
    return end;
  };
  return self.storage_offset() <= last(other) && other.storage_offset() <= last(self);
}

}  // namespace ember::detail
