// Loss modules.
#include <ember/nn/loss.h>

#include <ember/nn/functional.h>

namespace ember::nn {

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target, reduction, ignore_index);
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
