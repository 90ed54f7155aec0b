// nn::Linear.
#include <ember/nn/linear.h>

#include <cmath>

#include <ember/nn/init.h>

namespace ember::nn {

LinearImpl::LinearImpl(int64_t in, int64_t out, bool with_bias, Generator* gen)
    : in_features(in), out_features(out) {
  EMBER_CHECK(in >= 0 && out >= 0, ValueError, "Linear: in_features (", in, ") and out_features (",
              out, ") must be non-negative");
  weight = register_parameter("weight", empty({out, in}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  reset_parameters(gen);
}

void LinearImpl::reset_parameters(Generator* gen) {
  // a = sqrt(5) makes kaiming_uniform_'s bound gain * sqrt(3 / fan_in) with
  // gain = sqrt(2 / (1 + 5)), i.e. exactly 1 / sqrt(fan_in).
  if (in_features > 0) {
    init::kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  } else {
    init::zeros_(weight);
  }
  if (bias.defined()) {
    const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor LinearImpl::forward(const Tensor& x) {
  EMBER_CHECK(x.defined(), ValueError, "Linear: undefined input");
  EMBER_CHECK(x.dim() >= 1 && x.size(-1) == in_features, ShapeError,
              "Linear(in_features=", in_features, ", out_features=", out_features,
              "): input of shape ", x.sizes(), " must have last dim ", in_features);
  return linear(x, weight, bias);
}

std::string LinearImpl::extra_repr() const {
  return detail::str_cat("in_features=", in_features, ", out_features=", out_features,
                         ", bias=", bias.defined() ? "true" : "false");
}

}  // namespace ember::nn
