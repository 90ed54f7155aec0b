// Adam / AdamW: option validation (PyTorch's rules) and the step loop over groups.
#include <ember/optim/adam.h>

#include <vector>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/cuda_graph.h>
#include <ember/core/fused.h>

namespace ember::optim {

void AdamOptions::visit_fields(const FieldVisitor& fn) {
  fn("lr", &lr_, nullptr);
  fn("beta1", &betas_.first, nullptr);
  fn("beta2", &betas_.second, nullptr);
  fn("eps", &eps_, nullptr);
  fn("weight_decay", &weight_decay_, nullptr);
  fn("amsgrad", nullptr, &amsgrad_);
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& defaults)
    : Adam(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults)
    : Adam(std::move(groups), defaults, false, "Adam") {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults, bool decoupled,
           const char* name)
    : Optimizer(defaults.clone()), decoupled_(decoupled), name_(name) {
  init_groups(std::move(groups), name_);
}

void Adam::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const AdamOptions*>(&options);
  EMBER_CHECK(o != nullptr, ValueError, name_, ": a parameter group's options must be AdamOptions");
  EMBER_CHECK(o->lr() >= 0, ValueError, name_, ": invalid learning rate ", o->lr());
  EMBER_CHECK(o->eps() >= 0, ValueError, name_, ": invalid eps ", o->eps());
  const auto [b1, b2] = o->betas();
  EMBER_CHECK(b1 >= 0 && b1 < 1, ValueError, name_, ": invalid beta1 ", b1, " (must be in [0, 1))");
  EMBER_CHECK(b2 >= 0 && b2 < 1, ValueError, name_, ": invalid beta2 ", b2, " (must be in [0, 1))");
  EMBER_CHECK(o->weight_decay() >= 0, ValueError, name_, ": invalid weight_decay ",
              o->weight_decay());
}

void Adam::check_state(const std::string& key, const ParamState& st) const {
  EMBER_CHECK(st.step >= 1 && st.find("exp_avg") && st.find("exp_avg_sq"), ValueError,
              "Optimizer::load_state_dict: ", name_, " state '", key,
              "' needs step, exp_avg and exp_avg_sq together");
}

namespace {
constexpr BufferSpec kExpAvg{"exp_avg"};
constexpr BufferSpec kExpAvgSq{"exp_avg_sq"};
constexpr BufferSpec kMaxExpAvgSq{"max_exp_avg_sq"};
}  // namespace

std::vector<BufferSpec> Adam::state_buffers(const OptimizerOptions& options) const {
  if (static_cast<const AdamOptions&>(options).amsgrad()) return {kExpAvg, kExpAvgSq, kMaxExpAvgSq};
  return {kExpAvg, kExpAvgSq};
}

void Adam::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < param_groups_.size(); ++gi) {
    ParamGroup& group = param_groups_[gi];
    const auto& o = static_cast<const AdamOptions&>(group.options());
    std::vector<Tensor> params, grads, m, v, vmax;
    std::vector<int64_t> index;
    std::vector<ParamState*> states;
    for (size_t k = 0; k < group.params().size(); ++k) {
      Tensor& p = group.params()[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      ParamState& st = mutable_state(p);
      params.push_back(p);
      grads.push_back(g.contiguous());
      index.push_back(static_cast<int64_t>(k));
      // Moments start at zero (the kernel reads them).
      m.push_back(state_buffer(st, kExpAvg, p));
      v.push_back(state_buffer(st, kExpAvgSq, p));
      if (o.amsgrad()) vmax.push_back(state_buffer(st, kMaxExpAvgSq, p));
      states.push_back(&st);
    }
    if (params.empty()) continue;
    // The update reads the lr and each parameter's step count on the device and counts the
    // step there (Note [Device hyper-parameters]); the host's counts only advance once the
    // update went through, so a failed step leaves a consistent state.
    DeviceHyper& h = device_hyper(gi, name_);
    fused::adam_multi_step_(params, grads, m, v, vmax, h.lr, h.steps, index, o.betas().first,
                            o.betas().second, o.eps(), o.weight_decay(), decoupled_);
    // A captured update has not run: the device counts its replays.
    const Device device = params.front().device();
    if (device.is_cuda() && cuda::is_current_stream_capturing(device.index)) continue;
    for (ParamState* st : states) {
      ++st->step;
      st->started = true;
    }
  }
}

}  // namespace ember::optim
