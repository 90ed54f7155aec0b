// nn::LayerNorm and nn::BatchNorm1d, as PyTorch's, over ember::layer_norm and
// ember::batch_norm (one-pass Welford statistics in the norm kernels).
#pragma once

#include <cstdint>
#include <string>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

// Normalises over the trailing dims `normalized_shape`; with elementwise_affine a weight
// (ones) and bias (zeros) of that shape scale and shift the result.
class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  void reset_parameters();

  Shape normalized_shape;
  double eps;
  bool elementwise_affine;
  Tensor weight, bias;  // undefined without elementwise_affine
};
EMBER_MODULE(LayerNorm);

// Batch normalisation of (N, C) or (N, C, L) input per channel. In training mode it uses the
// batch's statistics and updates the buffers running_mean (zeros), running_var (ones) and
// num_batches_tracked; in eval mode it uses the running statistics. state_dict keys are
// PyTorch's: weight, bias, running_mean, running_var, num_batches_tracked.
class BatchNorm1dImpl : public Module {
 public:
  explicit BatchNorm1dImpl(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                           bool affine = true, bool track_running_stats = true);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  // Running statistics back to zeros / ones and the count to 0.
  void reset_running_stats();

  int64_t num_features;
  double eps, momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                    // undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined without tracking
};
EMBER_MODULE(BatchNorm1d);

}  // namespace ember::nn
