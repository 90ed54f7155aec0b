// SGD: option validation (PyTorch's rules) and the step loop over groups.
#include <ember/optim/sgd.h>

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
  for (ParamGroup& group : param_groups_) {
    const auto& o = static_cast<const SGDOptions&>(group.options());
    for (Tensor& p : group.params()) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      g = g.contiguous();
      if (o.momentum() == 0) {
        fused::sgd_step_(p, g, nullptr, o.lr(), 0, o.dampening(), o.weight_decay(), false, false);
        continue;
      }
      ParamState& st = mutable_state(p);
      // Until the first update succeeds the buffer holds no values, and the next update is
      // again a first one.
      Tensor buf = state_buffer(st, kMomentumBuffer, p);
      fused::sgd_step_(p, g, &buf, o.lr(), o.momentum(), o.dampening(), o.weight_decay(),
                       o.nesterov(), !st.started);
      st.started = true;
    }
  }
}

}  // namespace ember::optim
