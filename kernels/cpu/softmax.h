// The CPU's class-index loss forwards with their target check returned, not thrown: what
// CpuBackend::cross_entropy_forward / nll_loss_forward (kernels/cpu/softmax.cpp) run before
// they throw bad_target_error, and what the kernel tests check directly. Their semantics are
// the entry points' (kernels/common/backend_kernels.inc).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/op_kinds.h>

namespace ember::kernels::cpu {

// What a loss kernel learned about its targets. bad_index >= 0 is the position of the
// first target outside [0, c) that is not ignore_index (the backend turns it into an
// error naming the value); valid_count is the number of targets != ignore_index.
struct TargetCheck {
  int64_t bad_index = -1;
  int64_t valid_count = 0;
};

TargetCheck cross_entropy_forward(DType dt, const void* logits, const int64_t* targets, int64_t n,
                                  int64_t c, int64_t ignore_index, LossReduction reduction,
                                  void* losses, void* reduced, int64_t* valid_count);

TargetCheck nll_loss_forward(DType dt, const void* logp, const int64_t* targets, int64_t n,
                             int64_t c, int64_t ignore_index, LossReduction reduction, void* losses,
                             void* reduced, int64_t* valid_count);

}  // namespace ember::kernels::cpu
