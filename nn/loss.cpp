// Loss modules.
#include <ember/nn/loss.h>

#include <ember/nn/functional.h>

namespace ember::nn {

CrossEntropyLossImpl::CrossEntropyLossImpl(Reduction r, int64_t ignore, double smoothing)
    : Loss(r), ignore_index(ignore), label_smoothing(smoothing) {
  EMBER_CHECK(smoothing >= 0.0 && smoothing <= 1.0, ValueError,
              "CrossEntropyLoss: label_smoothing must be in [0, 1], got ", smoothing);
}

std::string CrossEntropyLossImpl::extra_repr() const {
  return label_smoothing == 0.0 ? "" : detail::str_cat("label_smoothing=", label_smoothing);
}

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target, reduction, ignore_index, label_smoothing);
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::nll_loss(input, target, reduction, ignore_index);
}

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::mse_loss(input, target, reduction);
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(Reduction r, Tensor w, Tensor pw) : Loss(r) {
  // Registered as buffers so they follow to() and appear in the state_dict, as in PyTorch.
  if (w.defined()) weight = register_buffer("weight", w);
  if (pw.defined()) pos_weight = register_buffer("pos_weight", pw);
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::binary_cross_entropy_with_logits(input, target, reduction, weight, pos_weight);
}

}  // namespace ember::nn
