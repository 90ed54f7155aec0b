// Node bookkeeping, saved tensors, leaf accumulation and graph attachment.
#include <ember/core/autograd/node.h>

#include <atomic>

#include <ember/core/autograd/autograd_meta.h>
#include <ember/core/autograd/grad_mode.h>

namespace ember::autograd {
namespace {
std::atomic<uint64_t> g_next_sequence_nr{0};
}

Node::Node() : sequence_nr(g_next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

SavedTensor::SavedTensor(const Tensor& t, bool is_output)
    : tensor_(is_output && t.defined() ? t.detach() : t), version_(t.defined() ? t.version() : 0) {}

Tensor SavedTensor::unpack(const Node& owner) const {
  EMBER_CHECK(!freed_, AutogradError, owner.name(),
              ": trying to backward through the graph a second time (or to use saved tensors "
              "after they were freed). Saved values are freed after backward(); pass "
              "retain_graph=true to the first backward if you need to backward twice.");
  if (tensor_.defined()) {
    EMBER_CHECK(tensor_.version() == version_, AutogradError,
                "one of the tensors needed for gradient computation has been modified by an "
                "in-place operation: ",
                owner.name(), " saved a tensor of shape ", tensor_.sizes(), " at version ",
                version_, ", but it is now at version ", tensor_.version(),
                ". Use an out-of-place op (or clone()) before modifying it.");
  }
  return tensor_;
}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad) {
  AutogradMeta& meta = variable_->autograd_meta();
  if (!meta.grad.defined()) {
    // Own the gradient. The engine's buffer can be taken as it is when nothing else can see
    // it (PyTorch does the same): it saves a copy per parameter per step. Anything else may
    // alias another tensor's memory and is copied.
    const bool sole_owner = grad.impl_ptr().use_count() == 1 &&
                            grad.impl()->storage.use_count() == 1 && !grad.requires_grad() &&
                            grad.is_contiguous() && grad.storage_offset() == 0;
    meta.grad = sole_owner ? grad : grad.clone();
  } else {
    meta.grad.add_(grad);
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  AutogradMeta& meta = impl->autograd_meta();
  if (meta.grad_fn) return {meta.grad_fn};
  std::shared_ptr<Node> acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    meta.grad_accumulator = acc;
  }
  return {acc};
}

bool needs_grad(const Tensor& a) {
  return GradMode::is_enabled() && a.requires_grad();
}
bool needs_grad(const Tensor& a, const Tensor& b) {
  return GradMode::is_enabled() && (a.requires_grad() || (b.defined() && b.requires_grad()));
}
bool needs_grad(const Tensor& a, const Tensor& b, const Tensor& c) {
  return GradMode::is_enabled() && (a.requires_grad() || (b.defined() && b.requires_grad()) ||
                                    (c.defined() && c.requires_grad()));
}

void attach(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> inputs,
            Tensor& output) {
  node->next_edges.reserve(inputs.size());
  for (const Tensor* in : inputs) node->next_edges.push_back(in ? gradient_edge(*in) : Edge{});
  AutogradMeta& meta = output.impl()->autograd_meta();
  meta.grad_fn = node;
}

}  // namespace ember::autograd
