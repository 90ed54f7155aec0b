// nn::Module: the base of every layer and model. It keeps an ordered registry of parameters,
// buffers and child modules, and everything that walks that tree is defined once here:
// parameters(), state_dict(), train()/eval(), to(), zero_grad(), printing. Subclass it as in
// libtorch, with a holder made by EMBER_MODULE (nn/module_holder.h):
//
//   struct MLPImpl : nn::Module {
//     MLPImpl() {
//       hidden = register_module("hidden", nn::Linear(784, 256));
//       out = register_module("out", nn::Linear(256, 10));
//     }
//     Tensor forward(const Tensor& x) override { return out(relu(hidden(x))); }
//     nn::Linear hidden{nullptr}, out{nullptr};
//   };
//   EMBER_MODULE(MLP);  // MLP model; model(x); model->parameters();
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <ember/core/device.h>
#include <ember/core/dtype.h>
#include <ember/core/serialize.h>
#include <ember/core/tensor.h>

namespace ember::nn {

// What load_state_dict(strict = false) could not match (PyTorch's _IncompatibleKeys).
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  Module() = default;
  virtual ~Module() = default;
  // A copy would share every parameter with the original while looking independent, so
  // modules are move-only (build with std::make_shared, or move into a Sequential).
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // The type's name as printed ("Linear", "MLP"): the demangled class name by default, less
  // its namespaces and a trailing "Impl" (LinearImpl prints as Linear, as in libtorch).
  virtual std::string name() const;
  // Layer settings shown between the parentheses when printing, e.g. "in_features=3, ...".
  virtual std::string extra_repr() const { return ""; }

  // The computation for modules that map one tensor to one tensor, which is what
  // Sequential chains. Modules that take other inputs (losses) define their own forward;
  // calling this one on them throws.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // ---- registration ------------------------------------------------------------------------
  // Names must be non-empty, contain no '.', and be unique within this module. A parameter
  // must be a leaf (no grad_fn); it is marked requires_grad(requires_grad). Returns the
  // registered handle (the same tensor, so a member copy sees later to()/load changes).
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // State that is saved and moved with the module but never trained (running statistics,
  // constant weights).
  Tensor register_buffer(const std::string& name, Tensor tensor);
  // Registers a child and returns what was passed: a shared_ptr, or a holder (nn::Linear,
  // or a user's EMBER_MODULE type) sharing the same module.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module: M must derive from nn::Module");
    add_child(name, module);
    return module;
  }
  template <class Holder>
  requires requires(const Holder& h) {
    typename Holder::ContainedType;
    h.ptr();
  }
  Holder register_module(const std::string& name, Holder holder) {
    add_child(name, holder.ptr());
    return holder;
  }

  // ---- traversal ---------------------------------------------------------------------------
  // Depth-first, this module first. A tensor (or module) reachable along two paths appears
  // once, under the first name.
  std::vector<Tensor> parameters(bool recurse = true) const;
  StateDict named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  StateDict named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (name "") and all descendants. A module not owned by a shared_ptr appears
  // through a non-owning pointer, valid while the module lives.
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true);
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules(
      bool include_self = true);
  // Calls fn on every module, children first (torch.nn.Module.apply), e.g. for custom init.
  void apply(const std::function<void(Module&)>& fn);

  // ---- mode --------------------------------------------------------------------------------
  // Sets training mode on this module and every descendant (Dropout is active only in
  // training mode).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- devices and dtypes ------------------------------------------------------------------
  // Converts every parameter and buffer in place, keeping tensor identity (like PyTorch's
  // module.to): handles held elsewhere, including an optimizer's parameter list, see the
  // converted data. A dtype change applies to floating-point tensors only. Gradients are
  // converted along. An optimizer's existing state (momentum, Adam moments) is NOT moved,
  // so, as in PyTorch, build the optimizer after calling to().
  void to(Device device);
  void to(DType dtype);
  void to(Device device, DType dtype);

  // Clears every parameter's .grad (set_to_none) or zeroes it in place.
  void zero_grad(bool set_to_none = true);

  // ---- state -------------------------------------------------------------------------------
  // Parameters and buffers by dotted name ("hidden.weight"), this module's own first, then
  // each child's. Entries alias the module's data (detached), as in PyTorch.
  StateDict state_dict() const;
  // Copies matching entries into the parameters and buffers (converting dtype and device).
  // Shape mismatches are always errors; with strict, so are missing and unexpected keys.
  // Every problem is reported in one ember::ValueError, and nothing is modified unless all
  // checks pass.
  LoadResult load_state_dict(const StateDict& state, bool strict = true);
  // state_dict() to a file (atomic write) and back (strict): safetensors when the path ends
  // in ".safetensors" (core/safetensors.h), else ember's checkpoint format (core/serialize.h).
  void save(const std::string& path) const;
  void load(const std::string& path);

 protected:
  // For containers (Sequential, ModuleList, ModuleDict) that manage their children's names
  // themselves. replace_child keeps the child's position; both throw ValueError for a name
  // that is not a child.
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void replace_child(const std::string& name, std::shared_ptr<Module> module);
  void remove_child(const std::string& name);

 private:
  friend std::ostream& operator<<(std::ostream& os, const Module& module);

  void check_new_name(const char* what, const std::string& name) const;
  std::string name_check_prefix(const char* what) const;
  void convert(std::optional<Device> device, std::optional<DType> dtype);
  std::string repr() const;
  void collect_named(bool params, bool recurse, const std::string& prefix, StateDict& out,
                     std::vector<const TensorImpl*>& seen) const;
  void collect_state(const std::string& prefix, StateDict& out) const;
  void collect_modules(const std::string& prefix, std::shared_ptr<Module> self,
                       std::vector<std::pair<std::string, std::shared_ptr<Module>>>& out,
                       std::vector<const Module*>& seen);

  StateDict parameters_;
  StateDict buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Prints the module tree like PyTorch:
//   Sequential(
//     (0): Linear(in_features=784, out_features=256, bias=true)
//     (1): ReLU()
//   )
std::ostream& operator<<(std::ostream& os, const Module& module);

namespace internal {
// A module class's printed name from its type: "ember::nn::LinearImpl" -> "Linear".
std::string module_type_name(const std::type_info& type);
}  // namespace internal

}  // namespace ember::nn
