// Activation modules. Arguments are validated at construction so a bad setting fails where
// the model is built, not at the first forward.
#include <ember/nn/activation.h>

namespace ember::nn {

Tensor ReLU::forward(const Tensor& x) {
  return relu(x);
}
Tensor Sigmoid::forward(const Tensor& x) {
  return sigmoid(x);
}
Tensor Tanh::forward(const Tensor& x) {
  return tanh(x);
}

Softplus::Softplus(double b, double t) : beta(b), threshold(t) {
  EMBER_CHECK(beta != 0, ValueError, "Softplus: beta must be nonzero");
}
Tensor Softplus::forward(const Tensor& x) {
  return softplus(x, beta, threshold);
}
std::string Softplus::extra_repr() const {
  return detail::str_cat("beta=", beta, ", threshold=", threshold);
}

LeakyReLU::LeakyReLU(double slope) : negative_slope(slope) {}
Tensor LeakyReLU::forward(const Tensor& x) {
  return leaky_relu(x, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
  return detail::str_cat("negative_slope=", negative_slope);
}

GELU::GELU(std::string a) : approximate(std::move(a)) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
              "GELU: approximate must be 'none' or 'tanh', got '", approximate, "'");
}
Tensor GELU::forward(const Tensor& x) {
  return gelu(x, approximate);
}
std::string GELU::extra_repr() const {
  return "approximate='" + approximate + "'";
}

}  // namespace ember::nn
