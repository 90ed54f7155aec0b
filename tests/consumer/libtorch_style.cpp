// An out-of-tree program written the way a libtorch user writes one in the first hour, linked
// against an installed ember: a custom module and its holder (EMBER_MODULE) with Embedding,
// Linear, BatchNorm1d, LayerNorm and a ModuleList, a forward taking two tensors, devices by
// name, indexing (torch::indexing's kinds), add with alpha, cross_entropy with label
// smoothing, clip_grad_norm_, named_parameters() by key, and a safetensors round trip. Exits
// non-zero, saying why, unless it all holds.
#include <cstdio>
#include <iostream>
#include <string>

#include <ember/ember.h>

using namespace ember;
using namespace ember::indexing;

struct NetImpl : nn::Module {
  nn::Embedding emb{nullptr};
  nn::Linear fc1{nullptr};
  nn::BatchNorm1d bn{nullptr};
  nn::LayerNorm norm{nullptr};
  nn::ModuleList heads{nullptr};
  NetImpl() {
    emb = register_module("emb", nn::Embedding(10, 4));
    fc1 = register_module("fc1", nn::Linear(4 + 3, 16));
    bn = register_module("bn", nn::BatchNorm1d(16));
    norm = register_module("norm", nn::LayerNorm(Shape{16}));
    heads = register_module("heads", nn::ModuleList(nn::Linear(16, 2), nn::Linear(16, 2)));
  }
  Tensor forward(const Tensor& ids, const Tensor& x) {
    Tensor h = relu(norm(bn(fc1(cat({emb(ids), x}, 1)))));
    return add(heads[0]->forward(h), heads[1]->forward(h), 0.5);
  }
};
EMBER_MODULE(Net);

namespace {
int failures = 0;
void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "FAILED: " << what << "\n";
    ++failures;
  }
}
}  // namespace

int main() {
  manual_seed(0);
  const Device device = cuda::is_available() ? Device("cuda:0") : Device("cpu");
  Net net;
  net->to(device);
  check(net->named_parameters().contains("heads.1.weight"), "named_parameters() by key");
  check(net->named_buffers()["bn.running_var"].sizes() == Shape{16}, "named_buffers() by key");

  // The class is whether the id is 5 or more: the embedding has to learn it.
  const Tensor ids = randint(0, 10, {128}).to(device);
  const Tensor x = randn({128, 3}).to(device);
  const Tensor y = ge(ids, 5.0).to(kInt64);
  optim::Adam opt(net->parameters(), optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int step = 0; step < 100; ++step) {
    Tensor loss = cross_entropy(net(ids, x), y, Reduction::Mean, -100, 0.05);
    (step == 0 ? first : last) = loss.item<double>();
    opt.zero_grad();
    loss.backward();
    nn::utils::clip_grad_norm_(net->parameters(), 5.0);
    opt.step();
  }
  check(last < first / 2, "training lowers the loss (first " + std::to_string(first) + ", last " +
                              std::to_string(last) + ")");

  // Indexing: a column, every other row of the last columns, a new axis, a mask write.
  Tensor m = arange(0, 12, 1, kFloat32).view({3, 4}).to(device);
  check(m.index({Slice(), 0}).to(kCPU).to_vector<float>() == std::vector<float>{0, 4, 8},
        "x.index({Slice(), 0})");
  check(m.index({Slice(None, None, 2), Slice(2, None)}).to(kCPU).to_vector<float>() ==
            std::vector<float>{2, 3, 10, 11},
        "x.index({Slice(None, None, 2), Slice(2, None)})");
  check(m.index({"...", None}).sizes() == Shape{3, 4, 1}, "x.index({\"...\", None})");
  Tensor rows = from_vector<int64_t>({2, 0}).to(device);
  check(m.index({rows, -1}).to(kCPU).to_vector<float>() == std::vector<float>{11, 3},
        "x.index({index_tensor, -1})");
  m.index_put_({ge(m, 6.0)}, 0.0);
  check(m.sum().item<double>() == 15.0, "x.index_put_({mask}, 0)");

  // safetensors round trip into a second, differently initialised net.
  net->eval();
  const std::string path = "libtorch_style.safetensors";
  net->save(path);
  Net other;
  other->to(device);
  other->load(path);
  other->eval();
  const Tensor a = net(ids, x), b = other(ids, x);
  check(eq(a, b).all().item<bool>(), "a safetensors round trip gives the same outputs");
  std::remove(path.c_str());

  std::cout << "libtorch-style program on " << device << ": loss " << first << " -> " << last
            << (failures == 0 ? "  OK" : "  WRONG") << "\n";
  return failures == 0 ? 0 : 1;
}
