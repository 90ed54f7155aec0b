// LR schedulers: the shared epoch bookkeeping and the three closed forms.
#include <ember/optim/lr_scheduler.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ember::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const ParamGroup& g : optimizer.param_groups()) base_lrs_.push_back(g.options().get_lr());
}

void LRScheduler::init() {
  apply();
}

void LRScheduler::step() {
  ++last_epoch_;
  apply();
}

void LRScheduler::apply() {
  auto& groups = optimizer_.param_groups();
  EMBER_CHECK(groups.size() == base_lrs_.size(), ValueError, "LRScheduler: the optimizer has ",
              groups.size(), " param groups but had ", base_lrs_.size(),
              " when the scheduler was created; create the scheduler after add_param_group");
  last_lr_.resize(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    last_lr_[g] = lr_at(base_lrs_[g], last_epoch_);
    groups[g].options().set_lr(last_lr_[g]);
  }
  optimizer_.sync_lr();  // a CUDA graph replaying step() reads the device's copy
}

StateDict LRScheduler::state_dict() const {
  // Host metadata whatever the default device is.
  return {{"last_epoch",
           scalar_tensor(static_cast<double>(last_epoch_), TensorOptions(kFloat64).device(kCPU))},
          {"base_lrs",
           from_vector<double>(base_lrs_, std::nullopt, TensorOptions(kFloat64).device(kCPU))}};
}

void LRScheduler::load_state_dict(const StateDict& sd) {
  constexpr const char* kOp = "LRScheduler::load_state_dict";
  const Tensor* epoch = nullptr;
  const Tensor* base = nullptr;
  for (const auto& [key, t] : sd) {
    if (key == "last_epoch") {
      epoch = &t;
    } else if (key == "base_lrs") {
      base = &t;
    } else {
      throw ValueError(detail::str_cat(kOp, ": unexpected key '", key, "'"));
    }
  }
  EMBER_CHECK(epoch && base, ValueError, kOp, ": needs keys 'last_epoch' and 'base_lrs'");
  EMBER_CHECK(epoch->defined() && epoch->numel() == 1, ValueError, kOp,
              ": 'last_epoch' must hold one number");
  const double e = epoch->item<double>();
  EMBER_CHECK(e >= 0 && e == std::floor(e) && e < 9.0e15, ValueError, kOp,
              ": 'last_epoch' must be a whole number >= 0, got ", e);
  EMBER_CHECK(base->defined() && base->dim() == 1 &&
                  base->numel() == static_cast<int64_t>(base_lrs_.size()),
              ValueError, kOp, ": 'base_lrs' must hold ", base_lrs_.size(),
              " values (one per group)");
  base_lrs_ = base->to_vector<double>();
  last_epoch_ = static_cast<int64_t>(e);
  apply();
}

// ---- StepLR -----------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  EMBER_CHECK(step_size > 0, ValueError, "StepLR: step_size must be positive, got ", step_size);
  init();
}

double StepLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

// ---- CosineAnnealingLR ------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), t_max_(T_max), eta_min_(eta_min) {
  EMBER_CHECK(T_max > 0, ValueError, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  init();
}

double CosineAnnealingLR::lr_at(double base_lr, int64_t epoch) const {
  const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr - eta_min_) * (1 + std::cos(phase)) / 2;
}

// ---- LinearWarmup -----------------------------------------------------------------------

LinearWarmup::LinearWarmup(Optimizer& optimizer, int64_t warmup_steps, double start_factor)
    : LRScheduler(optimizer), warmup_steps_(warmup_steps), start_factor_(start_factor) {
  EMBER_CHECK(warmup_steps > 0, ValueError, "LinearWarmup: warmup_steps must be positive, got ",
              warmup_steps);
  EMBER_CHECK(start_factor > 0 && start_factor <= 1, ValueError,
              "LinearWarmup: start_factor must be in (0, 1], got ", start_factor);
  init();
}

double LinearWarmup::lr_at(double base_lr, int64_t epoch) const {
  const double progress =
      static_cast<double>(std::min(epoch, warmup_steps_)) / static_cast<double>(warmup_steps_);
  return base_lr * (start_factor_ + (1 - start_factor_) * progress);
}

}  // namespace ember::optim
