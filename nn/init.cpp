// nn::init: the formulas of torch.nn.init, drawn with ember's Philox generator.
#include <ember/nn/init.h>

#include <cmath>

#include <ember/core/autograd/grad_mode.h>

namespace ember::nn::init {
namespace {

TensorOptions like(const Tensor& t) {
  return TensorOptions().dtype(t.dtype()).device(t.device());
}

void check_floating(const char* fn, const Tensor& t) {
  EMBER_CHECK(t.defined(), ValueError, "nn::init::", fn, ": undefined tensor");
  EMBER_CHECK(is_floating(t.dtype()), DTypeError, "nn::init::", fn,
              ": tensor must be floating point, got ", t.dtype());
}

int64_t fan_for_mode(const char* fn, const Tensor& t, const std::string& mode) {
  EMBER_CHECK(mode == "fan_in" || mode == "fan_out", ValueError, "nn::init::", fn,
              ": mode must be 'fan_in' or 'fan_out', got '", mode, "'");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  const int64_t fan = mode == "fan_in" ? fan_in : fan_out;
  EMBER_CHECK(fan > 0, ValueError, "nn::init::", fn, ": cannot initialise a tensor of shape ",
              t.sizes(), " (", mode, " is 0)");
  return fan;
}

}  // namespace

double calculate_gain(const std::string& nl, std::optional<double> param) {
  if (nl == "linear" || nl == "conv1d" || nl == "conv2d" || nl == "conv3d" || nl == "sigmoid" ||
      nl == "identity")
    return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nl == "selu") return 3.0 / 4.0;
  throw ValueError("nn::init::calculate_gain: unsupported nonlinearity '" + nl +
                   "' (linear, sigmoid, tanh, relu, leaky_relu, selu, conv1d/2d/3d)");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  EMBER_CHECK(t.defined(), ValueError, "nn::init: undefined tensor");
  EMBER_CHECK(t.dim() >= 2, ShapeError,
              "nn::init: fan in and fan out cannot be computed for a tensor with fewer than 2 "
              "dims (shape ",
              t.sizes(), ")");
  int64_t receptive = 1;
  for (int d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor uniform_(Tensor t, double a, double b, Generator* gen) {
  check_floating("uniform_", t);
  EMBER_CHECK(a <= b, ValueError, "nn::init::uniform_: a (", a, ") must not exceed b (", b, ")");
  NoGradGuard no_grad;
  t.copy_(rand(t.sizes(), like(t), gen) * (b - a) + a);
  return t;
}

Tensor normal_(Tensor t, double mean, double std, Generator* gen) {
  check_floating("normal_", t);
  EMBER_CHECK(std >= 0, ValueError, "nn::init::normal_: std must be non-negative, got ", std);
  NoGradGuard no_grad;
  t.copy_(randn(t.sizes(), like(t), gen) * std + mean);
  return t;
}

Tensor constant_(Tensor t, double value) {
  EMBER_CHECK(t.defined(), ValueError, "nn::init::constant_: undefined tensor");
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

Tensor zeros_(Tensor t) {
  return constant_(std::move(t), 0.0);
}
Tensor ones_(Tensor t) {
  return constant_(std::move(t), 1.0);
}

Tensor xavier_uniform_(Tensor t, double gain, Generator* gen) {
  check_floating("xavier_uniform_", t);
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  EMBER_CHECK(fan_in + fan_out > 0, ValueError,
              "nn::init::xavier_uniform_: cannot initialise a tensor of shape ", t.sizes());
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(std::move(t), -bound, bound, gen);
}

Tensor xavier_normal_(Tensor t, double gain, Generator* gen) {
  check_floating("xavier_normal_", t);
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  EMBER_CHECK(fan_in + fan_out > 0, ValueError,
              "nn::init::xavier_normal_: cannot initialise a tensor of shape ", t.sizes());
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return normal_(std::move(t), 0.0, std, gen);
}

Tensor kaiming_uniform_(Tensor t, double a, const std::string& mode, const std::string& nl,
                        Generator* gen) {
  check_floating("kaiming_uniform_", t);
  const int64_t fan = fan_for_mode("kaiming_uniform_", t, mode);
  const double std = calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(std::move(t), -bound, bound, gen);
}

Tensor kaiming_normal_(Tensor t, double a, const std::string& mode, const std::string& nl,
                       Generator* gen) {
  check_floating("kaiming_normal_", t);
  const int64_t fan = fan_for_mode("kaiming_normal_", t, mode);
  const double std = calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan));
  return normal_(std::move(t), 0.0, std, gen);
}

}  // namespace ember::nn::init
