// Gradient clipping (nn/clip_grad.h).
#include <ember/nn/clip_grad.h>

#include <cmath>
#include <limits>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/error.h>

namespace ember::nn::utils {
namespace {

std::vector<Tensor> gradients_of(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  for (const Tensor& p : parameters) {
    EMBER_CHECK(p.defined(), ValueError, "clip_grad: a parameter is an undefined tensor");
    if (Tensor g = p.grad(); g.defined()) grads.push_back(g);
  }
  return grads;
}

}  // namespace

Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  EMBER_CHECK(std::isfinite(max_norm) && max_norm >= 0, ValueError,
              "clip_grad_norm_: max_norm must be a finite number >= 0, got ", max_norm);
  EMBER_CHECK(!std::isnan(norm_type) && norm_type > 0, ValueError,
              "clip_grad_norm_: norm_type must be positive (or inf), got ", norm_type);
  NoGradGuard no_grad;  // clipping is not part of any computation to differentiate
  const std::vector<Tensor> grads = gradients_of(parameters);
  if (grads.empty()) return zeros({});
  // The norm of the per-gradient norms is the norm of all elements together, for every p.
  const Device device = grads[0].device();
  std::vector<Tensor> norms;
  norms.reserve(grads.size());
  for (const Tensor& g : grads) norms.push_back(norm(g, norm_type).to(device, kFloat32));
  const Tensor total = norms.size() == 1 ? norms[0] : norm(stack(norms), norm_type);
  if (error_if_nonfinite) {
    const float t = total.item<float>();
    EMBER_CHECK(std::isfinite(t), ValueError, "clip_grad_norm_: the total ", norm_type,
                "-norm of the gradients is ", t,
                ", so they cannot be clipped (pass error_if_nonfinite = false to scale anyway)");
  }
  const Tensor scale = clamp_max(max_norm / (total + 1e-6), 1.0);
  for (const Tensor& g : grads) {
    Tensor grad = g;
    grad.mul_(g.device() == device ? scale.to(g.dtype()) : scale.to(g.device(), g.dtype()));
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  EMBER_CHECK(!std::isnan(clip_value) && clip_value >= 0, ValueError,
              "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (Tensor g : gradients_of(parameters)) g.clamp_(-clip_value, clip_value);
}

}  // namespace ember::nn::utils
