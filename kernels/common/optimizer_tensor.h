// The operands of the multi-tensor optimizer updates (sgd_multi_step, adam_multi_step in
// kernels/common/backend_kernels.inc): a parameter group in one pass.
#pragma once

#include <cstdint>

namespace ember::kernels {

// One parameter of the group: its element count, the parameter, its gradient and its state
// buffers (SGD: momentum; Adam: exp_avg, exp_avg_sq, max_exp_avg_sq), all contiguous on the
// group's device, and its step count there: the updates done so far, which the update reads
// (Adam's bias corrections, SGD's first momentum step) and then increments. Kept in device
// memory, with the learning rate, so that a CUDA graph replaying the update sees each step's
// values rather than the ones captured.
struct OptimizerTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* state[3] = {};
  int64_t* step = nullptr;
  int64_t n = 0;
};

struct SgdHyper {
  double momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

struct AdamHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled = false, amsgrad = false;
};

}  // namespace ember::kernels
