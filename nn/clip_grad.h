// Gradient clipping, as torch.nn.utils: clip_grad_norm_ scales every gradient by one factor so
// that their joint norm is at most max_norm; clip_grad_value_ clamps each element. Both work
// in place on the parameters' .grad() and skip parameters without one.
//
// On CUDA nothing waits for the device: the total norm and the scale are computed and applied
// there, and the norm comes back as a 0-D tensor (read it with item() when you want the number).
#pragma once

#include <vector>

#include <ember/core/tensor.h>

namespace ember::nn::utils {

// Returns the gradients' total norm before clipping: the norm_type-norm of all their elements
// together (norm_type may be inf), a 0-D tensor on the first gradient's device (0 when no
// parameter has a gradient). Each gradient is multiplied by min(1, max_norm / (total + 1e-6)).
// error_if_nonfinite: throw ValueError when the total is NaN or infinite (that one check reads
// the norm on the host).
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);

// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);

}  // namespace ember::nn::utils
