// The autograd engine's public entry points.
#pragma once

#include <vector>

#include <ember/core/tensor.h>

namespace ember::autograd {

// Accumulates d(sum of roots·grad_roots)/d(leaf) into every reachable leaf's .grad.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots = {},
              bool retain_graph = false);

// Returns d(outputs)/d(inputs) without touching any .grad (torch.autograd.grad).
// grad_outputs defaults to ones for scalar outputs. allow_unused: an input the outputs do
// not depend on yields an undefined Tensor instead of an error.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool allow_unused = false);

}  // namespace ember::autograd
