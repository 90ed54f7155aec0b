// Fused ops that modules and optimizers call: one kernel instead of a chain of tensor ops.
#pragma once

#include <vector>

#include <ember/core/generator.h>
#include <ember/core/tensor.h>

namespace ember {

// Inverted dropout: zeroes each element with probability p (Philox draws from `gen`, or
// the default generator) and scales the rest by 1 / (1 - p). Identity when !training or
// p == 0. Differentiable (the backward reuses the mask).
Tensor dropout(const Tensor& x, double p, bool training = true, Generator* gen = nullptr);

namespace fused {

// In-place parameter updates, run under NoGradGuard by optimizers. All tensors contiguous,
// same dtype and device as param. See kernels/common/backend_kernels.inc for the formulas.
void sgd_step_(Tensor& param, const Tensor& grad, Tensor* momentum_buf, double lr, double momentum,
               double dampening, double weight_decay, bool nesterov, bool first_step);
void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                Tensor* max_exp_avg_sq, double lr, double beta1, double beta2, double eps,
                double weight_decay, bool decoupled, int64_t step);

// The multi-tensor forms: every parameter of a group in one update (one kernel launch on
// CUDA, one parallel loop on the CPU; per dtype when a group mixes them). params[k] is
// updated with grads[k] and its state buffers (momentum_bufs: empty without momentum;
// max_exp_avg_sqs: empty unless amsgrad). The learning rate is `lr`, a 1-element float64
// tensor, and parameter k's step count is steps[step_index[k]] (`steps` an int64 tensor), both
// on the parameters' device and read when the update runs, which then increments the count:
// SGD reads and counts it only with momentum (0: the first update, which starts the buffer at
// the gradient), Adam's update is number step + 1. So a CUDA graph that replays the update sees
// each step's learning rate and counts, not the captured ones.
void sgd_multi_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                     const std::vector<Tensor>& momentum_bufs, const Tensor& lr, Tensor& steps,
                     const std::vector<int64_t>& step_index, double momentum, double dampening,
                     double weight_decay, bool nesterov);
void adam_multi_step_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                      const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
                      const std::vector<Tensor>& max_exp_avg_sqs, const Tensor& lr, Tensor& steps,
                      const std::vector<int64_t>& step_index, double beta1, double beta2,
                      double eps, double weight_decay, bool decoupled);

}  // namespace fused
}  // namespace ember
