// SGD: option validation (PyTorch's rules) and the step loop over groups.
#include <ember/optim/sgd.h>

#include <vector>

#include <ember/core/autograd/grad_mode.h>
#include <ember/core/fused.h>

namespace ember::optim {

void SGDOptions::visit_fields(const FieldVisitor& fn) {
  fn("lr", &lr_, nullptr);
  fn("momentum", &momentum_, nullptr);
  fn("dampening", &dampening_, nullptr);
  fn("weight_decay", &weight_decay_, nullptr);
  fn("nesterov", nullptr, &nesterov_);
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& defaults)
    : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& defaults) : Optimizer(defaults.clone()) {
  init_groups(std::move(groups), "SGD");
}

void SGD::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const SGDOptions*>(&options);
  EMBER_CHECK(o != nullptr, ValueError, "SGD: a parameter group's options must be SGDOptions");
  EMBER_CHECK(o->lr() >= 0, ValueError, "SGD: invalid learning rate ", o->lr());
  EMBER_CHECK(o->momentum() >= 0, ValueError, "SGD: invalid momentum ", o->momentum());
  EMBER_CHECK(o->weight_decay() >= 0, ValueError, "SGD: invalid weight_decay ", o->weight_decay());
  EMBER_CHECK(!o->nesterov() || (o->momentum() > 0 && o->dampening() == 0), ValueError,
              "SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ",
              o->momentum(), ", dampening ", o->dampening(), ")");
}

namespace {
// The first update writes the buffer without reading it, so it needs no zero-fill.
constexpr BufferSpec kMomentumBuffer{"momentum_buffer", false};
}  // namespace

std::vector<BufferSpec> SGD::state_buffers(const OptimizerOptions& options) const {
  if (static_cast<const SGDOptions&>(options).momentum() == 0) return {};
  return {kMomentumBuffer};
}

void SGD::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < param_groups_.size(); ++gi) {
    ParamGroup& group = param_groups_[gi];
    const auto& o = static_cast<const SGDOptions&>(group.options());
    const bool momentum = o.momentum() != 0;
    std::vector<Tensor> params, grads, bufs;
    std::vector<int64_t> index;
    std::vector<ParamState*> states;
    for (size_t k = 0; k < group.params().size(); ++k) {
      Tensor& p = group.params()[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      params.push_back(p);
      grads.push_back(g.contiguous());
      index.push_back(static_cast<int64_t>(k));
      if (momentum) {
        ParamState& st = mutable_state(p);
        bufs.push_back(state_buffer(st, kMomentumBuffer, p));
        states.push_back(&st);
      }
    }
    if (params.empty()) continue;
    // The update reads the lr and step counts on the device (Note [Device hyper-parameters]);
    // a parameter's first momentum update (count 0) starts its buffer at the gradient.
    DeviceHyper& h = device_hyper(gi, "SGD");
    fused::sgd_multi_step_(params, grads, bufs, h.lr, h.steps, index, o.momentum(), o.dampening(),
                           o.weight_decay(), o.nesterov());
    for (ParamState* st : states) st->started = true;
  }
}

}  // namespace ember::optim
