// Autograd basics: the gradient examples of the PyTorch tutorials, in ember.
//   ./autograd_basics
#include <iostream>

#include <ember/ember.h>

using namespace ember;

int main() {
  // y = x^3 at x = 5: dy/dx = 3 x^2 = 75. A second backward (graph retained) accumulates.
  Tensor x = scalar_tensor(5, TensorOptions().requires_grad(true));
  Tensor y = pow(x, 3.0);
  y.backward(Tensor(), /*retain_graph=*/true);
  std::cout << "d(x^3)/dx at 5              = " << x.grad().item<float>() << "  (75)\n";
  y.backward();
  std::cout << "after a second backward     = " << x.grad().item<float>()
            << "  (150: .grad accumulates)\n";
  x.grad().zero_();
  pow(x, 3.0).backward();
  std::cout << "after zero_() and backward  = " << x.grad().item<float>() << "  (75)\n";

  // y = 1/x at x = 2: dy/dx = -1/x^2 = -0.25.
  Tensor x2 = scalar_tensor(2, TensorOptions().requires_grad(true));
  (1.0 / x2).backward();
  std::cout << "d(1/x)/dx at 2              = " << x2.grad().item<float>() << "  (-0.25)\n";

  // Chained linear functions and autograd::grad (which leaves .grad alone).
  auto param = [](double v) { return scalar_tensor(v, TensorOptions().requires_grad(true)); };
  Tensor in = scalar_tensor(1), w1 = param(2), b1 = param(1), w2 = param(2), b2 = param(1);
  Tensor y1 = in * w1 + b1;
  Tensor y2 = y1 * w2 + b2;
  std::cout << "dy2/dy1 = " << autograd::grad({y2}, {y1}, {}, true)[0].item<float>()
            << ", dy1/dw1 = " << autograd::grad({y1}, {w1}, {}, true)[0].item<float>()
            << ", dy2/dw1 = " << autograd::grad({y2}, {w1})[0].item<float>() << "  (2, 1, 2)\n";

  // Vector-valued output: backward needs the vector in the vector-Jacobian product.
  Tensor v = tensor({1, 2, 3}, TensorOptions().requires_grad(true));
  Tensor sq = v * v;
  sq.backward(ones({3}));
  std::cout << "d(sum v^2)/dv               = " << v.grad() << "\n";

  // No graph is recorded under NoGradGuard (inference, parameter updates).
  {
    NoGradGuard no_grad;
    std::cout << "under NoGradGuard, requires_grad of v*2 = " << std::boolalpha
              << (v * 2.0).requires_grad() << "\n";
  }
  // softmax's Jacobian from autograd equals p_i (delta_ij - p_j).
  Tensor logits = tensor({1.0, 2.0, 0.5}, TensorOptions().requires_grad(true));
  Tensor p = softmax(logits, 0);
  Tensor row0 = autograd::grad({p.select(0, 0)}, {logits}, {}, true)[0];
  std::cout << "d softmax_0 / d logits      = " << row0 << "\n";
  return 0;
}
