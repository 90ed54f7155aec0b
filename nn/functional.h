// nn::functional: the stateless forms of the layers and losses (torch.nn.functional).
// Most forward to the ember:: ops; they exist so model code can say
//   namespace F = ember::nn::functional;  F::relu(x), F::cross_entropy(logits, y)
// as in libtorch.
#pragma once

#include <cstdint>
#include <string>

#include <ember/core/fused.h>
#include <ember/core/generator.h>
#include <ember/core/tensor.h>

namespace ember::nn::functional {

inline Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor()) {
  return ember::linear(input, weight, bias);
}

inline Tensor relu(const Tensor& x) {
  return ember::relu(x);
}
inline Tensor sigmoid(const Tensor& x) {
  return ember::sigmoid(x);
}
inline Tensor tanh(const Tensor& x) {
  return ember::tanh(x);
}
inline Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0) {
  return ember::softplus(x, beta, threshold);
}
inline Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01) {
  return ember::leaky_relu(x, negative_slope);
}
inline Tensor gelu(const Tensor& x, const std::string& approximate = "none") {
  return ember::gelu(x, approximate);
}
inline Tensor softmax(const Tensor& x, int dim) {
  return ember::softmax(x, dim);
}
inline Tensor log_softmax(const Tensor& x, int dim) {
  return ember::log_softmax(x, dim);
}

inline Tensor dropout(const Tensor& x, double p = 0.5, bool training = true,
                      Generator* gen = nullptr) {
  return ember::dropout(x, p, training, gen);
}

inline Tensor flatten(const Tensor& x, int start_dim = 0, int end_dim = -1) {
  return x.flatten(start_dim, end_dim);
}

// ---- normalization and embeddings -----------------------------------------------------------

inline Tensor layer_norm(const Tensor& input, const Shape& normalized_shape,
                         const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                         double eps = 1e-5) {
  return ember::layer_norm(input, normalized_shape, weight, bias, eps);
}
inline Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                         const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                         bool training = false, double momentum = 0.1, double eps = 1e-5) {
  return ember::batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps);
}
// The rows of weight (V, D) named by int64 indices of any shape: (..., D).
Tensor embedding(const Tensor& input, const Tensor& weight);

// ---- losses --------------------------------------------------------------------------------

inline Tensor cross_entropy(const Tensor& input, const Tensor& target,
                            Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                            double label_smoothing = 0.0) {
  return ember::cross_entropy(input, target, reduction, ignore_index, label_smoothing);
}
inline Tensor nll_loss(const Tensor& input, const Tensor& target,
                       Reduction reduction = Reduction::Mean, int64_t ignore_index = -100) {
  return ember::nll_loss(input, target, reduction, ignore_index);
}
inline Tensor mse_loss(const Tensor& input, const Tensor& target,
                       Reduction reduction = Reduction::Mean) {
  return ember::mse_loss(input, target, reduction);
}

// Binary cross-entropy on logits x and targets y in [0, 1] (same shape), computed as
// max(x, 0) - x y + log(1 + exp(-|x|)) so no exp overflows at any |x|. `weight` scales each
// element's loss; `pos_weight` (broadcast over the last dim) the positive term, as in
// PyTorch. Both optional.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction reduction = Reduction::Mean,
                                        const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor());

}  // namespace ember::nn::functional
