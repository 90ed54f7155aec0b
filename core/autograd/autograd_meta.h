// Per-tensor autograd state (allocated only for tensors that take part in autograd).
#pragma once

#include <memory>

#include <ember/core/autograd/node.h>

namespace ember {

struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;         // null for leaves
  std::weak_ptr<autograd::Node> grad_accumulator;  // leaves: their AccumulateGrad
};

}  // namespace ember
