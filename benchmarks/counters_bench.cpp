// ember-bench --counters: what one training step asks of the GPU, from ember's counters
// (ember::cuda::counters(), the same on cudasim and on a GPU): the default MLP of
// examples/train_mlp (784-256-128-10, ReLU), batch 256, cross-entropy, Adam or SGD with
// momentum, after warm-up steps. One line per configuration:
//   counters <adam|sgd> <eager|graph>: launches=N graph_launches=N syncs=N raw_allocs=N
//     h2d_bytes=N d2h_bytes=N d2d_bytes=N
// where launches counts kernel launches plus cuBLAS calls made from the host during the step
// (in graph mode: those outside the graph; the batch upload is a copy, counted in h2d_bytes).
// On a GPU (not cudasim) it also prints the step time of each mode, from CUDA events.
#include "counters_bench.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <ember/ember.h>

namespace ember_bench {
namespace {

using namespace ember;

struct Setup {
  nn::Sequential model;
  std::unique_ptr<optim::Optimizer> opt;
};

Setup make_setup(bool adam, Device device) {
  Generator gen(0);
  Setup s;
  s.model = nn::Sequential();
  s.model->push_back(nn::Linear(784, 256, true, &gen));
  s.model->push_back(nn::ReLU());
  s.model->push_back(nn::Linear(256, 128, true, &gen));
  s.model->push_back(nn::ReLU());
  s.model->push_back(nn::Linear(128, 10, true, &gen));
  s.model->to(device);
  if (adam) {
    s.opt = std::make_unique<optim::Adam>(s.model->parameters(), optim::AdamOptions(1e-3));
  } else {
    s.opt =
        std::make_unique<optim::SGD>(s.model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  }
  return s;
}

void step(Setup& s, const Tensor& x, const Tensor& y) {
  Tensor loss = cross_entropy(s.model->forward(x), y);
  s.opt->zero_grad();
  loss.backward();
  s.opt->step();
}

void print(const char* opt, const char* mode, const cuda::Counters& c) {
  std::printf(
      "counters %s %s: launches=%lld graph_launches=%lld syncs=%lld raw_allocs=%lld "
      "h2d_bytes=%lld d2h_bytes=%lld d2d_bytes=%lld\n",
      opt, mode, static_cast<long long>(c.launches), static_cast<long long>(c.graph_launches),
      static_cast<long long>(c.syncs), static_cast<long long>(c.raw_allocs),
      static_cast<long long>(c.h2d_bytes), static_cast<long long>(c.d2h_bytes),
      static_cast<long long>(c.d2d_bytes));
}

// Milliseconds per step over `steps` steps, from CUDA events around them (GPU only).
template <class F>
double step_ms(F&& one_step, int steps) {
  cuda::Event start, stop;
  start.record();
  for (int i = 0; i < steps; ++i) one_step();
  stop.record();
  stop.synchronize();
  return start.elapsed_ms(stop) / steps;
}

}  // namespace

int run_counters_benchmark() {
  if (!cuda::is_available()) {
    std::printf(
        "ember-bench --counters: no CUDA device (this build has no CUDA backend, or no "
        "GPU is present; a -DEMBER_CUDA=SIM build counts on cudasim)\n");
    return 1;
  }
  const Device device = Device::cuda();
  const bool gpu = !cuda::is_simulated();
  std::printf(
      "ember-bench --counters: one training step of MLP 784-256-128-10 (ReLU), batch "
      "256, on %s%s, after warm-up\n",
      device.str().c_str(), gpu ? "" : " (cudasim)");
  Generator gen(1);
  const Tensor host_x = randn({256, 784}, kFloat32, &gen);
  const Tensor host_y = randint(0, 10, {256}, TensorOptions(kInt64).device(kCPU), &gen);
  for (bool adam : {true, false}) {
    const char* name = adam ? "adam" : "sgd";
    // Eager: the batch goes up each step, as a loader's would.
    {
      Setup s = make_setup(adam, device);
      for (int i = 0; i < 2; ++i) step(s, host_x.to(device), host_y.to(device));
      cuda::synchronize();
      const cuda::Counters before = cuda::counters();
      step(s, host_x.to(device), host_y.to(device));
      print(name, "eager", cuda::counters() - before);
      if (gpu) {
        std::printf("  eager step: %.3f ms\n",
                    step_ms([&] { step(s, host_x.to(device), host_y.to(device)); }, 50));
      }
    }
    // Graph: the batch is copied into the captured inputs, then one replay.
    {
      Setup s = make_setup(adam, device);
      Tensor x = host_x.to(device), y = host_y.to(device);
      step(s, x, y);
      cuda::Graph graph(device.index);
      graph.capture([&] { step(s, x, y); });
      auto one_step = [&] {
        x.copy_(host_x);
        y.copy_(host_y);
        graph.replay();
      };
      one_step();
      cuda::synchronize();
      const cuda::Counters before = cuda::counters();
      one_step();
      print(name, "graph", cuda::counters() - before);
      if (gpu) std::printf("  graph step: %.3f ms\n", step_ms(one_step, 50));
    }
  }
  return 0;
}

}  // namespace ember_bench
