// Unary elementwise ops and activations. One generic path: contiguous input -> kernel ->
// contiguous output, and one backward node that calls the op's derivative functor (the
// same functor the CUDA kernels use, kernels/common/unary_functors.h).
#include <cmath>
#include <limits>

#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

class UnaryBackward final : public Node {
 public:
  UnaryBackward(const char* name, UnaryOp op, UnaryParams p, const Tensor& x, const Tensor& y)
      : name_(name), op_(op), p_(p), x_(x), y_(y, /*is_output=*/true) {}

  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor x = x_.unpack(*this);
    Tensor y = y_.unpack(*this);
    // Derivative 0 almost everywhere: PyTorch gives zeros, not an error.
    if (kernels::unary_has_zero_gradient(op_)) return {zeros_like(x)};
    Tensor gc = detail::contiguous_data(g);
    Tensor gx = detail::make_tensor(x.sizes(), x.dtype(), x.device());
    if (gx.numel() > 0)
      backend_of(x).unary_backward(op_, x.dtype(), x.data_ptr(), y.data_ptr(), gc.data_ptr(),
                                   gx.data_ptr(), x.numel(), p_);
    return {gx};
  }
  std::string name() const override { return name_; }
  void release_saved() override {
    x_.reset();
    y_.reset();
  }

 private:
  std::string name_;
  UnaryOp op_;
  UnaryParams p_;
  SavedTensor x_, y_;
};

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, UnaryParams p = {}) {
  detail::check_defined(name, x);
  if (!kernels::unary_supports_int(op) || x.dtype() == kBool) detail::check_floating(name, x);
  Tensor xc = detail::contiguous_data(x);
  Tensor y = detail::make_tensor(x.sizes(), x.dtype(), x.device());
  if (y.numel() > 0) backend_of(x).unary(op, x.dtype(), xc.data_ptr(), y.data_ptr(), y.numel(), p);
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<UnaryBackward>(name, op, p, xc, y), {&x}, y);
  return y;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

Tensor neg(const Tensor& x) {
  return unary_op("neg", UnaryOp::Neg, x);
}
Tensor abs(const Tensor& x) {
  return unary_op("abs", UnaryOp::Abs, x);
}
Tensor sign(const Tensor& x) {
  return unary_op("sign", UnaryOp::Sign, x);
}
Tensor exp(const Tensor& x) {
  return unary_op("exp", UnaryOp::Exp, x);
}
Tensor log(const Tensor& x) {
  return unary_op("log", UnaryOp::Log, x);
}
Tensor log2(const Tensor& x) {
  return unary_op("log2", UnaryOp::Log2, x);
}
Tensor log10(const Tensor& x) {
  return unary_op("log10", UnaryOp::Log10, x);
}
Tensor sqrt(const Tensor& x) {
  return unary_op("sqrt", UnaryOp::Sqrt, x);
}
Tensor rsqrt(const Tensor& x) {
  return unary_op("rsqrt", UnaryOp::Rsqrt, x);
}
Tensor floor(const Tensor& x) {
  return unary_op("floor", UnaryOp::Floor, x);
}
Tensor ceil(const Tensor& x) {
  return unary_op("ceil", UnaryOp::Ceil, x);
}
Tensor round(const Tensor& x) {
  return unary_op("round", UnaryOp::Round, x);
}
Tensor trunc(const Tensor& x) {
  return unary_op("trunc", UnaryOp::Trunc, x);
}
Tensor frac(const Tensor& x) {
  return unary_op("frac", UnaryOp::Frac, x);
}
Tensor pow(const Tensor& x, double e) {
  return unary_op("pow", UnaryOp::PowScalar, x, {e, 0});
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  EMBER_CHECK(min || max, ValueError, "clamp: at least one of min and max must be given");
  return unary_op("clamp", UnaryOp::Clamp, x, {min.value_or(-kInf), max.value_or(kInf)});
}
Tensor clamp_min(const Tensor& x, double min) {
  return clamp(x, min, std::nullopt);
}
Tensor clamp_max(const Tensor& x, double max) {
  return clamp(x, std::nullopt, max);
}

Tensor relu(const Tensor& x) {
  return unary_op("relu", UnaryOp::Relu, x);
}
Tensor sigmoid(const Tensor& x) {
  return unary_op("sigmoid", UnaryOp::Sigmoid, x);
}
Tensor tanh(const Tensor& x) {
  return unary_op("tanh", UnaryOp::Tanh, x);
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  EMBER_CHECK(beta != 0, ValueError, "softplus: beta must be nonzero");
  return unary_op("softplus", UnaryOp::Softplus, x, {beta, threshold});
}
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary_op("leaky_relu", UnaryOp::LeakyRelu, x, {negative_slope, 0});
}
Tensor elu(const Tensor& x, double alpha) {
  return unary_op("elu", UnaryOp::Elu, x, {alpha, 0});
}
Tensor gelu(const Tensor& x, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
              "gelu: approximate must be 'none' or 'tanh', got '", approximate, "'");
  return unary_op("gelu", UnaryOp::Gelu, x, {approximate == "tanh" ? 1.0 : 0.0, 0});
}

}  // namespace ember
