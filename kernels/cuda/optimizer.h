// CUDA fused optimizer updates: one kernel pass over a parameter per step, in place. Same
// semantics as the entry points (kernels/common/backend_kernels.inc; the per-element math
// is shared through kernels/common/optimizer_math.h) plus the stream; every pointer is device
// memory. One launch on `stream` (a cudaStream_t; nullptr: the legacy default stream), none
// for n <= 0. float32 and float64 only (else ember::DTypeError).
#pragma once

#include <cstdint>

#include <ember/kernels/common/dtype.h>
#include <ember/kernels/common/optimizer_tensor.h>

namespace ember::kernels::cuda {

// momentum_buf may be null when momentum == 0 (else ember::ValueError).
void sgd_step(DType dt, void* param, const void* grad, void* momentum_buf, int64_t n, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step, void* stream);

// max_exp_avg_sq is null unless amsgrad; step >= 1 (else ember::ValueError).
void adam_step(DType dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq,
               void* max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool decoupled, int64_t step, void* stream);

// A whole group per launch (a few launches beyond 24 tensors or 320 blocks' worth of 16384
// elements); `lr` and the steps are device memory (kernels/common/optimizer_tensor.h).
// `blocks_done` is one zeroed unsigned int of device memory, used by the launch's blocks to
// find the last of them (which counts the steps) and zeroed again by it; launches sharing one
// must be queued on one stream.
void sgd_multi_step(DType dt, const OptimizerTensor* tensors, int count, const double* lr,
                    const SgdHyper& hyper, unsigned int* blocks_done, void* stream);
void adam_multi_step(DType dt, const OptimizerTensor* tensors, int count, const double* lr,
                     const AdamHyper& hyper, unsigned int* blocks_done, void* stream);

}  // namespace ember::kernels::cuda
