// Training on the CUDA backend through the public API: an MLP's gradients and SGD / Adam /
// AdamW steps on cuda equal the CPU's, the caching allocator's statistics and empty_cache,
// events, and the costs of one training step read from cudasim's counters -- after one
// warm-up step, a step makes no raw device allocation, copies only the batch to the device,
// and never makes the host wait for the GPU (the loss's target check stays on the device:
// Note [Host-device synchronisation] in kernels/cuda/backend.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <ember/core/backend.h>
#include <ember/ember.h>

#include "cuda/backend_test_util.h"
#include "cudasim/counters.h"

namespace ember {
namespace {

using cuda_backend_test::error_of;
using cuda_backend_test::kCuda;
using cuda_backend_test::kF32;
using cuda_backend_test::same_values;

// The same initial weights on every call (seeded Philox, identical on both devices).
nn::Sequential make_mlp(const std::vector<int64_t>& widths, uint64_t seed) {
  Generator gen(seed);
  nn::Sequential model;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    model->push_back(nn::Linear(widths[i], widths[i + 1], true, &gen));
    if (i + 2 < widths.size()) model->push_back(nn::ReLU());
  }
  return model;
}

struct Batch {
  Tensor x, y;
};

Batch make_batch(int64_t n, int64_t features, int64_t classes, uint64_t seed) {
  Generator gen(seed);
  return {randn({n, features}, kFloat32, &gen), randint(0, classes, {n}, kInt64, &gen)};
}

// One step as examples/train_mlp.cpp runs it: forward, loss, zero_grad, backward, update.
// Returns the loss (not read back).
Tensor train_step(nn::Module& model, optim::Optimizer& opt, const Batch& batch, Device device) {
  const Tensor x = batch.x.to(device), y = batch.y.to(device);
  Tensor loss = cross_entropy(model(x), y);
  opt.zero_grad();
  loss.backward();
  opt.step();
  return loss;
}

TEST(CudaTraining, MlpGradientsMatchCpu) {
  auto cpu = make_mlp({20, 32, 16, 5}, 7), gpu = make_mlp({20, 32, 16, 5}, 7);
  gpu->to(kCuda);
  const Batch b = make_batch(24, 20, 5, 3);
  Tensor y = b.y.clone();
  y.select(0, 4).fill_(-100);  // an ignored sample
  Tensor loss = cross_entropy((*cpu)(b.x), y);
  Tensor gloss = cross_entropy((*gpu)(b.x.to(kCuda)), y.to(kCuda));
  EXPECT_TRUE(same_values(gloss, loss, kF32));
  loss.backward();
  gloss.backward();
  const auto p_cpu = cpu->named_parameters(), p_gpu = gpu->named_parameters();
  ASSERT_EQ(p_cpu.size(), p_gpu.size());
  for (size_t i = 0; i < p_cpu.size(); ++i) {
    SCOPED_TRACE(p_cpu[i].first);
    EXPECT_EQ(p_gpu[i].second.device(), kCuda);
    ASSERT_TRUE(p_gpu[i].second.grad().defined());
    EXPECT_TRUE(same_values(p_gpu[i].second.grad(), p_cpu[i].second.grad(), 1e-4));
  }
}

template <class MakeOpt>
void check_optimizer(const char* name, MakeOpt make_opt) {
  SCOPED_TRACE(name);
  auto cpu = make_mlp({12, 16, 4}, 11), gpu = make_mlp({12, 16, 4}, 11);
  gpu->to(kCuda);
  auto opt_cpu = make_opt(cpu->parameters()), opt_gpu = make_opt(gpu->parameters());
  for (int step = 0; step < 3; ++step) {
    const Batch b = make_batch(16, 12, 4, 100 + step);
    train_step(*cpu, *opt_cpu, b, kCPU);
    train_step(*gpu, *opt_gpu, b, kCuda);
  }
  const auto p_cpu = cpu->named_parameters(), p_gpu = gpu->named_parameters();
  for (size_t i = 0; i < p_cpu.size(); ++i) {
    SCOPED_TRACE(p_cpu[i].first);
    EXPECT_TRUE(same_values(p_gpu[i].second, p_cpu[i].second, 1e-4));
  }
}

TEST(CudaTraining, OptimizerStepsMatchCpu) {
  check_optimizer("sgd", [](std::vector<Tensor> p) {
    return std::make_unique<optim::SGD>(p, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  });
  check_optimizer("sgd weight decay", [](std::vector<Tensor> p) {
    return std::make_unique<optim::SGD>(p, optim::SGDOptions(0.05).weight_decay(0.01));
  });
  check_optimizer("adam", [](std::vector<Tensor> p) {
    return std::make_unique<optim::Adam>(p, optim::AdamOptions(1e-2).amsgrad(true));
  });
  check_optimizer("adamw", [](std::vector<Tensor> p) {
    return std::make_unique<optim::AdamW>(p, optim::AdamWOptions(1e-2).weight_decay(0.1));
  });
}

TEST(CudaTraining, MemoryStatisticsAndEmptyCache) {
  // The backend exists first (its own records are part of the base): queries about a device
  // nothing has used answer zero without creating it.
  (void)zeros({1}, kCuda);
  cuda::empty_cache();
  const int64_t base = cuda::memory_allocated();
  cuda::reset_peak_memory_stats();
  {
    const Tensor t = zeros({1000}, kCuda);  // 4000 B, rounded (plus the simulator's guard)
    EXPECT_GE(cuda::memory_allocated() - base, 4000);
    EXPECT_LE(cuda::memory_allocated() - base, 4608);
    EXPECT_GE(cuda::memory_reserved(), cuda::memory_allocated());
    const Tensor big = zeros({1 << 20}, kCuda);  // 4 MiB: the large pool
    EXPECT_GE(cuda::max_memory_allocated() - base, 4 * (1 << 20));
  }
  EXPECT_EQ(cuda::memory_allocated(), base);
  EXPECT_GE(cuda::max_memory_allocated() - base, 4 * (1 << 20)) << "the peak stays";
  const AllocatorStats before = cuda::memory_stats();
  const int64_t frees = cudasim::counters().device_frees;
  cuda::empty_cache();
  EXPECT_LT(cuda::memory_reserved(), before.reserved_bytes);
  EXPECT_GT(cudasim::counters().device_frees, frees) << "segments went back to cudaFree";
  // Reuse: the same request again is a cache hit after the first raw allocation.
  { const Tensor t = zeros({1000}, kCuda); }
  const int64_t raw = cudasim::counters().device_allocations;
  const AllocatorStats s0 = cuda::memory_stats();
  { const Tensor t = zeros({1000}, kCuda); }
  EXPECT_EQ(cudasim::counters().device_allocations, raw);
  EXPECT_EQ(cuda::memory_stats().cache_hits, s0.cache_hits + 1);
}

// Under cudasim every block the caching allocator hands out is followed by guard bytes, so a
// kernel writing past one tensor into its neighbour in the same segment fails at once.
TEST(CudaTraining, OverrunIntoANeighbouringBlockFailsTheLaunch) {
  Backend& be = backend(kCuda);
  void* a = device_allocate(kCuda, 100);
  void* b = device_allocate(kCuda, 100);
  Layout l;
  l.ndim = 1;
  l.sizes[0] = 26;  // 104 bytes: 4 past the end of `a`
  l.strides[0] = 1;
  const std::string msg = error_of<CudaError>([&] {
    be.fill(kFloat32, l, a, 1.0);
    be.synchronize();  // where a GPU (and deferred cudasim) reports it
  });
  EXPECT_NE(msg.find("'fill'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("caching allocator"), std::string::npos) << msg;
  l.sizes[0] = 25;  // exactly the block: fine
  be.fill(kFloat32, l, a, 1.0);
  device_deallocate(kCuda, b);
  device_deallocate(kCuda, a);
}

// A kernel fault surfaces where CUDA reports it, which on a GPU may be a later call than the
// kernel that faulted: the message says so and names the switch that pins it down.
TEST(CudaTraining, KernelFaultsPointToEmberCudaSyncLaunches) {
  Backend& be = backend(kCuda);
  void* a = device_allocate(kCuda, 100);
  Layout l;
  l.ndim = 1;
  l.sizes[0] = 40;  // 160 bytes into a 100-byte block
  l.strides[0] = 1;
  const std::string msg = error_of<CudaError>([&] {
    be.fill(kFloat32, l, a, 1.0);
    be.synchronize();  // where a GPU (and deferred cudasim) reports it
  });
  EXPECT_NE(msg.find("'fill'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("EMBER_CUDA_SYNC_LAUNCHES"), std::string::npos) << msg;
  device_deallocate(kCuda, a);
}

TEST(CudaTraining, EventsTimeQueuedWork) {
  cuda::Event start, stop;
  start.record();
  Tensor x = ones({256, 256}, kCuda);
  for (int i = 0; i < 3; ++i) x = relu(x * 1.5);
  stop.record();
  const int64_t syncs = cuda::host_syncs();
  stop.synchronize();
  EXPECT_GE(start.elapsed_ms(stop), 0.0f);
  EXPECT_THROW(cuda::Event().synchronize(), ValueError);
  EXPECT_THROW(cuda::Event(3), DeviceError);
  cuda::synchronize();
  EXPECT_EQ(cuda::host_syncs(), syncs + 1) << "cuda::synchronize() waits, and is counted";
}

// A warm training step's device budget, on cudasim's counters. Printed for the report.
// One warm-up step fills the cache: the optimizers allocate their state when built (Note
// [Optimizer state allocation] in optim/optimizer.cpp), so the first step already runs with
// the steady-state working set.
void measure_step(const std::vector<int64_t>& widths, int64_t batch, bool adam) {
  auto model = make_mlp(widths, 5);
  model->to(kCuda);
  std::unique_ptr<optim::Optimizer> opt;
  if (adam) {
    opt = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions(1e-3));
  } else {
    opt = std::make_unique<optim::SGD>(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  }
  const Batch warm = make_batch(batch, widths.front(), widths.back(), 1);
  const Batch b = make_batch(batch, widths.front(), widths.back(), 2);
  train_step(*model, *opt, warm, kCuda);

  cudasim::reset_counters();
  const int64_t syncs = cuda::host_syncs();
  const Tensor loss = train_step(*model, *opt, b, kCuda);
  const cudasim::Counters c = cudasim::counters();
  const int64_t ember_syncs = cuda::host_syncs() - syncs;

  EXPECT_EQ(c.device_allocations, 0) << "a warm step must not call cudaMalloc";
  EXPECT_EQ(c.device_frees, 0);
  EXPECT_EQ(c.bytes_h2d, b.x.nbytes() + b.y.nbytes()) << "only the batch goes to the device";
  EXPECT_EQ(c.host_syncs, 0) << "a training step never waits for the GPU";
  EXPECT_EQ(c.bytes_d2h, 0) << "nor reads anything back";
  EXPECT_EQ(ember_syncs, c.host_syncs) << "ember counts every wait cudasim sees";
  // Gradients are produced in place: AccumulateGrad keeps the engine's buffer (no clone).
  EXPECT_EQ(c.bytes_d2d, 0) << "no device-to-device copies";
  std::string per_kernel;
  for (const auto& [name, count] : c.launches_by_kernel)
    per_kernel += " " + name + "=" + std::to_string(count);
  std::cout << "[ step     ] MLP";
  for (int64_t w : widths) std::cout << " " << w;
  std::cout << ", batch " << batch << ", " << (adam ? "Adam" : "SGD momentum") << ": "
            << c.kernel_launches << " launches, " << c.cublas_calls << " cuBLAS calls, "
            << c.host_syncs << " syncs, " << c.device_allocations << " cudaMalloc, " << c.bytes_h2d
            << " B H2D, " << c.bytes_d2h << " B D2H, " << c.bytes_d2d << " B D2D\n[ kernels  ]"
            << per_kernel << "\n";
  ::testing::Test::RecordProperty("kernel_launches", static_cast<int>(c.kernel_launches));
  EXPECT_TRUE(std::isfinite(loss.item<float>()));
}

TEST(CudaTraining, WarmStepMakesNoRawAllocationsNoSyncsAndCopiesOnlyTheBatch) {
  if (const char* env = std::getenv("EMBER_CUDA_SYNC_LAUNCHES"); env && std::string(env) != "0")
    GTEST_SKIP() << "EMBER_CUDA_SYNC_LAUNCHES waits after every launch, by design";
  measure_step({64, 32, 10}, 32, false);
  // train_mlp's default model, with the classic recipe's SGD and its default Adam.
  measure_step({784, 256, 128, 10}, 256, false);
  measure_step({784, 256, 128, 10}, 256, true);
}

}  // namespace
}  // namespace ember
