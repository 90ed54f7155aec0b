// Learning-rate schedulers, as torch.optim.lr_scheduler: each sets every parameter
// group's lr to a closed-form function of the group's initial lr (its lr when the
// scheduler was created) and the number of step() calls so far. Constructing a scheduler
// applies epoch 0, like PyTorch. Call scheduler.step() after optimizer.step(), once per
// epoch (or per iteration, if the schedule is counted in iterations).
#pragma once

#include <cstdint>
#include <vector>

#include <ember/core/serialize.h>
#include <ember/optim/optimizer.h>

namespace ember::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and updates every group's lr.
  void step();
  // The lr of each group after the latest step (or construction).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  // "last_epoch" (0-dim float64) and "base_lrs" (float64, one per group). Loading also
  // re-applies the lr of last_epoch to the optimizer.
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state_dict);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // Applies epoch 0; the subclass constructor calls it once its own fields are set.
  void init();
  // The lr for a group whose initial lr is base_lr, at `epoch` (>= 0).
  virtual double lr_at(double base_lr, int64_t epoch) const = 0;

 private:
  void apply();

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = 0;
};

// lr = base_lr * gamma ^ floor(epoch / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: PyTorch's
// closed form (periodic beyond T_max, like torch's _get_closed_form_lr).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0);

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// Linear warm-up, as torch's LinearLR with end_factor 1: the factor goes from
// start_factor at epoch 0 to 1 at epoch warmup_steps and stays there:
//   lr = base_lr * (start_factor + (1 - start_factor) * min(epoch, warmup_steps) / warmup_steps)
class LinearWarmup : public LRScheduler {
 public:
  LinearWarmup(Optimizer& optimizer, int64_t warmup_steps, double start_factor = 1.0 / 3);

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;

 private:
  int64_t warmup_steps_;
  double start_factor_;
};

}  // namespace ember::optim
