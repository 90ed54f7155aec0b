// The autograd graph: Nodes (one per recorded op) linked by Edges to the nodes that
// produced their inputs. Leaves end in an AccumulateGrad node. Every ember op produces one
// differentiable output, so a Node receives exactly one incoming gradient.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ember/core/tensor.h>

namespace ember::autograd {

class Node;

struct Edge {
  std::shared_ptr<Node> node;  // null: the input needs no gradient
  bool valid() const { return node != nullptr; }
};

class Node {
 public:
  Node();
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Given the gradient of the loss w.r.t. this node's output, returns one gradient per
  // next_edge (an undefined Tensor where an input needs none). Runs in no-grad mode.
  virtual std::vector<Tensor> apply(const Tensor& grad) = 0;
  // The op's name for error messages, e.g. "MulBackward".
  virtual std::string name() const = 0;
  // Frees saved tensors (after backward unless retain_graph).
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  // Creation order: the engine runs later nodes first, so a node runs after every node
  // that consumes its output.
  const uint64_t sequence_nr;
  // Set once backward has run through this node without retain_graph.
  bool released = false;
  // Non-leaf tensors whose .grad should receive this node's incoming gradient.
  std::vector<std::weak_ptr<TensorImpl>> retained;
};

// A tensor saved for backward. Remembers the version it saw (Note [Version counter]) so a
// later in-place change is reported instead of silently corrupting the gradient. Saving
// the op's own output stores a detached alias, which avoids a reference cycle
// output -> grad_fn -> saved output.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t, bool is_output = false);
  // The saved tensor; throws AutogradError if it was freed or modified in place.
  Tensor unpack(const Node& owner) const;
  void reset() {
    tensor_ = Tensor();
    freed_ = true;
  }
  bool defined() const { return tensor_.defined() || freed_; }

 private:
  Tensor tensor_;
  uint32_t version_ = 0;
  bool freed_ = false;
};

// Writes the gradient into a leaf's .grad (summing with what is there).
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> variable) : variable_(std::move(variable)) {}
  std::vector<Tensor> apply(const Tensor& grad) override;
  std::string name() const override { return "AccumulateGrad"; }
  const std::shared_ptr<TensorImpl>& variable() const { return variable_; }

 private:
  std::shared_ptr<TensorImpl> variable_;
};

// Where gradient for `t` flows: its grad_fn, or its leaf accumulator, or nothing.
Edge gradient_edge(const Tensor& t);

// Whether an op on these inputs must record a node (grad mode on and some input requires
// grad). The fast path of every op checks this first.
bool needs_grad(const Tensor& a);
bool needs_grad(const Tensor& a, const Tensor& b);
bool needs_grad(const Tensor& a, const Tensor& b, const Tensor& c);

// Connects `node` to the inputs and makes it the grad_fn of `output`.
void attach(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> inputs,
            Tensor& output);

}  // namespace ember::autograd
