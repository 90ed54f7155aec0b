// layer_norm and batch_norm, as torch.nn.functional's: the statistics, the normalised output
// and the three gradients come from the norm kernels (one-pass Welford statistics); batch
// norm's running statistics are updated on the input's device with no host wait, and its
// evaluation mode is ordinary broadcasting ops over the running statistics.
#include <array>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

const void* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

// The gradient buffer for input `i` of `node` if that input wants one, else undefined.
Tensor grad_buffer(const Node& node, size_t i, const Tensor& like) {
  if (!like.defined() || !node.next_edges[i].valid()) return Tensor();
  return detail::make_tensor(like.sizes(), like.dtype(), like.device());
}

void* ptr_or_null(Tensor& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

// Checks an optional per-feature parameter (weight, bias, running statistics) against x.
void check_param(const char* op, const char* what, const Tensor& p, const Tensor& x,
                 const Shape& expected) {
  if (!p.defined()) return;
  detail::check_same_device(op, x, p);
  EMBER_CHECK(p.dtype() == x.dtype(), DTypeError, op, ": ", what, " is ", dtype_name(p.dtype()),
              " but the input is ", dtype_name(x.dtype()));
  EMBER_CHECK(p.sizes() == expected, ShapeError, op, ": ", what, " of shape ", p.sizes(),
              " does not match the expected shape ", expected);
}

// Both norms' backward: the kernels take the saved input, statistics and weight, and write
// the gradients of the inputs that want one (x, weight, bias; null pointers for the rest).
// `dims` is (rows, cols) for layer norm and (n, c, inner) for batch norm; `param_sizes` the
// shape of weight and bias.
class NormBackward final : public Node {
 public:
  enum class Kind { Layer, Batch };
  NormBackward(Kind kind, const Tensor& x, const Tensor& mean, const Tensor& rstd,
               const Tensor& weight, Shape param_sizes, std::array<int64_t, 3> dims)
      : kind_(kind),
        x_(x),
        mean_(mean),
        rstd_(rstd),
        weight_(weight),
        param_sizes_(std::move(param_sizes)),
        dims_(dims) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor x = x_.unpack(*this);
    const Tensor weight = weight_.unpack(*this);
    const Tensor gc = detail::contiguous_data(g);
    Tensor gx = grad_buffer(*this, 0, x);
    Tensor gw = grad_buffer(*this, 1, weight);
    Tensor gb =
        next_edges[2].valid() ? detail::make_tensor(param_sizes_, x.dtype(), x.device()) : Tensor();
    Backend& be = backend_of(x);
    if (kind_ == Kind::Layer)
      be.layer_norm_backward(x.dtype(), x.data_ptr(), gc.data_ptr(), mean_.data_ptr(),
                             rstd_.data_ptr(), data_or_null(weight), dims_[0], dims_[1],
                             ptr_or_null(gx), ptr_or_null(gw), ptr_or_null(gb));
    else
      be.batch_norm_backward(x.dtype(), x.data_ptr(), gc.data_ptr(), mean_.data_ptr(),
                             rstd_.data_ptr(), data_or_null(weight), dims_[0], dims_[1], dims_[2],
                             ptr_or_null(gx), ptr_or_null(gw), ptr_or_null(gb));
    return {gx, gw, gb};
  }
  std::string name() const override {
    return kind_ == Kind::Layer ? "LayerNormBackward" : "BatchNormBackward";
  }
  void release_saved() override {
    x_.reset();
    weight_.reset();
    mean_ = Tensor();
    rstd_ = Tensor();
  }

 private:
  Kind kind_;
  SavedTensor x_;
  Tensor mean_, rstd_;
  SavedTensor weight_;
  Shape param_sizes_;
  std::array<int64_t, 3> dims_;
};

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  constexpr const char* op = "layer_norm";
  detail::check_defined(op, x);
  detail::check_floating(op, x);
  const int k = static_cast<int>(normalized_shape.size());
  EMBER_CHECK(k >= 1, ValueError, op, ": normalized_shape must name at least one dim");
  EMBER_CHECK(k <= x.dim(), ShapeError, op, ": normalized_shape ", normalized_shape,
              " has more dims than the input of shape ", x.sizes());
  const Shape trailing(x.sizes().end() - k, x.sizes().end());
  EMBER_CHECK(trailing == normalized_shape, ShapeError, op, ": the input of shape ", x.sizes(),
              " does not end in normalized_shape ", normalized_shape);
  EMBER_CHECK(eps >= 0, ValueError, op, ": eps must be >= 0, got ", eps);
  check_param(op, "weight", weight, x, normalized_shape);
  check_param(op, "bias", bias, x, normalized_shape);
  const int64_t cols = normalized_shape.numel();
  const int64_t rows = cols == 0 ? 0 : x.numel() / cols;
  const Tensor xc = detail::contiguous_data(x).detach();
  const Tensor w = weight.defined() ? detail::contiguous_data(weight) : Tensor();
  const Tensor b = bias.defined() ? detail::contiguous_data(bias) : Tensor();
  Tensor y = detail::make_tensor(x.sizes(), x.dtype(), x.device());
  Tensor mean = detail::make_tensor({rows}, x.dtype(), x.device());
  Tensor rstd = detail::make_tensor({rows}, x.dtype(), x.device());
  if (rows > 0 && cols > 0)
    backend_of(x).layer_norm_forward(x.dtype(), xc.data_ptr(), data_or_null(w), data_or_null(b),
                                     rows, cols, eps, y.data_ptr(), mean.data_ptr(),
                                     rstd.data_ptr());
  if (autograd::needs_grad(x, weight, bias)) {
    autograd::attach(
        std::make_shared<NormBackward>(NormBackward::Kind::Layer, xc, mean, rstd, w,
                                       normalized_shape, std::array<int64_t, 3>{rows, cols, 0}),
        {&x, &weight, &bias}, y);
  }
  return y;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  constexpr const char* op = "batch_norm";
  detail::check_defined(op, x);
  detail::check_floating(op, x);
  EMBER_CHECK(x.dim() >= 2, ShapeError, op, ": expected an input of shape (N, C, ...), got ",
              x.sizes());
  EMBER_CHECK(eps >= 0, ValueError, op, ": eps must be >= 0, got ", eps);
  const int64_t n = x.size(0), c = x.size(1);
  const int64_t inner = c == 0 || n == 0 ? 0 : x.numel() / (n * c);
  const Shape channels{c};
  check_param(op, "weight", weight, x, channels);
  check_param(op, "bias", bias, x, channels);
  check_param(op, "running_mean", running_mean, x, channels);
  check_param(op, "running_var", running_var, x, channels);
  EMBER_CHECK(running_mean.defined() == running_var.defined(), ValueError, op,
              ": running_mean and running_var must both be given or both be undefined");
  const bool use_batch_stats = training || !running_mean.defined();

  if (!use_batch_stats) {
    // Evaluation: a fixed affine map per channel, differentiable through ordinary ops.
    Shape per_channel;
    per_channel.resize(x.dim(), 1);
    per_channel[1] = c;
    Tensor y = (x - running_mean.detach().reshape(per_channel)) *
               rsqrt(running_var.detach().reshape(per_channel) + eps);
    if (weight.defined()) y = y * weight.reshape(per_channel);
    if (bias.defined()) y = y + bias.reshape(per_channel);
    return y;
  }

  const int64_t count = n * inner;
  EMBER_CHECK(count != 1 || !training, ValueError, op,
              ": expected more than 1 value per channel when training, got input of shape ",
              x.sizes());
  const Tensor xc = detail::contiguous_data(x).detach();
  const Tensor w = weight.defined() ? detail::contiguous_data(weight) : Tensor();
  const Tensor b = bias.defined() ? detail::contiguous_data(bias) : Tensor();
  Tensor y = detail::make_tensor(x.sizes(), x.dtype(), x.device());
  Tensor mean = detail::make_tensor(channels, x.dtype(), x.device());
  Tensor var = detail::make_tensor(channels, x.dtype(), x.device());
  Tensor rstd = detail::make_tensor(channels, x.dtype(), x.device());
  backend_of(x).batch_norm_forward(x.dtype(), xc.data_ptr(), data_or_null(w), data_or_null(b), n, c,
                                   inner, eps, y.data_ptr(), mean.data_ptr(), var.data_ptr(),
                                   rstd.data_ptr());
  if (training && running_mean.defined() && count > 0) {  // an empty batch updates nothing
    // PyTorch's update: the running variance takes the unbiased batch variance.
    NoGradGuard no_grad;
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    Tensor rm = running_mean, rv = running_var;
    rm.mul_(1.0 - momentum).add_(mean, momentum);
    rv.mul_(1.0 - momentum).add_(var, momentum * unbias);
  }
  if (autograd::needs_grad(x, weight, bias))
    autograd::attach(std::make_shared<NormBackward>(NormBackward::Kind::Batch, xc, mean, rstd, w,
                                                    channels, std::array<int64_t, 3>{n, c, inner}),
                     {&x, &weight, &bias}, y);
  return y;
}

}  // namespace ember
