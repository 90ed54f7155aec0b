// Optimizer base: parameter groups, per-parameter state, zero_grad and the state_dict
// format (see optimizer.h). load_state_dict parses and validates the whole dict into new
// state first and only then swaps it in, so a bad checkpoint leaves the optimizer as it was.
//
// Note [Optimizer state allocation]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// PyTorch creates the state (Adam's two moments, SGD's momentum buffer) in the first step()
// that sees a gradient. On a device with a caching allocator that is the wrong moment: the
// state arrives after the first step's forward and backward have shaped the cache, and
// lands in the holes their temporaries left, so the second step's temporaries no longer fit
// and the cache grows again (the default MLP with Adam on CUDA: step 1 peaks at 4.58 MB in
// 6 MiB of segments, step 2 at 5.39 MB, which does fit in bytes but not in the fragmented
// holes, so step 2 made a cudaMalloc). Allocating the buffers when a parameter joins the
// optimizer means the first step already runs with the steady-state working set, and every
// later step finds its blocks in the cache. The cost: buffers for parameters that never get
// a gradient (PyTorch would never allocate them). What users see is unchanged: a state
// counts from its parameter's first update (ParamState::started), and a buffer allocated
// ahead for a parameter that has since moved (Module::to after the optimizer was built) is
// replaced at that update.
#include <ember/optim/optimizer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <unordered_set>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/cuda_graph.h>

namespace ember::optim {
namespace {

Tensor scalar(double v) {
  return scalar_tensor(v, TensorOptions(kFloat64).device(kCPU));  // host metadata, like PyTorch's
}

// The value of a one-element tensor, or a ValueError naming the key.
double scalar_value(const std::string& key, const Tensor& t) {
  EMBER_CHECK(t.defined() && t.numel() == 1, ValueError, "Optimizer::load_state_dict: '", key,
              "' must hold a single number, got ",
              t.defined() ? t.sizes().str() : std::string("an undefined tensor"));
  return t.item<double>();
}

// Parses "<prefix>.<index>.<rest>"; false if `key` does not have that form.
bool split_key(std::string_view key, std::string_view prefix, int64_t& index,
               std::string_view& rest) {
  if (key.size() <= prefix.size() + 1 || key.substr(0, prefix.size()) != prefix ||
      key[prefix.size()] != '.')
    return false;
  key.remove_prefix(prefix.size() + 1);
  const size_t dot = key.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == key.size()) return false;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + dot, index);
  if (ec != std::errc() || end != key.data() + dot || index < 0) return false;
  rest = key.substr(dot + 1);
  return true;
}

}  // namespace

// ---- ParamGroup -------------------------------------------------------------------------

ParamGroup::ParamGroup(const ParamGroup& other)
    : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}

ParamGroup& ParamGroup::operator=(const ParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.options_ ? other.options_->clone() : nullptr;
  }
  return *this;
}

OptimizerOptions& ParamGroup::options() {
  EMBER_CHECK(options_ != nullptr, ValueError, "ParamGroup::options: the group has no options");
  return *options_;
}

const OptimizerOptions& ParamGroup::options() const {
  EMBER_CHECK(options_ != nullptr, ValueError, "ParamGroup::options: the group has no options");
  return *options_;
}

// ---- ParamState -------------------------------------------------------------------------

Tensor* ParamState::find(std::string_view name) {
  for (auto& [n, t] : buffers)
    if (n == name) return &t;
  return nullptr;
}

const Tensor* ParamState::find(std::string_view name) const {
  return const_cast<ParamState*>(this)->find(name);
}

Tensor& ParamState::set(std::string_view name, Tensor value) {
  if (Tensor* t = find(name)) return *t = std::move(value);
  buffers.emplace_back(std::string(name), std::move(value));
  return buffers.back().second;
}

// ---- Optimizer --------------------------------------------------------------------------

Optimizer::Optimizer(std::unique_ptr<OptimizerOptions> defaults) : defaults_(std::move(defaults)) {}

void Optimizer::init_groups(std::vector<ParamGroup> groups, const char* name) {
  check_options(*defaults_);
  EMBER_CHECK(!groups.empty(), ValueError, name, ": got an empty parameter list");
  for (const ParamGroup& g : groups) add_param_group(g);
}

void Optimizer::add_param_group(const ParamGroup& group) {
  EMBER_CHECK(!group.params().empty(), ValueError, "add_param_group: the group has no parameters");
  std::unordered_set<const TensorImpl*> seen;
  for (const ParamGroup& g : param_groups_)
    for (const Tensor& p : g.params()) seen.insert(p.impl());
  for (size_t i = 0; i < group.params().size(); ++i) {
    const Tensor& p = group.params()[i];
    EMBER_CHECK(p.defined(), ValueError, "add_param_group: parameter ", i, " is undefined");
    EMBER_CHECK(is_floating(p.dtype()), DTypeError, "add_param_group: parameter ", i, " is ",
                p.dtype(), "; only floating-point tensors can be optimized");
    EMBER_CHECK(p.is_leaf(), ValueError, "add_param_group: parameter ", i, " (shape ", p.sizes(),
                ") is not a leaf tensor; can't optimize a tensor computed from others");
    EMBER_CHECK(seen.insert(p.impl()).second, ValueError, "add_param_group: parameter ", i,
                " (shape ", p.sizes(), ") appears more than once across parameter groups");
  }
  ParamGroup copy(group);
  if (!copy.has_options()) copy.set_options(defaults_->clone());
  check_options(copy.options());
  param_groups_.push_back(std::move(copy));
  allocate_state(param_groups_.back());
}

void Optimizer::allocate_state(const ParamGroup& group) {
  const std::vector<BufferSpec> specs = state_buffers(group.options());
  if (specs.empty()) return;
  NoGradGuard no_grad;
  for (const Tensor& p : group.params()) {
    ParamState& st = mutable_state(p);
    if (st.started) continue;
    for (const BufferSpec& spec : specs) state_buffer(st, spec, p);
  }
}

Tensor Optimizer::state_buffer(ParamState& state, const BufferSpec& spec, const Tensor& param) {
  if (Tensor* t = state.find(spec.name)) {
    const bool fits =
        t->device() == param.device() && t->dtype() == param.dtype() && t->sizes() == param.sizes();
    if (fits || state.started) return *t;
  }
  return state.set(spec.name, spec.zeroed ? zeros_like(param) : empty_like(param));
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (ParamGroup& group : param_groups_) {
    for (Tensor& p : group.params()) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      if (set_to_none) {
        p.set_grad(Tensor());
      } else {
        g.zero_();
      }
    }
  }
}

// The host's counts as the device keeps them: 0 for a new parameter; a started state without
// a count of its own (an SGD momentum buffer) counts as 1.
Tensor Optimizer::host_step_counts(const ParamGroup& group) const {
  std::vector<int64_t> counts;
  for (const Tensor& p : group.params()) {
    const auto it = state_.find(p.impl());
    const bool has = it != state_.end() && it->second.started;
    counts.push_back(has ? std::max<int64_t>(it->second.step, 1) : 0);
  }
  return from_vector<int64_t>(counts, std::nullopt, TensorOptions(kInt64).device(kCPU));
}

Optimizer::DeviceHyper& Optimizer::device_hyper(size_t g, const char* name) {
  if (device_hyper_.size() < param_groups_.size()) device_hyper_.resize(param_groups_.size());
  const ParamGroup& group = param_groups_[g];
  const Device device = group.params().front().device();
  for (const Tensor& p : group.params()) {
    EMBER_CHECK(p.device() == device, DeviceError, name, ": parameter group ", g,
                " has parameters on ", device, " and on ", p.device(),
                "; a group's update runs on one device");
  }
  DeviceHyper& h = device_hyper_[g];
  const auto n = static_cast<int64_t>(group.params().size());
  const bool exists = h.steps.defined() && h.steps.device() == device && h.steps.numel() == n;
  const double lr = group.options().get_lr();
  if (exists && !h.steps_stale && h.lr_written == lr) return h;
  EMBER_CHECK(!device.is_cuda() || !cuda::is_current_stream_capturing(device.index), CudaError,
              name, ".step(): parameter group ", g,
              exists && !h.steps_stale ? " has a new learning rate"
                                       : " has no up-to-date device copy of its learning rate "
                                         "and step counts",
              ", which a CUDA graph capture cannot write to ", device,
              "; run step() once eagerly before capturing it (Note [Device hyper-parameters] in "
              "optim/optimizer.h)");
  const TensorOptions host = TensorOptions(kFloat64).device(kCPU);
  if (!exists || h.steps_stale) {
    // Written in place when they exist: a captured graph keeps reading these addresses.
    if (exists) {
      h.steps.copy_(host_step_counts(group));
    } else {
      h.steps = host_step_counts(group).to(device);
    }
    h.steps_stale = false;
  }
  Tensor rate = from_vector<double>({lr}, std::nullopt, host);
  if (exists) {
    h.lr.copy_(rate);
  } else {
    h.lr = rate.to(device);
  }
  h.lr_written = lr;
  return h;
}

void Optimizer::sync_lr() {
  for (size_t g = 0; g < device_hyper_.size() && g < param_groups_.size(); ++g) {
    DeviceHyper& h = device_hyper_[g];
    const double lr = param_groups_[g].options().get_lr();
    if (!h.lr.defined() || h.lr_written == lr) continue;
    h.lr.copy_(from_vector<double>({lr}, std::nullopt, TensorOptions(kFloat64).device(kCPU)));
    h.lr_written = lr;
  }
}

const ParamState* Optimizer::state(const Tensor& param) const {
  if (!param.defined()) return nullptr;
  const auto it = state_.find(param.impl());
  return it == state_.end() || !it->second.started ? nullptr : &it->second;
}

void Optimizer::check_state(const std::string&, const ParamState&) const {}

StateDict Optimizer::state_dict() const {
  StateDict out;
  int64_t index = 0;
  std::vector<const Tensor*> params;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const ParamGroup& group = param_groups_[g];
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    std::vector<int64_t> ids;
    for (const Tensor& p : group.params()) {
      ids.push_back(index++);
      params.push_back(&p);
    }
    out.emplace_back(prefix + "params",
                     from_vector<int64_t>(ids, std::nullopt, TensorOptions(kInt64).device(kCPU)));
    std::unique_ptr<OptimizerOptions> opts = group.options().clone();
    opts->visit_fields([&](std::string_view name, double* number, bool* flag) {
      out.emplace_back(prefix + std::string(name), scalar(number ? *number : (*flag ? 1 : 0)));
    });
  }
  // The device counts are right after graph replays too (Note [Device hyper-parameters]);
  // -1 where a parameter has none.
  std::vector<int64_t> device_steps(params.size(), -1);
  for (size_t g = 0, i = 0; g < param_groups_.size(); ++g) {
    const size_t n = param_groups_[g].params().size();
    if (g < device_hyper_.size() && device_hyper_[g].steps.defined() &&
        !device_hyper_[g].steps_stale &&
        device_hyper_[g].steps.numel() == static_cast<int64_t>(n)) {
      const std::vector<int64_t> counts = device_hyper_[g].steps.to_vector<int64_t>();
      std::copy(counts.begin(), counts.end(), device_steps.begin() + static_cast<ptrdiff_t>(i));
    }
    i += n;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const ParamState* st = state(*params[i]);
    if (st == nullptr) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    // Only optimizers that count steps on the host save them (SGD does not).
    const int64_t step = st->step <= 0 ? 0 : device_steps[i] >= 0 ? device_steps[i] : st->step;
    if (step > 0) out.emplace_back(prefix + "step", scalar(static_cast<double>(step)));
    for (const auto& [name, t] : st->buffers) out.emplace_back(prefix + name, t.clone());
  }
  return out;
}

void Optimizer::load_state_dict(const StateDict& sd) {
  constexpr const char* kOp = "Optimizer::load_state_dict";
  std::vector<const Tensor*> params;
  for (const ParamGroup& g : param_groups_)
    for (const Tensor& p : g.params()) params.push_back(&p);

  std::map<std::string, const Tensor*> entries;
  for (const auto& [key, t] : sd) {
    EMBER_CHECK(entries.emplace(key, &t).second, ValueError, kOp, ": duplicate key '", key, "'");
  }
  std::set<std::string> used;
  auto take = [&](const std::string& key) -> const Tensor& {
    const auto it = entries.find(key);
    EMBER_CHECK(it != entries.end(), ValueError, kOp, ": missing key '", key,
                "' (was the state saved by a different kind of optimizer?)");
    used.insert(key);
    return *it->second;
  };

  // Groups: same count, same sizes; hyper-parameters read into fresh options.
  std::vector<std::unique_ptr<OptimizerOptions>> new_options;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    const Tensor& ids = take(prefix + "params");
    const auto expected = static_cast<int64_t>(param_groups_[g].params().size());
    EMBER_CHECK(ids.defined() && ids.dim() == 1 && ids.numel() == expected, ValueError, kOp,
                ": param group ", g, " has ", expected, " parameters, the state_dict's has ",
                ids.defined() ? ids.numel() : 0);
    std::unique_ptr<OptimizerOptions> opts = param_groups_[g].options().clone();
    opts->visit_fields([&](std::string_view name, double* number, bool* flag) {
      const std::string key = prefix + std::string(name);
      const double v = scalar_value(key, take(key));
      if (number != nullptr) {
        *number = v;
      } else {
        EMBER_CHECK(v == 0 || v == 1, ValueError, kOp, ": '", key, "' is a flag (0 or 1), got ", v);
        *flag = v != 0;
      }
    });
    try {
      check_options(*opts);
    } catch (const Error& e) {
      throw ValueError(detail::str_cat(kOp, ": param group ", g, ": ", e.what()));
    }
    new_options.push_back(std::move(opts));
  }

  // Per-parameter state, converted to each parameter's dtype and device.
  const std::vector<std::string> names = state_names();
  std::map<int64_t, ParamState> new_state;
  for (const auto& [key, value] : sd) {
    const Tensor* t = &value;
    int64_t index = 0;
    std::string_view rest;
    if (split_key(key, "param_groups", index, rest)) {
      EMBER_CHECK(used.count(key), ValueError, kOp, ": unexpected key '", key,
                  "' (the optimizer has ", param_groups_.size(),
                  " param groups with different hyper-parameters)");
      continue;
    }
    EMBER_CHECK(split_key(key, "state", index, rest), ValueError, kOp, ": unexpected key '", key,
                "'");
    EMBER_CHECK(index < static_cast<int64_t>(params.size()), ValueError, kOp, ": '", key,
                "' refers to parameter ", index, " but the optimizer has ", params.size());
    const Tensor& param = *params[index];
    ParamState& st = new_state[index];
    st.started = true;
    if (rest == "step") {
      const double v = scalar_value(key, *t);
      EMBER_CHECK(v >= 1 && v == std::floor(v) && v < 9.0e15, ValueError, kOp, ": '", key,
                  "' must be a positive whole number, got ", v);
      st.step = static_cast<int64_t>(v);
      continue;
    }
    bool known = false;
    for (const std::string& n : names) known |= n == rest;
    EMBER_CHECK(known, ValueError, kOp, ": unexpected key '", key,
                "' (not a state buffer of this optimizer)");
    EMBER_CHECK(t->defined() && t->sizes() == param.sizes(), ShapeError, kOp, ": '", key,
                "' has shape ", t->defined() ? t->sizes().str() : std::string("(undefined)"),
                ", parameter ", index, " has shape ", param.sizes());
    // A copy of our own: the caller may keep using the dict's tensors.
    Tensor copy = t->to(param.device(), param.dtype());
    if (copy.shares_storage(*t)) copy = copy.clone();
    copy = copy.contiguous();
    st.set(rest, std::move(copy));
  }
  for (const auto& [index, st] : new_state) check_state("state." + std::to_string(index), st);

  // Everything is valid: commit. Buffers that fit are written in place, so that a CUDA graph
  // which captured step() keeps updating the optimizer's state.
  for (auto& [index, st] : new_state) {
    const auto old = state_.find(params[index]->impl());
    if (old == state_.end()) continue;
    for (auto& [name, t] : st.buffers) {
      Tensor* kept = old->second.find(name);
      if (kept != nullptr && kept->sizes() == t.sizes() && kept->dtype() == t.dtype() &&
          kept->device() == t.device() && kept->is_contiguous()) {
        kept->copy_(t);
        t = *kept;
      }
    }
  }
  for (size_t g = 0; g < param_groups_.size(); ++g)
    param_groups_[g].set_options(std::move(new_options[g]));
  state_.clear();
  for (auto& [index, st] : new_state) state_[params[index]->impl()] = std::move(st);
  // The loaded counts go to the device copies now (in place, for a captured graph), the
  // learning rates at the next step() or sync_lr().
  for (size_t g = 0; g < device_hyper_.size() && g < param_groups_.size(); ++g) {
    DeviceHyper& h = device_hyper_[g];
    if (!h.steps.defined()) continue;
    const Tensor counts = host_step_counts(param_groups_[g]);
    if (h.steps.numel() == counts.numel()) {
      h.steps.copy_(counts);
    } else {
      h.steps_stale = true;
    }
  }
  for (const ParamGroup& g : param_groups_) allocate_state(g);  // for parameters left out
}

}  // namespace ember::optim
