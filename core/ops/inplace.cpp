// In-place ops. They write into the tensor's own memory and bump its version counter (Note
// [Version counter]); they are not recorded by autograd (see inplace_check.h).
#include <cmath>
#include <limits>

#include <ember/core/ops/inplace_check.h>
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using detail::backend_of;

Tensor& inplace_binary(const char* name, BinaryOp op, Tensor& self, const Tensor& other_in) {
  detail::check_inplace(name, self, &other_in);
  detail::check_defined(name, other_in, "other");
  detail::check_same_device(name, self, other_in);
  EMBER_CHECK(is_floating(self.dtype()) || !is_floating(other_in.dtype()), DTypeError, name,
              ": result type ", other_in.dtype(), " can't be cast to the ", self.dtype(),
              " tensor being updated");
  const Shape shape = detail::broadcast_shapes(name, self.sizes(), other_in.sizes());
  EMBER_CHECK(shape == self.sizes(), ShapeError, name, ": operand of shape ", other_in.sizes(),
              " doesn't broadcast to the updated tensor's shape ", self.sizes());
  Tensor other = other_in.dtype() == self.dtype() ? other_in : other_in.to(self.dtype());
  if (detail::overlaps_partially(self, other)) other = other.clone();
  if (self.numel() == 0) return self;
  if (self.is_contiguous()) {
    backend_of(self).binary(op, self.dtype(), detail::contiguous_layout(self.sizes()),
                            self.data_ptr(), detail::broadcast_layout(other, self.sizes()),
                            other.data_ptr(), self.data_ptr());
  } else {
    Tensor tmp = detail::make_tensor(self.sizes(), self.dtype(), self.device());
    backend_of(self).binary(op, self.dtype(), detail::layout_of(self), self.data_ptr(),
                            detail::broadcast_layout(other, self.sizes()), other.data_ptr(),
                            tmp.data_ptr());
    backend_of(self).copy(self.dtype(), detail::layout_of(tmp), tmp.data_ptr(), self.dtype(),
                          detail::layout_of(self), self.data_ptr());
  }
  self.impl()->storage->bump_version();
  return self;
}

Tensor& inplace_scalar(const char* name, BinaryOp op, Tensor& self, double value) {
  detail::check_inplace(name, self);
  EMBER_CHECK(is_floating(self.dtype()) || std::nearbyint(value) == value, DTypeError, name,
              ": non-integral value ", value, " can't update a ", self.dtype(), " tensor");
  detail::check_scalar_fits(name, "value", value, self.dtype());
  if (self.numel() == 0) return self;
  if (self.is_contiguous()) {
    backend_of(self).binary_scalar(op, self.dtype(), self.data_ptr(), value, false, self.data_ptr(),
                                   self.numel());
  } else {
    Tensor tmp = detail::contiguous_data(self);
    backend_of(self).binary_scalar(op, self.dtype(), tmp.data_ptr(), value, false, tmp.data_ptr(),
                                   tmp.numel());
    backend_of(self).copy(self.dtype(), detail::layout_of(tmp), tmp.data_ptr(), self.dtype(),
                          detail::layout_of(self), self.data_ptr());
  }
  self.impl()->storage->bump_version();
  return self;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  if (alpha == 1.0) return inplace_binary("add_", BinaryOp::Add, *this, other);
  detail::check_inplace("add_", *this, &other);  // before grad mode goes off below
  NoGradGuard no_grad;                           // the scaled temporary is not part of any graph
  return inplace_binary("add_", BinaryOp::Add, *this, other * alpha);
}
Tensor& Tensor::sub_(const Tensor& other, double alpha) {
  return add_(other, -alpha);
}
Tensor& Tensor::add_(double value) {
  return inplace_scalar("add_", BinaryOp::Add, *this, value);
}
Tensor& Tensor::mul_(const Tensor& other) {
  return inplace_binary("mul_", BinaryOp::Mul, *this, other);
}
Tensor& Tensor::mul_(double value) {
  return inplace_scalar("mul_", BinaryOp::Mul, *this, value);
}
Tensor& Tensor::div_(double value) {
  detail::check_floating("div_", *this);
  return inplace_scalar("div_", BinaryOp::Div, *this, value);
}

Tensor& Tensor::fill_(double value) {
  detail::check_inplace("fill_", *this);
  detail::check_scalar_fits("fill_", "value", value, dtype());
  if (numel() > 0) backend_of(*this).fill(dtype(), detail::layout_of(*this), data_ptr(), value);
  impl()->storage->bump_version();
  return *this;
}
Tensor& Tensor::zero_() {
  return fill_(0.0);
}

Tensor& Tensor::clamp_(std::optional<double> min, std::optional<double> max) {
  detail::check_inplace("clamp_", *this);
  Tensor clamped;
  {
    NoGradGuard no_grad;
    clamped = ember::clamp(*this, min, max);
  }
  if (numel() > 0)
    backend_of(*this).copy(dtype(), detail::layout_of(clamped), clamped.data_ptr(), dtype(),
                           detail::layout_of(*this), data_ptr());
  impl()->storage->bump_version();
  return *this;
}

}  // namespace ember
