// nn::init: in-place weight initialisation, as torch.nn.init. Every function runs under
// NoGradGuard (so it works on parameters that require grad), draws from `gen` or ember's
// seeded default generator, and returns the tensor it filled.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <ember/core/generator.h>
#include <ember/core/tensor.h>

namespace ember::nn::init {

// The recommended gain for a nonlinearity: "linear", "conv1d".."conv3d", "sigmoid" -> 1,
// "tanh" -> 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + param^2)) (param is the
// negative slope, 0.01 when not given), "selu" -> 3/4.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);

// (fan_in, fan_out) of a weight of at least 2 dims: size(1) and size(0) times the receptive
// field (the product of the dims after the first two).
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

Tensor uniform_(Tensor tensor, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor constant_(Tensor tensor, double value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

// Glorot: std = gain * sqrt(2 / (fan_in + fan_out)); uniform bound sqrt(3) * std.
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0, Generator* gen = nullptr);
Tensor xavier_normal_(Tensor tensor, double gain = 1.0, Generator* gen = nullptr);

// He: std = calculate_gain(nonlinearity, a) / sqrt(fan), fan per mode ("fan_in" or
// "fan_out"); uniform bound sqrt(3) * std. Linear's default is kaiming_uniform_ with
// a = sqrt(5), which gives the bound 1 / sqrt(fan_in).
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);

}  // namespace ember::nn::init
