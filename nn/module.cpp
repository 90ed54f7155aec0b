// nn::Module: the registry, tree traversal, mode, conversion, state_dict and printing.
#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <typeinfo>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/safetensors.h>

namespace ember::nn {
namespace {

bool contains(const std::vector<const TensorImpl*>& seen, const TensorImpl* p) {
  return std::find(seen.begin(), seen.end(), p) != seen.end();
}

// Points `dst`'s TensorImpl at `src`'s data (libtorch's set_data). Every handle to the
// parameter, and its AccumulateGrad node, keep working because the impl object is the same.
void set_data(const Tensor& dst, const Tensor& src) {
  TensorImpl* d = dst.impl();
  const TensorImpl* s = src.impl();
  d->storage = s->storage;
  d->sizes = s->sizes;
  d->strides = s->strides;
  d->offset = s->offset;
  d->dtype = s->dtype;
  d->device = s->device;
}

// Indents every line after the first by two spaces (PyTorch's _addindent).
std::string indent(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

}  // namespace

namespace internal {
std::string module_type_name(const std::type_info& type) {
  const char* mangled = type.name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string full = status == 0 && demangled ? demangled.get() : mangled;
  // Drop namespaces and enclosing scopes ("ember::nn::Linear" -> "Linear"), but not the
  // ones inside template arguments.
  const std::string head = full.substr(0, full.find('<'));
  const auto scope = head.rfind("::");
  std::string name = scope == std::string::npos ? full : full.substr(scope + 2);
  const std::string impl = "Impl";
  if (name.size() > impl.size() && name.ends_with(impl)) name.resize(name.size() - impl.size());
  return name;
}

void throw_empty_holder(const std::type_info& impl) {
  throw ValueError(detail::str_cat(module_type_name(impl),
                                   ": the holder is empty (made from nullptr); assign a module "
                                   "to it before use"));
}
}  // namespace internal

std::string Module::name() const {
  return internal::module_type_name(typeid(*this));
}

Tensor Module::forward(const Tensor&) {
  throw Error(detail::str_cat(name(),
                              ": this module has no forward(const Tensor&); it takes other "
                              "inputs (call its own forward), or the subclass must override it"));
}

// ---- registration --------------------------------------------------------------------------

void Module::check_new_name(const char* what, const std::string& name) const {
  EMBER_CHECK(!name.empty(), ValueError, name_check_prefix(what), "name must not be empty");
  EMBER_CHECK(name.find('.') == std::string::npos, ValueError, name_check_prefix(what), "name '",
              name, "' must not contain '.'");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  EMBER_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), ValueError,
              name_check_prefix(what), "'", name, "' is already registered in ", this->name());
}

std::string Module::name_check_prefix(const char* what) const {
  return detail::str_cat(what, " (", name(), "): ");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name("register_parameter", name);
  EMBER_CHECK(tensor.defined(), ValueError, "register_parameter (", this->name(), "): parameter '",
              name, "' is an undefined tensor");
  EMBER_CHECK(tensor.is_leaf(), AutogradError, "register_parameter (", this->name(),
              "): parameter '", name,
              "' is the result of an op (has a grad_fn); pass .detach() of it, so that the "
              "parameter is a leaf");
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name("register_buffer", name);
  EMBER_CHECK(tensor.defined(), ValueError, "register_buffer (", this->name(), "): buffer '", name,
              "' is an undefined tensor");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name("register_module", name);
  EMBER_CHECK(module != nullptr, ValueError, "register_module (", this->name(), "): module '", name,
              "' is null");
  EMBER_CHECK(module.get() != this, ValueError, "register_module (", this->name(),
              "): a module cannot be its own child");
  children_.emplace_back(name, std::move(module));
}

namespace {
template <class Children>
auto find_child(Children& children, const std::string& name, const std::string& owner) {
  auto it = std::find_if(children.begin(), children.end(),
                         [&](const auto& child) { return child.first == name; });
  EMBER_CHECK(it != children.end(), ValueError, owner, ": no child module named '", name, "'");
  return it;
}
}  // namespace

void Module::replace_child(const std::string& name, std::shared_ptr<Module> module) {
  EMBER_CHECK(module != nullptr, ValueError, "register_module (", this->name(), "): module '", name,
              "' is null");
  EMBER_CHECK(module.get() != this, ValueError, "register_module (", this->name(),
              "): a module cannot be its own child");
  find_child(children_, name, this->name())->second = std::move(module);
}

void Module::remove_child(const std::string& name) {
  children_.erase(find_child(children_, name, this->name()));
}

// ---- traversal -----------------------------------------------------------------------------

void Module::collect_named(bool params, bool recurse, const std::string& prefix, StateDict& out,
                           std::vector<const TensorImpl*>& seen) const {
  for (const auto& [n, t] : params ? parameters_ : buffers_) {
    if (contains(seen, t.impl())) continue;
    seen.push_back(t.impl());
    out.emplace_back(prefix + n, t);
  }
  if (!recurse) return;
  for (const auto& [n, child] : children_)
    child->collect_named(params, true, prefix + n + ".", out, seen);
}

StateDict Module::named_parameters(bool recurse) const {
  StateDict out;
  std::vector<const TensorImpl*> seen;
  collect_named(true, recurse, "", out, seen);
  return out;
}

StateDict Module::named_buffers(bool recurse) const {
  StateDict out;
  std::vector<const TensorImpl*> seen;
  collect_named(false, recurse, "", out, seen);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  for (const auto& child : children_) {
    // Not a structured binding: C++20 lets a lambda capture one, clang 14 does not yet.
    const bool dup =
        std::any_of(out.begin(), out.end(), [&](auto& e) { return e.second == child.second; });
    if (!dup) out.push_back(child);
  }
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (auto& [n, c] : named_children()) out.push_back(c);
  return out;
}

void Module::collect_modules(const std::string& prefix, std::shared_ptr<Module> self,
                             std::vector<std::pair<std::string, std::shared_ptr<Module>>>& out,
                             std::vector<const Module*>& seen) {
  if (std::find(seen.begin(), seen.end(), this) != seen.end()) return;
  seen.push_back(this);
  if (self) out.emplace_back(prefix, std::move(self));
  for (auto& [n, c] : children_)
    c->collect_modules(prefix.empty() ? n : prefix + "." + n, c, out, seen);
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules(
    bool include_self) {
  std::shared_ptr<Module> self;
  if (include_self) {
    self = weak_from_this().lock();
    // Not owned by a shared_ptr (a stack or member module): hand out a non-owning alias.
    if (!self) self = std::shared_ptr<Module>(std::shared_ptr<Module>(), this);
  }
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  std::vector<const Module*> seen;
  collect_modules("", self, out, seen);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) {
  std::vector<std::shared_ptr<Module>> out;
  for (auto& [n, m] : named_modules(include_self)) out.push_back(m);
  return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [n, c] : children_) c->apply(fn);
  fn(*this);
}

// ---- mode, conversion, gradients -----------------------------------------------------------

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::to(Device device) {
  convert(device, std::nullopt);
}
void Module::to(DType dtype) {
  convert(std::nullopt, dtype);
}
void Module::to(Device device, DType dtype) {
  convert(device, dtype);
}

void Module::convert(std::optional<Device> device, std::optional<DType> dtype) {
  NoGradGuard no_grad;
  StateDict all = named_parameters();
  for (auto& entry : named_buffers()) all.push_back(entry);
  std::vector<const TensorImpl*> done;  // a buffer may also be registered as a parameter
  for (auto& [n, t] : all) {
    if (contains(done, t.impl())) continue;
    done.push_back(t.impl());
    const Device dev = device.value_or(t.device());
    const DType dt = dtype && is_floating(t.dtype()) ? *dtype : t.dtype();
    if (dev == t.device() && dt == t.dtype()) continue;
    Tensor converted = t.detach().to(dev, dt);
    Tensor grad = t.grad();
    set_data(t, converted);
    if (grad.defined()) t.set_grad(grad.to(dev, dt));
  }
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    if (set_to_none) {
      p.set_grad(Tensor());
    } else if (Tensor g = p.grad(); g.defined()) {
      g.zero_();
    }
  }
}

// ---- state ---------------------------------------------------------------------------------

void Module::collect_state(const std::string& prefix, StateDict& out) const {
  for (const auto& [n, t] : parameters_) out.emplace_back(prefix + n, t);
  for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  for (const auto& [n, c] : children_) c->collect_state(prefix + n + ".", out);
}

StateDict Module::state_dict() const {
  StateDict out;
  collect_state("", out);
  for (auto& [n, t] : out) t = t.detach();
  return out;
}

LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
  StateDict own;
  collect_state("", own);
  std::map<std::string, const Tensor*> given;
  std::vector<std::string> problems;
  for (const auto& [n, t] : state) {
    if (!given.emplace(n, &t).second) problems.push_back("duplicate key '" + n + "' in the input");
  }

  LoadResult result;
  std::map<std::string, bool> expected;
  for (const auto& [n, t] : own) {
    expected[n] = true;
    auto it = given.find(n);
    if (it == given.end()) {
      result.missing_keys.push_back(n);
      continue;
    }
    const Tensor& src = *it->second;
    if (!src.defined()) {
      problems.push_back("'" + n + "' is an undefined tensor in the input");
    } else if (src.sizes() != t.sizes()) {
      problems.push_back(detail::str_cat("size mismatch for '", n, "': checkpoint has shape ",
                                         src.sizes(), ", the module has shape ", t.sizes()));
    }
  }
  for (const auto& [n, t] : state)
    if (!expected.count(n)) result.unexpected_keys.push_back(n);

  if (strict) {
    for (const auto& k : result.missing_keys) problems.push_back("missing key '" + k + "'");
    for (const auto& k : result.unexpected_keys) problems.push_back("unexpected key '" + k + "'");
  }
  if (!problems.empty()) {
    std::ostringstream msg;
    msg << "load_state_dict (" << name() << "): " << problems.size()
        << (problems.size() == 1 ? " problem" : " problems") << ", nothing was loaded:";
    for (const auto& p : problems) msg << "\n  " << p;
    throw ValueError(msg.str());
  }

  NoGradGuard no_grad;
  for (auto& [n, t] : own) {
    auto it = given.find(n);
    if (it != given.end()) t.copy_(*it->second);
  }
  return result;
}

namespace {
// The format goes by the name, as users expect of a file they exchange with PyTorch.
bool is_safetensors_path(const std::string& path) {
  return path.ends_with(".safetensors");
}
}  // namespace

void Module::save(const std::string& path) const {
  if (is_safetensors_path(path))
    save_safetensors(state_dict(), path);
  else
    ember::save(state_dict(), path);
}

void Module::load(const std::string& path) {
  load_state_dict(is_safetensors_path(path) ? load_safetensors(path) : ember::load(path), true);
}

// ---- printing ------------------------------------------------------------------------------

std::string Module::repr() const {
  std::string s = name() + "(";
  const std::string extra = extra_repr();
  if (children_.empty()) return s + extra + ")";
  s += "\n";
  if (!extra.empty()) s += "  " + indent(extra) + "\n";
  for (const auto& [n, c] : children_) s += "  (" + n + "): " + indent(c->repr()) + "\n";
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& module) {
  return os << module.repr();
}

}  // namespace ember::nn
