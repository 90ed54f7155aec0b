// CPU softmax family over the middle axis of a contiguous (outer, r, inner) view, and the
// fused softmax + cross-entropy for (n, c) logits with int64 class targets.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember::kernels::cpu {

// y = softmax(x) or log_softmax(x) along r, numerically stable (max subtracted).
void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner, bool log);

// gx from the forward output y and upstream gy:
//   softmax:     gx = y * (gy - sum_r(gy * y))
//   log_softmax: gx = gy - exp(y) * sum_r(gy)
void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer, int64_t r,
                      int64_t inner, bool log);

// What a loss kernel learned about its targets. bad_index >= 0 is the position of the
// first target outside [0, c) that is not ignore_index (the backend turns it into an
// error naming the value); valid_count is the number of targets != ignore_index.
struct TargetCheck {
  int64_t bad_index = -1;
  int64_t valid_count = 0;
};

// losses[i] = logsumexp(logits[i, :]) - logits[i, t_i], or 0 where t_i == ignore_index (or
// is bad). logits contiguous (n, c); losses contiguous (n). The probabilities are never
// stored. For reduction Sum / Mean, *reduced is sum_i losses[i], divided for Mean by the
// valid count (accumulated in double for float32, rounded once; NaN when every target is
// ignored, as in PyTorch). valid_count, when not null, receives the valid count.
TargetCheck cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                                  int64_t c, int64_t ignore_index, LossReduction reduction,
                                  void* losses, void* reduced, int64_t* valid_count);

// glogits[i, j] = g_i * (softmax(logits[i])_j - [j == t_i]), and 0 for ignored rows, where
// g_i = grad_losses[i * grad_stride] / *mean_count (computed in double, rounded once; no
// division when mean_count is null). grad_stride 0 broadcasts one scalar (the mean and sum
// reductions); mean_count is the forward's valid count for the mean.
void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                            int64_t c, int64_t ignore_index, const void* grad_losses,
                            int64_t grad_stride, const int64_t* mean_count, void* glogits);

// losses[i] = -logp[i, t_i] (0 where ignored). Same conventions as cross_entropy_forward.
TargetCheck nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n,
                             int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                             void* reduced, int64_t* valid_count);

// glogp[i, t_i] = -g_i (g_i as for cross_entropy_backward); every other element 0.
void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c, int64_t ignore_index,
                       const void* grad_losses, int64_t grad_stride, const int64_t* mean_count,
                       void* glogp);

}  // namespace ember::kernels::cpu
