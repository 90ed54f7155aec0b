// CUDA softmax family over the middle axis of a contiguous (outer, r, inner) view, and the
// fused softmax + cross-entropy (llm.c's fused classifier) plus nll_loss for (n, c) logits
// with int64 class targets. Semantics are the entry points' (kernels/common/backend_kernels.inc);
// every pointer is device memory and work is queued on `stream` (a cudaStream_t).
//
// The loss forwards are one launch each, reduction included, and never synchronise: where
// the CPU kernels return their TargetCheck, these fold it into `check` (kernels/cuda/
// index_check.h) -- a bad target is recorded there for the caller to report, and the valid
// count the mean divides by stays in device memory (`valid_count`), where the backward
// reads it. The reduction is computed by the launch's last block over all n losses in a
// fixed order, so it is deterministic.
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/op_kinds.h>
#include <ember/kernels/cuda/index_check.h>

namespace ember::kernels::cuda {

// y = softmax(x) or log_softmax(x) along r, max-subtracted; one block per row when inner == 1.
void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner, bool log,
             void* stream);

void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer, int64_t r,
                      int64_t inner, bool log, void* stream);

// losses[i] = logsumexp(logits[i, :]) - logits[i, t_i], 0 for ignored or bad targets; for
// Sum / Mean also *reduced, and *valid_count when not null. One block per row; the
// probabilities are never stored. n == 0 with a reduction still launches (to write 0 / NaN).
// With grad_logits (Sum / Mean only), the same launch writes the logits' gradient for an
// upstream 1, bit for bit what cross_entropy_backward writes (a Mean with ignored targets
// costs its last block a second pass over the rows).
void cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                           int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                           void* reduced, int64_t* valid_count, IndexCheck* check, void* stream,
                           void* grad_logits = nullptr);

// glogits[i, j] = g_i * (softmax(logits[i])_j - [j == t_i]), 0 for ignored rows, with
// g_i = grad_losses[i * grad_stride] / *mean_count (no division when mean_count is null;
// grad_stride 0 broadcasts one scalar). One block per row, one launch.
void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                            int64_t c, int64_t ignore_index, const void* grad_losses,
                            int64_t grad_stride, const int64_t* mean_count, void* glogits,
                            void* stream);

// losses[i] = -logp[i, t_i] (0 where ignored or bad); the rest as for cross_entropy_forward.
void nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n, int64_t c,
                      int64_t ignore_index, LossReduction reduction, void* losses, void* reduced,
                      int64_t* valid_count, IndexCheck* check, void* stream);

// glogp[i, t_i] = -g_i (g_i as for cross_entropy_backward); every other element 0.
void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c, int64_t ignore_index,
                       const void* grad_losses, int64_t grad_stride, const int64_t* mean_count,
                       void* glogp, void* stream);

}  // namespace ember::kernels::cuda
