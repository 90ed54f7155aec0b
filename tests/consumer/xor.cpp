// An out-of-tree program linked against an installed ember, written as a libtorch user writes
// one (a module and its holder, EMBER_MODULE): trains XOR and exits non-zero unless all four
// points are classified correctly.
#include <iostream>

#include <ember/ember.h>

using namespace ember;

struct XorNetImpl : nn::Module {
  nn::Linear hidden{nullptr}, out{nullptr};
  XorNetImpl() {
    hidden = register_module("hidden", nn::Linear(2, 8));
    out = register_module("out", nn::Linear(8, 1));
  }
  Tensor forward(const Tensor& x) override { return out(tanh(hidden(x))); }
};
EMBER_MODULE(XorNet);

int main() {
  manual_seed(0);
  Tensor x = from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, Shape{4, 2});
  Tensor y = from_vector<float>({0, 1, 1, 0}, Shape{4, 1});
  XorNet net;
  optim::Adam opt(net->parameters(), optim::AdamOptions(0.05));
  for (int step = 0; step < 500; ++step) {
    Tensor loss = nn::functional::binary_cross_entropy_with_logits(net(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  Tensor predicted = gt(net(x), 0.0).to(kFloat32);
  const bool ok = eq(predicted, y).to(kInt64).sum().item<int64_t>() == 4;
  std::cout << "xor predictions: " << predicted.flatten() << (ok ? "  OK" : "  WRONG") << "\n";
  return ok ? 0 : 1;
}
