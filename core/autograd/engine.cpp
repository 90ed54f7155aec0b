// The autograd engine (micrograd's idea, PyTorch's bookkeeping): count how many edges lead
// into each node reachable from the roots, then run nodes whose every consumer has already
// delivered its gradient, latest-created first, summing gradients per node.
#include <ember/core/autograd/engine.h>

#include <queue>
#include <unordered_map>

#include <ember/core/autograd/autograd_meta.h>
#include <ember/core/autograd/grad_mode.h>
#include <ember/core/autograd/node.h>
#include <ember/core/autograd/unit_gradient.h>

namespace ember::autograd {
namespace {

struct NodeState {
  int dependencies = 0;
  Tensor grad;  // sum of incoming gradients
};

struct LaterFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

Tensor root_gradient(const Tensor& root, const Tensor* given, const char* api) {
  if (given != nullptr && given->defined()) {
    EMBER_CHECK(given->sizes() == root.sizes(), ShapeError, api, ": gradient has shape ",
                given->sizes(), " but the output has shape ", root.sizes());
    EMBER_CHECK(given->device() == root.device(), DeviceError, api, ": gradient is on ",
                given->device(), " but the output is on ", root.device());
    return given->dtype() == root.dtype() ? *given : given->to(root.dtype());
  }
  EMBER_CHECK(root.numel() == 1, AutogradError, api,
              ": grad can be implicitly created only for scalar outputs; the output has shape ",
              root.sizes(), ", so pass a gradient of that shape");
  return unit_gradient(root);  // Note [Unit gradient]
}

// Runs the graph. With `captures` non-null (autograd::grad), gradients arriving at the
// listed nodes are stored there and no leaf's .grad is touched.
void execute(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
             bool retain_graph, const char* api,
             std::unordered_map<const Node*, Tensor>* captures) {
  EMBER_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(), ValueError, api, ": got ",
              roots.size(), " outputs but ", grad_roots.size(), " gradients");
  NoGradGuard no_grad;  // backward ops are not recorded (no higher-order gradients)

  std::unordered_map<const Node*, NodeState> state;
  std::vector<std::pair<std::shared_ptr<Node>, Tensor>> starts;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    EMBER_CHECK(root.defined() && root.requires_grad(), AutogradError, api, ": output ", i,
                " does not require grad and has no grad_fn (did you forget requires_grad_() "
                "on an input, or compute it under NoGradGuard?)");
    starts.emplace_back(gradient_edge(root).node,
                        root_gradient(root, grad_roots.empty() ? nullptr : &grad_roots[i], api));
  }

  // Count dependencies over the reachable graph.
  std::vector<const Node*> stack;
  for (auto& [node, g] : starts) {
    if (state.emplace(node.get(), NodeState{}).second) stack.push_back(node.get());
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      auto [it, inserted] = state.emplace(e.node.get(), NodeState{});
      ++it->second.dependencies;
      if (inserted) stack.push_back(e.node.get());
    }
  }

  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
  auto deliver = [&](Node* n, const Tensor& g) {
    NodeState& s = state[n];
    if (g.defined()) s.grad = s.grad.defined() ? s.grad + g : g;
  };
  for (auto& [node, g] : starts) deliver(node.get(), g);
  for (auto& [node, g] : starts) {
    if (state[node.get()].dependencies == 0) {
      state[node.get()].dependencies = -1;  // queued
      ready.push(node.get());
    }
  }

  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    Tensor grad = std::move(state[n].grad);

    for (const auto& weak : n->retained) {
      if (auto impl = weak.lock(); impl && grad.defined()) {
        AutogradMeta& meta = impl->autograd_meta();
        meta.grad = meta.grad.defined() ? meta.grad + grad : grad.clone();
      }
    }
    bool is_accumulator = dynamic_cast<AccumulateGrad*>(n) != nullptr;
    if (captures != nullptr) {
      if (auto it = captures->find(n); it != captures->end() && grad.defined()) {
        it->second = it->second.defined() ? it->second + grad : grad;
      }
      if (is_accumulator) continue;
    }

    std::vector<Tensor> next_grads;
    if (grad.defined()) {
      EMBER_CHECK(!n->released, AutogradError, n->name(),
                  ": trying to backward through the graph a second time (or to use saved "
                  "tensors after they were freed). Saved values are freed after backward(); "
                  "pass retain_graph=true to the first backward if you need to backward twice.");
      next_grads = n->apply(grad);
    }
    if (!retain_graph && !is_accumulator) {
      n->release_saved();
      n->released = true;
    }
    for (size_t i = 0; i < n->next_edges.size(); ++i) {
      const Edge& e = n->next_edges[i];
      if (!e.valid()) continue;
      if (i < next_grads.size()) deliver(e.node.get(), next_grads[i]);
      NodeState& s = state[e.node.get()];
      if (--s.dependencies == 0) {
        s.dependencies = -1;
        ready.push(e.node.get());
      }
    }
  }
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
              bool retain_graph) {
  execute(roots, grad_roots, retain_graph, "backward", nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool allow_unused) {
  std::unordered_map<const Node*, Tensor> captures;
  std::vector<const Node*> input_nodes;
  std::vector<std::shared_ptr<Node>> keep_alive;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    EMBER_CHECK(in.defined() && in.requires_grad(), AutogradError, "autograd::grad: input ", i,
                " does not require grad");
    // Hold the node: an unused leaf's fresh accumulator would otherwise die at once and
    // its address could be reused by another node, mixing up the captures.
    keep_alive.push_back(gradient_edge(in).node);
    const Node* node = keep_alive.back().get();
    input_nodes.push_back(node);
    captures.emplace(node, Tensor());
  }
  execute(outputs, grad_outputs, retain_graph, "autograd::grad", &captures);
  std::vector<Tensor> result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor g = captures[input_nodes[i]];
    EMBER_CHECK(g.defined() || allow_unused, AutogradError, "autograd::grad: input ", i, " (shape ",
                inputs[i].sizes(),
                ") was not used to compute the outputs; pass allow_unused=true to get an "
                "undefined gradient for it");
    result.push_back(g);
  }
  return result;
}

}  // namespace ember::autograd
