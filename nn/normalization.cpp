// nn::LayerNorm and nn::BatchNorm1d.
#include <ember/nn/normalization.h>

#include <ember/core/autograd/grad_mode.h>
#include <ember/nn/init.h>

namespace ember::nn {

LayerNormImpl::LayerNormImpl(Shape shape, double eps_, bool affine)
    : normalized_shape(shape), eps(eps_), elementwise_affine(affine) {
  EMBER_CHECK(!shape.empty(), ValueError, "LayerNorm: normalized_shape must name at least one dim");
  for (int64_t d : shape)
    EMBER_CHECK(d > 0, ValueError, "LayerNorm: normalized_shape ", shape,
                " must have positive sizes");
  EMBER_CHECK(eps_ >= 0, ValueError, "LayerNorm: eps must be >= 0, got ", eps_);
  if (affine) {
    weight = register_parameter("weight", empty(shape));
    bias = register_parameter("bias", empty(shape));
  }
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  if (!elementwise_affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNormImpl::forward(const Tensor& x) {
  return layer_norm(x, normalized_shape, weight, bias, eps);
}

std::string LayerNormImpl::extra_repr() const {
  return detail::str_cat("normalized_shape=", normalized_shape, ", eps=", eps,
                         ", elementwise_affine=", elementwise_affine ? "true" : "false");
}

BatchNorm1dImpl::BatchNorm1dImpl(int64_t features, double eps_, double momentum_, bool affine_,
                                 bool track)
    : num_features(features),
      eps(eps_),
      momentum(momentum_),
      affine(affine_),
      track_running_stats(track) {
  EMBER_CHECK(features > 0, ValueError, "BatchNorm1d: num_features must be positive, got ",
              features);
  EMBER_CHECK(eps_ >= 0, ValueError, "BatchNorm1d: eps must be >= 0, got ", eps_);
  EMBER_CHECK(momentum_ >= 0 && momentum_ <= 1, ValueError,
              "BatchNorm1d: momentum must be in [0, 1], got ", momentum_);
  if (affine_) {
    weight = register_parameter("weight", ones({features}));
    bias = register_parameter("bias", zeros({features}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", zeros({features}));
    running_var = register_buffer("running_var", ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

void BatchNorm1dImpl::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.fill_(0.0);
  running_var.fill_(1.0);
  num_batches_tracked.fill_(0.0);
}

Tensor BatchNorm1dImpl::forward(const Tensor& x) {
  EMBER_CHECK(x.defined(), ValueError, "BatchNorm1d: undefined input");
  EMBER_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features, ShapeError,
              "BatchNorm1d(", num_features, "): expected input of shape (N, ", num_features,
              ") or (N, ", num_features, ", L), got ", x.sizes());
  if (is_training() && track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
  }
  return batch_norm(x, running_mean, running_var, weight, bias,
                    is_training() || !track_running_stats, momentum, eps);
}

std::string BatchNorm1dImpl::extra_repr() const {
  return detail::str_cat(num_features, ", eps=", eps, ", momentum=", momentum,
                         ", affine=", affine ? "true" : "false",
                         ", track_running_stats=", track_running_stats ? "true" : "false");
}

}  // namespace ember::nn
