// Loss modules: each holds its options and computes forward(input, target) through
// nn::functional.
#pragma once

#include <cstdint>
#include <string>

#include <ember/nn/module.h>
#include <ember/nn/module_holder.h>

namespace ember::nn {

// Base for two-input criteria: forward(input, target) and operator()(input, target).
class Loss : public Module {
 public:
  explicit Loss(Reduction reduction) : reduction(reduction) {}
  using Module::forward;  // the one-input form throws: a loss needs a target
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  Reduction reduction;
};

// Softmax + negative log-likelihood on (N, C) logits and (N) int64 class targets; samples
// whose target is ignore_index are skipped (and excluded from the mean); label_smoothing as
// in ember::cross_entropy.
class CrossEntropyLossImpl : public Loss {
 public:
  explicit CrossEntropyLossImpl(Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                                double label_smoothing = 0.0);
  using Loss::forward;
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string extra_repr() const override;
  int64_t ignore_index;
  double label_smoothing;
};
EMBER_MODULE(CrossEntropyLoss);

// Negative log-likelihood on (N, C) log-probabilities (e.g. log_softmax output).
class NLLLossImpl : public Loss {
 public:
  explicit NLLLossImpl(Reduction reduction = Reduction::Mean, int64_t ignore_index = -100)
      : Loss(reduction), ignore_index(ignore_index) {}
  using Loss::forward;
  Tensor forward(const Tensor& input, const Tensor& target) override;
  int64_t ignore_index;
};
EMBER_MODULE(NLLLoss);

// Mean (or sum) of squared differences.
class MSELossImpl : public Loss {
 public:
  explicit MSELossImpl(Reduction reduction = Reduction::Mean) : Loss(reduction) {}
  using Loss::forward;
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
EMBER_MODULE(MSELoss);

// Sigmoid + binary cross-entropy on logits, numerically stable at any |x|. Optional
// per-element `weight` and per-class `pos_weight` as in PyTorch.
class BCEWithLogitsLossImpl : public Loss {
 public:
  explicit BCEWithLogitsLossImpl(Reduction reduction = Reduction::Mean, Tensor weight = Tensor(),
                                 Tensor pos_weight = Tensor());
  using Loss::forward;
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight, pos_weight;
};
EMBER_MODULE(BCEWithLogitsLoss);

}  // namespace ember::nn
