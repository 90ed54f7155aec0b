// Optimizer: the base of SGD, Adam and AdamW, shaped like torch.optim.Optimizer. It owns
// parameter groups (each with its own hyper-parameters, so e.g. a backbone and a head can
// train at different learning rates), per-parameter state (momentum buffers, moment
// estimates, step counts), zero_grad, and state_dict / load_state_dict for checkpoints.
//
//   ember::optim::SGD opt(model.parameters(), ember::optim::SGDOptions(0.1).momentum(0.9));
//   opt.zero_grad(); loss.backward(); opt.step();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ember/core/serialize.h>
#include <ember/core/tensor.h>

// Declares an option with a libtorch-style chainable setter and a getter:
//   EMBER_OPTIM_ARG(double, momentum) = 0;  ->  opts.momentum(0.9).momentum() == 0.9
#define EMBER_OPTIM_ARG(T, name) \
 public:                         \
  auto& name(const T& value) {   \
    name##_ = value;             \
    return *this;                \
  }                              \
  const T& name() const {        \
    return name##_;              \
  }                              \
                                 \
 private:                        \
  T name##_

namespace ember::optim {

// The hyper-parameters of one parameter group. Each optimizer has its own subclass
// (SGDOptions, AdamOptions); the base gives schedulers and state_dict a uniform view.
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // Calls fn(name, number, flag) for every hyper-parameter, with exactly one of number /
  // flag non-null, in a fixed order. state_dict stores them; load_state_dict writes them.
  using FieldVisitor = std::function<void(std::string_view name, double* number, bool* flag)>;
  virtual void visit_fields(const FieldVisitor& fn) = 0;
};

// A list of parameters with its own hyper-parameters. Without options the group uses the
// optimizer's defaults (the options it was constructed with).
class ParamGroup {
 public:
  explicit ParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}
  ParamGroup(std::vector<Tensor> params, const OptimizerOptions& options)
      : params_(std::move(params)), options_(options.clone()) {}
  ParamGroup(const ParamGroup& other);
  ParamGroup& operator=(const ParamGroup& other);
  ParamGroup(ParamGroup&&) noexcept = default;
  ParamGroup& operator=(ParamGroup&&) noexcept = default;

  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }
  bool has_options() const { return options_ != nullptr; }
  // Throws if the group has no options (an optimizer always fills them in).
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

// What an optimizer remembers about one parameter: a step count (Adam) and named buffers
// of the parameter's shape ("momentum_buffer", "exp_avg", ...). The buffers are allocated
// when the parameter joins the optimizer (Note [Optimizer state allocation] in
// optimizer.cpp), but the state only counts from the first step() that updates the
// parameter, as in PyTorch: until then state() is null and state_dict() leaves it out.
struct ParamState {
  int64_t step = 0;
  bool started = false;  // updated at least once, or loaded by load_state_dict
  std::vector<std::pair<std::string, Tensor>> buffers;

  // The buffer called `name`, or null.
  Tensor* find(std::string_view name);
  const Tensor* find(std::string_view name) const;
  // Adds (or replaces) a buffer and returns it.
  Tensor& set(std::string_view name, Tensor value);
};

// A per-parameter buffer an optimizer keeps: its name and whether it starts at zero (false:
// the first update writes it without reading it, so it is left uninitialised).
struct BufferSpec {
  std::string_view name;
  bool zeroed = true;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient (parameters whose .grad() is
  // undefined are skipped). Runs under NoGradGuard, one fused kernel per parameter.
  virtual void step() = 0;

  // Clears every parameter's gradient: set_to_none drops it (the next backward allocates
  // a fresh one, and step() skips the parameter until then); otherwise fills it with 0.
  void zero_grad(bool set_to_none = true);

  // Adds a group; without options it takes the defaults. A parameter may belong to only
  // one group, and must be a floating-point leaf tensor.
  void add_param_group(const ParamGroup& group);

  std::vector<ParamGroup>& param_groups() { return param_groups_; }
  const std::vector<ParamGroup>& param_groups() const { return param_groups_; }
  const OptimizerOptions& defaults() const { return *defaults_; }

  // The state of `param`, or null before its first update.
  const ParamState* state(const Tensor& param) const;

  // A snapshot (tensors are copies) of the optimizer, keyed like PyTorch's state_dict:
  //   param_groups.<g>.params        int64 (n_g): the global indices of the group's params
  //   param_groups.<g>.<hyper-param> 0-dim float64 (lr, momentum, ...; flags as 0 / 1)
  //   state.<i>.step                 0-dim float64 (optimizers that count steps)
  //   state.<i>.<buffer>             the buffer, shaped like parameter i
  // where i counts parameters across groups in order.
  StateDict state_dict() const;
  // Restores hyper-parameters and state saved by state_dict() of an optimizer of the same
  // kind over parameters of the same shapes. Validates everything before changing
  // anything; a mismatch is a ValueError / ShapeError naming the key.
  void load_state_dict(const StateDict& state_dict);

  // Writes every group's learning rate to the copy its update reads on the device (Note
  // [Device hyper-parameters]). step() does it whenever an lr changed, and schedulers do it
  // when they step; call it yourself after options().set_lr() between replays of a CUDA graph
  // that holds step(), which would otherwise keep using the old rate.
  void sync_lr();

 protected:
  explicit Optimizer(std::unique_ptr<OptimizerOptions> defaults);

  // Adds groups one by one (call from the subclass constructor, where the virtual checks
  // below resolve to the subclass).
  void init_groups(std::vector<ParamGroup> groups, const char* name);
  // Throws unless `options` is this optimizer's options type with valid values.
  virtual void check_options(const OptimizerOptions& options) const = 0;
  // The buffer names this optimizer keeps per parameter (for load_state_dict).
  virtual std::vector<std::string> state_names() const = 0;
  // Throws if a loaded state is incomplete for this optimizer (`key` prefixes messages).
  virtual void check_state(const std::string& key, const ParamState& state) const;

  // The buffers a parameter of a group with `options` needs; they are allocated when the
  // parameter joins (Note [Optimizer state allocation]). None by default.
  virtual std::vector<BufferSpec> state_buffers(const OptimizerOptions& /*options*/) const {
    return {};
  }
  // The buffer `spec` of `param`'s state for an update: the one allocated ahead, or a new one
  // if there is none yet or the parameter has changed device, dtype or shape since it was
  // allocated (Module::to after the optimizer was built) and no update has used it.
  static Tensor state_buffer(ParamState& state, const BufferSpec& spec, const Tensor& param);

  // The state of `param`, created empty on first use.
  ParamState& mutable_state(const Tensor& param) { return state_[param.impl()]; }

  // Allocates state_buffers() for the group's parameters that have no started state.
  void allocate_state(const ParamGroup& group);

  // Note [Device hyper-parameters]
  // ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
  // step() updates each group with one multi-tensor update (core/fused.h), which reads the
  // learning rate and every parameter's step count from the parameters' device and counts
  // the steps there itself. A CUDA graph that captured step() therefore replays with the
  // current rate and counts (Adam's bias corrections, SGD's first momentum step) instead of
  // the captured ones, with no host work per replay. The host keeps its own counts
  // (ParamState::step) for eager steps; state_dict() reads the device's, which are right after
  // replays too. The copies are made, and an lr written, by eager code: the first step(),
  // sync_lr(), a scheduler's step. During a capture they can only be read, so capturing a
  // step() that would have to write them (the first step, a new lr) throws CudaError. A
  // captured step() leaves the host's counts alone (it ran nothing). load_state_dict writes
  // the loaded buffers and counts into the existing tensors where they fit, so a graph that
  // captured step() goes on from the loaded state. One device per group: a group whose
  // parameters are on several devices throws DeviceError at step() (split it into groups).
  struct DeviceHyper {
    Tensor lr;     // float64 (1), the group's lr as last written
    Tensor steps;  // int64 (params in the group): each parameter's update count
    double lr_written = 0;
    bool steps_stale = false;  // load_state_dict changed the host's counts
  };
  // Group g's copies, made or brought up to date (lr, device, size) for an update; `name`
  // prefixes errors. Throws DeviceError if the group's parameters are on several devices.
  DeviceHyper& device_hyper(size_t g, const char* name);
  Tensor host_step_counts(const ParamGroup& group) const;  // int64, on the CPU

  std::vector<DeviceHyper> device_hyper_;  // indexed like param_groups_; made by step()

  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<ParamGroup> param_groups_;
  // Keyed by the parameter's TensorImpl, which the groups keep alive.
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

}  // namespace ember::optim
