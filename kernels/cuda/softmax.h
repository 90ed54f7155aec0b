// CUDA softmax family over the middle axis of a contiguous (outer, r, inner) view, and the
// fused softmax + cross-entropy (llm.c's fused classifier) plus nll_loss for (n, c) logits
// with int64 class targets. Semantics are kernels/cpu/softmax.h's (whose comments are the
// contract); every pointer is device memory and work is queued on `stream` (a cudaStream_t).
//
// Target validation happens on the GPU, so its result cannot be returned without waiting for
// the device. The loss-forward kernels write it into `check`, two int64 of device memory:
//   check[0]  the first (lowest) row whose target is neither in [0, c) nor ignore_index. The
//             CALLER initialises it to INT64_MAX (kNoBadTarget); the kernel only lowers it,
//             so it stays INT64_MAX when every target is fine and a caller that reads it back
//             after each call never has to reset it (the same convention as gather's
//             bad_position).
//   check[1]  the number of targets != ignore_index; set by the launcher (zeroed with an
//             asynchronous memset, then counted).
// Reading `check` back is the caller's decision (and its host-device synchronisation).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>

namespace ember::kernels::cuda {

inline constexpr int64_t kNoBadTarget = INT64_MAX;

// y = softmax(x) or log_softmax(x) along r, max-subtracted; one block per row when inner == 1.
void softmax(DType dt, const void* x, void* y, int64_t outer, int64_t r, int64_t inner, bool log,
             void* stream);

void softmax_backward(DType dt, const void* y, const void* gy, void* gx, int64_t outer, int64_t r,
                      int64_t inner, bool log, void* stream);

// losses[i] = logsumexp(logits[i, :]) - logits[i, t_i], 0 for ignored or bad targets. One
// block per row; the probabilities are never stored.
void cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                           int64_t c, int64_t ignore_index, void* losses, int64_t* check,
                           void* stream);

// glogits[i, j] = g_i * (softmax(logits[i])_j - [j == t_i]), 0 for ignored rows, with
// g_i = scale * grad_losses[i * grad_stride] (grad_stride 0 broadcasts one scalar). One block
// per row, one launch.
void cross_entropy_backward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                            int64_t c, int64_t ignore_index, const void* grad_losses,
                            int64_t grad_stride, double scale, void* glogits, void* stream);

// losses[i] = -logp[i, t_i] (0 where ignored or bad); `check` as for cross_entropy_forward.
void nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n, int64_t c,
                      int64_t ignore_index, void* losses, int64_t* check, void* stream);

// glogp[i, t_i] = -scale * grad_losses[i * grad_stride]; every other element 0.
void nll_loss_backward(DType dt, const int64_t* targets, int64_t n, int64_t c, int64_t ignore_index,
                       const void* grad_losses, int64_t grad_stride, double scale, void* glogp,
                       void* stream);

}  // namespace ember::kernels::cuda
