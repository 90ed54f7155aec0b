// CPU fused optimizer updates: one pass over a parameter per step, in place. The formulas
// are PyTorch's documented update rules (torch.optim.SGD / Adam / AdamW).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cpu {

// g = grad + weight_decay * p; with momentum: buf = first_step ? g : momentum * buf +
// (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf. p -= lr * g.
// momentum_buf may be null when momentum == 0.
void sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step);

// Adam (decoupled = false: g += wd * p) or AdamW (decoupled = true: p *= 1 - lr * wd).
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; amsgrad: vmax = max(vmax, v), use vmax.
// p -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps). step starts at 1.
// max_exp_avg_sq is null unless amsgrad.
void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
               void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, int64_t step);

}  // namespace ember::kernels::cpu
