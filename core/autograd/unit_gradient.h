// Note [Unit gradient]
// ~~~~~~~~~~~~~~~~~~~~
// backward() of a scalar output seeds the graph with 1. That seed is a constant kept per
// device and dtype (never written: AccumulateGrad and retained gradients copy it), so a
// training step makes no launch to fill it, and a node that already knows its inputs'
// gradients for an upstream 1 -- cross_entropy, whose fused forward wrote them -- can tell the
// seed from any other gradient and hand them on without a pass. A constant is not made while
// a CUDA graph is being captured on its device (it would live in the graph's private memory):
// the seed is then a fresh tensor, until an eager backward has made the constant.
#pragma once

#include <ember/core/tensor.h>

namespace ember::autograd {

// 1 in the shape, dtype and device of `root` (which has one element).
Tensor unit_gradient(const Tensor& root);
// Whether `grad` is a view of one of unit_gradient's constants.
bool is_unit_gradient(const Tensor& grad);

}  // namespace ember::autograd
