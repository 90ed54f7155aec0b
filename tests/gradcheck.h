// gradcheck: compares autograd's gradients with central finite differences in float64.
// For a random projection v of the output, the analytic gradient of <f(x), v> (one
// backward) must match (<f(x + eps e_k), v> - <f(x - eps e_k), v>) / 2 eps for every
// element k of every input. A random v makes a wrong Jacobian entry show up.
#pragma once

#include <functional>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.h>

namespace ember::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

inline ::testing::AssertionResult gradcheck(const Fn& f, std::vector<Tensor> inputs,
                                            double eps = 1e-6, double atol = 1e-5,
                                            double rtol = 1e-4) {
  for (auto& x : inputs) {
    if (x.dtype() == kFloat64 && !x.requires_grad()) x.requires_grad_(true);
  }
  Tensor out = f(inputs);
  Generator gen(1234);
  Tensor v = randn(out.sizes(), kFloat64, &gen).to(out.device());
  Tensor proj = sum(out * v);
  std::vector<Tensor> diff_inputs;
  for (auto& x : inputs)
    if (x.requires_grad()) diff_inputs.push_back(x);
  std::vector<Tensor> analytic = autograd::grad({proj}, diff_inputs, {}, false, true);

  NoGradGuard no_grad;
  size_t gi = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    Tensor& x = inputs[i];
    Tensor a = analytic[gi++];
    std::vector<double> av =
        a.defined() ? a.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    Tensor flat = x.detach().reshape({-1});  // x is contiguous in our tests: a view
    for (int64_t k = 0; k < x.numel(); ++k) {
      Tensor e = flat.select(0, k);
      const double orig = e.item<double>();
      e.fill_(orig + eps);
      const double plus = sum(f(inputs) * v).item<double>();
      e.fill_(orig - eps);
      const double minus = sum(f(inputs) * v).item<double>();
      e.fill_(orig);
      const double numeric = (plus - minus) / (2 * eps);
      if (std::abs(numeric - av[k]) > atol + rtol * std::abs(numeric)) {
        std::ostringstream os;
        os << "input " << i << " element " << k << ": analytic " << av[k] << " vs numeric "
           << numeric;
        return ::testing::AssertionFailure() << os.str();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A float64 tensor of `shape` with values in [lo, hi), deterministic per seed.
inline Tensor rand_double(const Shape& shape, uint64_t seed, double lo = -1, double hi = 1) {
  Generator gen(seed);
  return rand(shape, kFloat64, &gen) * (hi - lo) + lo;
}

}  // namespace ember::testing
