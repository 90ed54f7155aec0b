// softmax / log_softmax along any dim, and the losses: the fused softmax + cross-entropy
// (probabilities never materialised; llm.c's fused classifier), nll_loss and mse_loss.
#include <ember/core/autograd/unit_gradient.h>
#include <ember/core/ops/op_utils.h>

namespace ember {
namespace {

using autograd::Node;
using autograd::SavedTensor;
using detail::backend_of;

class SoftmaxBackward final : public Node {
 public:
  SoftmaxBackward(const Tensor& y, int dim, bool log) : y_(y, true), dim_(dim), log_(log) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor y = y_.unpack(*this);
    Tensor gc = detail::contiguous_data(g);
    Tensor gx = detail::make_tensor(y.sizes(), y.dtype(), y.device());
    auto geo = detail::reduce_geometry(y.sizes(), dim_);
    if (gx.numel() > 0)
      backend_of(y).softmax_backward(y.dtype(), y.data_ptr(), gc.data_ptr(), gx.data_ptr(),
                                     geo.outer, geo.r, geo.inner, log_);
    return {gx};
  }
  std::string name() const override { return log_ ? "LogSoftmaxBackward" : "SoftmaxBackward"; }
  void release_saved() override { y_.reset(); }

 private:
  SavedTensor y_;
  int dim_;
  bool log_;
};

Tensor softmax_impl(const char* name, const Tensor& x, int dim_in, bool log) {
  detail::check_defined(name, x);
  detail::check_floating(name, x);
  const int dim = detail::normalize_dim(name, dim_in, x.dim());  // 0-dim: -1 and 0 only
  Tensor xc = detail::contiguous_data(x);
  Tensor y = detail::make_tensor(x.sizes(), x.dtype(), x.device());
  auto geo = detail::reduce_geometry(x.sizes(), dim);
  if (y.numel() > 0)
    backend_of(x).softmax(x.dtype(), xc.data_ptr(), y.data_ptr(), geo.outer, geo.r, geo.inner, log);
  if (autograd::needs_grad(x))
    autograd::attach(std::make_shared<SoftmaxBackward>(y, dim, log), {&x}, y);
  return y;
}

// Checks (N, C) scores against (N) int64 targets (or (C) against a 0-dim target) and
// returns them as 2-D / 1-D.
std::pair<Tensor, Tensor> loss_inputs(const char* op, const Tensor& scores, const Tensor& target) {
  detail::check_defined(op, scores);
  detail::check_defined(op, target, "target");
  detail::check_floating(op, scores);
  detail::check_same_device(op, scores, target);
  detail::check_dtype(op, target, kInt64, "class-index target");
  if (scores.dim() == 1) {
    EMBER_CHECK(target.dim() == 0, ShapeError, op, ": 1-D input of shape ", scores.sizes(),
                " expects a 0-dim target, got shape ", target.sizes());
    return {scores.unsqueeze(0), target.reshape({1})};
  }
  EMBER_CHECK(scores.dim() == 2, ShapeError, op, ": expected input of shape (N, C), got ",
              scores.sizes());
  EMBER_CHECK(target.dim() == 1 && target.size(0) == scores.size(0), ShapeError, op,
              ": input of shape ", scores.sizes(), " needs a target of shape [", scores.size(0),
              "], got ", target.sizes());
  return {scores, target};
}

LossReduction kernel_reduction(Reduction reduction) {
  switch (reduction) {
    case Reduction::None:
      return LossReduction::None;
    case Reduction::Sum:
      return LossReduction::Sum;
    case Reduction::Mean:
      break;
  }
  return LossReduction::Mean;
}

// Shared backward for the two class-index losses: the per-sample gradient (broadcast for
// mean/sum) goes straight into one kernel, which divides by the mean's valid count where it
// lies, on the loss's device (Note [Host-device synchronisation] in kernels/cuda/backend.h).
// cross_entropy's forward also wrote the gradient for an upstream 1 (`unit_grad`, Sum and
// Mean) when the loss will be differentiated: backward() of the loss itself (Note [Unit
// gradient]) then hands it on with no pass at all.
class ClassLossBackward final : public Node {
 public:
  ClassLossBackward(bool fused_softmax, const Tensor& scores, const Tensor& target,
                    Reduction reduction, int64_t ignore_index, Tensor mean_count,
                    Shape scores_sizes, Tensor unit_grad)
      : fused_(fused_softmax),
        scores_(scores),
        target_(target),
        reduction_(reduction),
        ignore_index_(ignore_index),
        mean_count_(std::move(mean_count)),
        scores_sizes_(scores_sizes),
        unit_grad_(std::move(unit_grad)) {}
  std::vector<Tensor> apply(const Tensor& g) override {
    if (unit_grad_.defined() && autograd::is_unit_gradient(g))
      return {unit_grad_.reshape(scores_sizes_)};
    Tensor scores = scores_.unpack(*this), target = target_.unpack(*this);
    const int64_t n = scores.size(0), c = scores.size(1);
    Tensor gc = detail::contiguous_data(g.to(scores.dtype()));
    const int64_t stride = reduction_ == Reduction::None ? 1 : 0;
    const auto* count =
        mean_count_.defined() ? static_cast<const int64_t*>(mean_count_.data_ptr()) : nullptr;
    Tensor gs = detail::make_tensor(scores.sizes(), scores.dtype(), scores.device());
    if (gs.numel() > 0) {
      const auto* t = static_cast<const int64_t*>(target.data_ptr());
      if (fused_)
        backend_of(scores).cross_entropy_backward(scores.dtype(), scores.data_ptr(), t, n, c,
                                                  ignore_index_, gc.data_ptr(), stride, count,
                                                  gs.data_ptr());
      else
        backend_of(scores).nll_loss_backward(scores.dtype(), t, n, c, ignore_index_, gc.data_ptr(),
                                             stride, count, gs.data_ptr());
    }
    return {gs.reshape(scores_sizes_)};
  }
  std::string name() const override { return fused_ ? "CrossEntropyBackward" : "NllLossBackward"; }
  void release_saved() override {
    scores_.reset();
    target_.reset();
    mean_count_ = Tensor();
    unit_grad_ = Tensor();
  }

 private:
  bool fused_;
  SavedTensor scores_, target_;
  Reduction reduction_;
  int64_t ignore_index_;
  Tensor mean_count_;  // 0-dim int64 on the loss's device, written by the forward (Mean only)
  Shape scores_sizes_;
  Tensor unit_grad_;  // (N, C): the gradient for an upstream 1, or undefined
};

// One backend call does the forward, the reduction and the target check (a bad target is an
// IndexError from the backend: at once on the CPU, at the next wait on CUDA).
// `unit_grad_pays`: whether the loss is likely differentiated as it is (an upstream 1), so
// that writing the unit gradient in the forward saves the backward's pass.
Tensor class_loss(const char* op, bool fused, const Tensor& scores_in, const Tensor& target_in,
                  Reduction reduction, int64_t ignore_index, bool unit_grad_pays = true) {
  auto [scores2d, target1d] = loss_inputs(op, scores_in, target_in);
  Tensor scores = detail::contiguous_data(scores2d).detach();
  Tensor target = detail::contiguous_data(target1d);
  const int64_t n = scores.size(0), c = scores.size(1);
  Tensor losses = detail::make_tensor({n}, scores.dtype(), scores.device());
  Tensor out = reduction == Reduction::None
                   ? losses
                   : detail::make_tensor(Shape{}, scores.dtype(), scores.device());
  Tensor mean_count = reduction == Reduction::Mean
                          ? detail::make_tensor(Shape{}, kInt64, scores.device())
                          : Tensor();
  const bool differentiated = autograd::needs_grad(scores_in);
  Tensor unit_grad = fused && unit_grad_pays && differentiated && reduction != Reduction::None &&
                             scores.numel() > 0
                         ? detail::make_tensor(scores.sizes(), scores.dtype(), scores.device())
                         : Tensor();
  if (n > 0 || reduction != Reduction::None) {
    const auto* t = static_cast<const int64_t*>(target.data_ptr());
    void* reduced = reduction == Reduction::None ? nullptr : out.data_ptr();
    auto* count = mean_count.defined() ? static_cast<int64_t*>(mean_count.data_ptr()) : nullptr;
    Backend& be = backend_of(scores);
    if (fused)
      be.cross_entropy_forward(scores.dtype(), scores.data_ptr(), t, n, c, ignore_index,
                               kernel_reduction(reduction), losses.data_ptr(), reduced, count,
                               unit_grad.defined() ? unit_grad.data_ptr() : nullptr);
    else
      be.nll_loss_forward(scores.dtype(), scores.data_ptr(), t, n, c, ignore_index,
                          kernel_reduction(reduction), losses.data_ptr(), reduced, count);
  }
  if (reduction == Reduction::None && scores_in.dim() == 1) out = out.reshape(Shape{});
  if (differentiated)
    autograd::attach(
        std::make_shared<ClassLossBackward>(fused, scores, target, reduction, ignore_index,
                                            mean_count, scores_in.sizes(), std::move(unit_grad)),
        {&scores_in}, out);
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) {
  return softmax_impl("softmax", x, dim, false);
}
Tensor log_softmax(const Tensor& x, int dim) {
  return softmax_impl("log_softmax", x, dim, true);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  EMBER_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, ValueError,
              "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  // With smoothing the hard term's upstream gradient is (1 - eps), never 1: no unit gradient.
  Tensor hard = class_loss("cross_entropy", true, logits, target, reduction, ignore_index,
                           label_smoothing == 0.0);
  if (label_smoothing == 0.0) return hard;
  // The uniform part, -mean_c log_softmax per row, built from differentiable ops on the
  // logits' device (no host wait): the fused kernel above has checked the targets.
  auto [scores, target1d] = loss_inputs("cross_entropy", logits, target);
  const Tensor kept_mask = ne(target1d, static_cast<double>(ignore_index));
  const Tensor kept = kept_mask.to(scores.dtype());
  // where, not a product with the mask: an ignored row may hold -inf logits (a masked
  // vocabulary), and -inf * 0 is NaN.
  const Tensor per_row = -mean(log_softmax(scores, 1), Shape{1});
  Tensor uniform = where(kept_mask, per_row, zeros_like(per_row));
  if (reduction == Reduction::Sum) uniform = sum(uniform);
  if (reduction == Reduction::Mean) uniform = sum(uniform) / sum(kept);
  if (reduction == Reduction::None && logits.dim() == 1) uniform = uniform.reshape(Shape{});
  return hard * (1.0 - label_smoothing) + uniform * label_smoothing;
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction,
                int64_t ignore_index) {
  return class_loss("nll_loss", false, log_probs, target, reduction, ignore_index);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  detail::check_defined("mse_loss", input);
  detail::check_defined("mse_loss", target, "target");
  EMBER_CHECK(input.sizes() == target.sizes(), ShapeError, "mse_loss: input shape ", input.sizes(),
              " and target shape ", target.sizes(), " differ");
  Tensor d = input - target;
  Tensor sq = d * d;
  if (reduction == Reduction::None) return sq;
  return reduction == Reduction::Sum ? sum(sq) : mean(sq);
}

}  // namespace ember
