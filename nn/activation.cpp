// Activation modules. Arguments are validated at construction so a bad setting fails where
// the model is built, not at the first forward.
#include <ember/nn/activation.h>

namespace ember::nn {

Tensor ReLUImpl::forward(const Tensor& x) {
  return relu(x);
}
Tensor SigmoidImpl::forward(const Tensor& x) {
  return sigmoid(x);
}
Tensor TanhImpl::forward(const Tensor& x) {
  return tanh(x);
}

SoftplusImpl::SoftplusImpl(double b, double t) : beta(b), threshold(t) {
  EMBER_CHECK(beta != 0, ValueError, "Softplus: beta must be nonzero");
}
Tensor SoftplusImpl::forward(const Tensor& x) {
  return softplus(x, beta, threshold);
}
std::string SoftplusImpl::extra_repr() const {
  return detail::str_cat("beta=", beta, ", threshold=", threshold);
}

LeakyReLUImpl::LeakyReLUImpl(double slope) : negative_slope(slope) {}
Tensor LeakyReLUImpl::forward(const Tensor& x) {
  return leaky_relu(x, negative_slope);
}
std::string LeakyReLUImpl::extra_repr() const {
  return detail::str_cat("negative_slope=", negative_slope);
}

GELUImpl::GELUImpl(std::string a) : approximate(std::move(a)) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
              "GELU: approximate must be 'none' or 'tanh', got '", approximate, "'");
}
Tensor GELUImpl::forward(const Tensor& x) {
  return gelu(x, approximate);
}
std::string GELUImpl::extra_repr() const {
  return "approximate='" + approximate + "'";
}

}  // namespace ember::nn
