// Fused ops that modules and optimizers call: one kernel instead of a chain of tensor ops.
#pragma once

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

}  // namespace fused
}  // namespace ember
