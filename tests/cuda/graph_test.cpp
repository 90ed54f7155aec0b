// CUDA graphs through the public API (core/cuda_graph.h), on cudasim: a captured training step
// replays bit-identically to the same steps run eagerly, with one graph launch and no host
// launch, sync, raw allocation or copy back; the capture's memory stays the graph's; and
// everything a graph cannot record throws ember::CudaError naming it, leaving the device
// usable.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
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

nn::Sequential make_mlp(uint64_t seed) {
  Generator gen(seed);
  nn::Sequential model;
  model->push_back(nn::Linear(12, 16, true, &gen));
  model->push_back(nn::ReLU());
  model->push_back(nn::Linear(16, 5, true, &gen));
  model->to(kCuda);
  return model;
}

struct Batch {
  Tensor x, y;  // on the CPU
};

Batch make_batch(uint64_t seed) {
  Generator gen(seed);
  return {randn({8, 12}, kFloat32, &gen), randint(0, 5, {8}, kInt64, &gen)};
}

Tensor step(nn::Module& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
  Tensor loss = cross_entropy(model(x), y);
  opt.zero_grad();
  loss.backward();
  opt.step();
  return loss;
}

void expect_same_parameters(nn::Module& a, nn::Module& b) {
  const std::vector<Tensor> pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].to_vector<float>(), pb[i].to_vector<float>()) << "parameter " << i;
  }
}

// A warm-up step, eager in both models, as with torch.cuda.graphs; the graphed model's batch
// goes through its static inputs x, y.
void warm_up(nn::Module& eager, optim::Optimizer& eager_opt, nn::Module& graphed,
             optim::Optimizer& graph_opt, Tensor& x, Tensor& y, uint64_t seed) {
  const Batch warm = make_batch(seed);
  step(eager, eager_opt, warm.x.to(kCuda), warm.y.to(kCuda));
  x.copy_(warm.x);
  y.copy_(warm.y);
  step(graphed, graph_opt, x, y);
}

TEST(CudaGraph, ACapturedSgdStepReplaysBitIdenticallyToEagerSteps) {
  auto eager = make_mlp(3), graphed = make_mlp(3);
  optim::SGD eager_opt(eager->parameters(), optim::SGDOptions(0.1));
  optim::SGD graph_opt(graphed->parameters(), optim::SGDOptions(0.1));
  Tensor x = zeros({8, 12}, kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  warm_up(*eager, eager_opt, *graphed, graph_opt, x, y, 100);

  cuda::Graph graph;
  Tensor loss;
  graph.capture([&] { loss = step(*graphed, graph_opt, x, y); });
  EXPECT_TRUE(graph.captured());
  for (uint64_t s = 0; s < 4; ++s) {
    const Batch b = make_batch(s);
    const float want = step(*eager, eager_opt, b.x.to(kCuda), b.y.to(kCuda)).item<float>();
    x.copy_(b.x);
    y.copy_(b.y);
    graph.replay();
    EXPECT_EQ(loss.item<float>(), want) << "step " << s;
  }
  expect_same_parameters(*eager, *graphed);
}

// Capturable optimizers (Note [Device hyper-parameters] in optim/optimizer.h): Adam's step
// counts and a scheduler's learning rates reach every replay.
TEST(CudaGraph, ACapturedAdamStepFollowsItsStepCountsAndScheduler) {
  for (bool decoupled : {false, true}) {
    auto eager = make_mlp(7), graphed = make_mlp(7);
    std::unique_ptr<optim::Adam> eager_opt, graph_opt;
    const auto options = optim::AdamOptions(0.01).weight_decay(0.1).amsgrad(true);
    if (decoupled) {
      eager_opt = std::make_unique<optim::AdamW>(eager->parameters(), options);
      graph_opt = std::make_unique<optim::AdamW>(graphed->parameters(), options);
    } else {
      eager_opt = std::make_unique<optim::Adam>(eager->parameters(), options);
      graph_opt = std::make_unique<optim::Adam>(graphed->parameters(), options);
    }
    optim::StepLR eager_sched(*eager_opt, 2, 0.5), graph_sched(*graph_opt, 2, 0.5);
    Tensor x = zeros({8, 12}, kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
    warm_up(*eager, *eager_opt, *graphed, *graph_opt, x, y, 50);

    cuda::Graph graph;
    Tensor loss;
    graph.capture([&] { loss = step(*graphed, *graph_opt, x, y); });
    for (uint64_t s = 0; s < 5; ++s) {
      const Batch b = make_batch(s);
      const float want = step(*eager, *eager_opt, b.x.to(kCuda), b.y.to(kCuda)).item<float>();
      eager_sched.step();
      x.copy_(b.x);
      y.copy_(b.y);
      graph.replay();
      graph_sched.step();
      EXPECT_EQ(loss.item<float>(), want) << "step " << s;
    }
    expect_same_parameters(*eager, *graphed);
    // The saved step counts are the device's: 1 warm-up + 5 replays (the capture ran none).
    for (const auto& [key, t] : graph_opt->state_dict()) {
      if (key.size() > 5 && key.substr(key.size() - 5) == ".step") {
        EXPECT_EQ(t.item<double>(), 6.0) << key;
      }
    }
  }
}

// A capture runs nothing, so it counts no step; a failed one leaves nothing behind either.
TEST(CudaGraph, CapturingAStepCountsNoStep) {
  auto model = make_mlp(12);
  optim::Adam opt(model->parameters(), optim::AdamOptions(0.01));
  Tensor x = randn({8, 12}).to(kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  step(*model, opt, x, y);
  auto saved_step = [&] {
    for (const auto& [key, t] : opt.state_dict())
      if (key == "state.0.step") return t.item<double>();
    return -1.0;
  };
  EXPECT_EQ(saved_step(), 1.0);
  {
    cuda::Graph graph;
    graph.capture([&] { step(*model, opt, x, y); });
  }
  EXPECT_EQ(saved_step(), 1.0) << "captured, never replayed";
  cuda::Graph failed;
  EXPECT_THROW(failed.capture([&] {
    step(*model, opt, x, y);
    (void)x.sum().item<float>();
  }),
               CudaError);
  EXPECT_EQ(saved_step(), 1.0) << "a failed capture";
  step(*model, opt, x, y);
  EXPECT_EQ(saved_step(), 2.0);
  EXPECT_EQ(opt.state(model->parameters()[0])->step, 2);
}

// load_state_dict writes into the tensors a captured step() updates, so replays go on from
// the loaded moments and counts.
TEST(CudaGraph, AReplayedStepGoesOnFromALoadedOptimizerState) {
  auto eager = make_mlp(13), graphed = make_mlp(13);
  optim::Adam eager_opt(eager->parameters(), optim::AdamOptions(0.01));
  optim::Adam graph_opt(graphed->parameters(), optim::AdamOptions(0.01));
  Tensor x = zeros({8, 12}, kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  warm_up(*eager, eager_opt, *graphed, graph_opt, x, y, 70);
  cuda::Graph graph;
  graph.capture([&] { step(*graphed, graph_opt, x, y); });
  auto both_step = [&](uint64_t seed) {
    const Batch b = make_batch(seed);
    step(*eager, eager_opt, b.x.to(kCuda), b.y.to(kCuda));
    x.copy_(b.x);
    y.copy_(b.y);
    graph.replay();
  };
  both_step(1);
  const StateDict eager_sd = eager_opt.state_dict(), graph_sd = graph_opt.state_dict();
  both_step(2);
  both_step(3);
  eager_opt.load_state_dict(eager_sd);
  graph_opt.load_state_dict(graph_sd);
  both_step(4);
  expect_same_parameters(*eager, *graphed);
  for (const auto& [key, t] : graph_opt.state_dict()) {
    if (key == "state.0.step") {
      EXPECT_EQ(t.item<double>(), 3.0) << "2 before the save, then 1";
    }
  }
}

TEST(CudaGraph, ACapturedSgdMomentumStepMatchesEagerSteps) {
  auto eager = make_mlp(8), graphed = make_mlp(8);
  const auto options = optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01);
  optim::SGD eager_opt(eager->parameters(), options), graph_opt(graphed->parameters(), options);
  Tensor x = zeros({8, 12}, kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  warm_up(*eager, eager_opt, *graphed, graph_opt, x, y, 60);
  cuda::Graph graph;
  graph.capture([&] { step(*graphed, graph_opt, x, y); });
  for (uint64_t s = 0; s < 3; ++s) {
    const Batch b = make_batch(s + 10);
    step(*eager, eager_opt, b.x.to(kCuda), b.y.to(kCuda));
    x.copy_(b.x);
    y.copy_(b.y);
    graph.replay();
  }
  // A new rate set by hand reaches the replays through sync_lr().
  for (optim::ParamGroup& g : eager_opt.param_groups()) g.options().set_lr(0.01);
  for (optim::ParamGroup& g : graph_opt.param_groups()) g.options().set_lr(0.01);
  graph_opt.sync_lr();
  const Batch b = make_batch(20);
  step(*eager, eager_opt, b.x.to(kCuda), b.y.to(kCuda));
  x.copy_(b.x);
  y.copy_(b.y);
  graph.replay();
  expect_same_parameters(*eager, *graphed);
}

TEST(CudaGraph, AnOptimizerThatMustWriteItsDeviceCopiesCannotBeCaptured) {
  auto model = make_mlp(9);
  optim::Adam opt(model->parameters(), optim::AdamOptions(0.01));
  Tensor x = randn({8, 12}).to(kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  cuda::Graph graph;
  std::string msg = error_of<CudaError>([&] { graph.capture([&] { step(*model, opt, x, y); }); });
  EXPECT_NE(msg.find("run step() once eagerly"), std::string::npos) << msg;
  step(*model, opt, x, y);  // the eager first step makes the copies
  for (optim::ParamGroup& g : opt.param_groups()) g.options().set_lr(0.02);
  msg = error_of<CudaError>([&] { graph.capture([&] { step(*model, opt, x, y); }); });
  EXPECT_NE(msg.find("new learning rate"), std::string::npos) << msg;
  opt.sync_lr();
  graph.capture([&] { step(*model, opt, x, y); });
  EXPECT_TRUE(graph.captured());
}

TEST(CudaGraph, AnOptimizerStepIsOneLaunchPerGroup) {
  auto model = make_mlp(10);
  optim::Adam opt(model->parameters(), optim::AdamOptions(0.01));
  Tensor x = randn({8, 12}).to(kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  step(*model, opt, x, y);
  Tensor loss = cross_entropy((*model)(x), y);
  opt.zero_grad();
  loss.backward();
  cudasim::reset_counters();
  opt.step();
  EXPECT_EQ(cudasim::counters().kernel_launches, 1);
  EXPECT_EQ(cudasim::launches_of("adam_multi_step"), 1) << "four parameters, one launch";
}

// ember's own counters (what ember-bench --counters prints, on a GPU too) agree with what
// cudasim saw.
TEST(CudaGraph, EmberCountersAgreeWithCudasim) {
  auto model = make_mlp(11);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  const Batch b = make_batch(1);
  step(*model, opt, b.x.to(kCuda), b.y.to(kCuda));
  cudasim::reset_counters();
  const cuda::Counters before = cuda::counters();
  step(*model, opt, b.x.to(kCuda), b.y.to(kCuda));
  (void)model->parameters()[0].sum().item<float>();  // a sync and a copy back
  const cuda::Counters c = cuda::counters() - before;
  const cudasim::Counters sim = cudasim::counters();
  EXPECT_EQ(c.launches, sim.kernel_launches + sim.cublas_calls);
  EXPECT_EQ(c.syncs, sim.host_syncs);
  EXPECT_EQ(c.raw_allocs, sim.device_allocations);
  EXPECT_EQ(c.h2d_bytes, sim.bytes_h2d);
  EXPECT_EQ(c.d2h_bytes, sim.bytes_d2h);
  EXPECT_EQ(c.d2d_bytes, sim.bytes_d2d);
  EXPECT_GT(c.launches, 0);
  EXPECT_EQ(c.syncs, 1);
}

// The loss's forward writes its gradient, so the loss forward and backward are one launch,
// with no seed fill (Note [Unit gradient] in core/autograd/unit_gradient.h).
TEST(CudaGraph, ALossForwardAndBackwardIsOneLaunch) {
  Tensor logits = randn({8, 5}).to(kCuda).requires_grad_(true);
  const Tensor y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  cross_entropy(logits, y).backward();  // makes the seed constant
  logits.set_grad(Tensor());
  cudasim::reset_counters();
  cross_entropy(logits, y).backward();
  EXPECT_EQ(cudasim::counters().kernel_launches, 1);
  EXPECT_EQ(cudasim::launches_of("cross_entropy_forward"), 1);
}

TEST(CudaGraph, AReplayMakesOneGraphLaunchAndNoHostLaunchSyncOrAllocation) {
  auto model = make_mlp(4);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
  Tensor x = randn({8, 12}).to(kCuda), y = zeros({8}, TensorOptions(kInt64).device(kCuda));
  step(*model, opt, x, y);
  cuda::Graph graph;
  graph.capture([&] { step(*model, opt, x, y); });

  const AllocatorStats before = cuda::memory_stats();
  const int64_t syncs = cuda::host_syncs();
  cudasim::reset_counters();
  graph.replay();
  graph.replay();
  const cudasim::Counters c = cudasim::counters();
  EXPECT_EQ(c.graph_launches, 2);
  EXPECT_GT(c.graph_nodes_run, 10) << "the step's kernels and GEMMs ran";
  EXPECT_EQ(c.kernel_launches, 0);
  EXPECT_EQ(c.cublas_calls, 0);
  EXPECT_EQ(c.host_syncs, 0);
  EXPECT_EQ(c.device_allocations, 0);
  EXPECT_EQ(c.bytes_h2d + c.bytes_d2h + c.bytes_d2d, 0);
  EXPECT_EQ(cuda::host_syncs(), syncs);
  const AllocatorStats after = cuda::memory_stats();
  EXPECT_EQ(after.alloc_calls, before.alloc_calls) << "a replay allocates nothing";
  EXPECT_EQ(after.raw_alloc_calls, before.raw_alloc_calls);
}

TEST(CudaGraph, MemoryAllocatedDuringTheCaptureStaysTheGraphs) {
  Tensor x = full({1024}, 2.0, kCuda);
  Tensor y;
  const void* temporary = nullptr;
  cuda::Graph graph;
  graph.capture([&] {
    Tensor t = x * 3.0;  // freed inside the capture: its block must not be handed out again
    temporary = t.data_ptr();
    y = t + 1.0;
  });
  // Eager tensors of the same size made now must not land on the graph's blocks.
  std::vector<Tensor> eager;
  for (int i = 0; i < 4; ++i) {
    eager.push_back(full({1024}, -1.0, kCuda));
    EXPECT_NE(eager.back().data_ptr(), temporary);
    EXPECT_NE(eager.back().data_ptr(), y.data_ptr());
  }
  graph.replay();
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>(1024, 7.0f));
  for (const Tensor& e : eager) EXPECT_EQ(e.to_vector<float>(), std::vector<float>(1024, -1.0f));

  // An input freed during the capture is held for the graph too.
  Tensor z;
  cuda::Graph second;
  {
    Tensor input = full({1024}, 5.0, kCuda);
    second.capture([&, in = std::move(input)]() mutable {
      z = in * 2.0;
      in = Tensor();
    });
  }
  Tensor reuse = full({1024}, 9.0, kCuda);
  second.replay();
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(1024, 10.0f));
  EXPECT_EQ(reuse.to_vector<float>(), std::vector<float>(1024, 9.0f));
}

// A graph's memory goes back to the driver with it: its free pool segments at reset(), one
// still holding an output when that output is freed.
TEST(CudaGraph, AResetGraphGivesItsMemoryBack) {
  Tensor x = full({1 << 20}, 1.0, kCuda);  // 4 MiB, a large segment of its own
  cuda::empty_cache();
  const int64_t base = cuda::memory_reserved();
  Tensor y;
  cuda::Graph graph;
  graph.capture([&] {
    Tensor t = x * 2.0;
    y = t + 1.0;
  });
  graph.replay();
  EXPECT_GT(cuda::memory_reserved(), base);
  EXPECT_THROW(
      {
        cuda::Graph other;
        other.capture([] { cuda::empty_cache(); });
      },
      ValueError);
  graph.reset();
  EXPECT_GT(cuda::memory_reserved(), base) << "y still holds its block";
  EXPECT_EQ(y.to_vector<float>()[0], 3.0f);
  y = Tensor();
  EXPECT_EQ(cuda::memory_reserved(), base);
}

TEST(CudaGraph, ReplayAndCaptureAreValidated) {
  cuda::Graph graph;
  EXPECT_FALSE(graph.captured());
  EXPECT_THROW(graph.replay(), ValueError);
  EXPECT_THROW(graph.capture_end(), ValueError);
  Tensor x = ones({4}, kCuda);
  graph.capture([&] { x.mul_(2.0); });
  EXPECT_THROW(graph.capture([] {}), ValueError) << "already captured";
  graph.replay();
  graph.replay();
  EXPECT_EQ(x.to_vector<float>(), std::vector<float>(4, 4.0f));
  graph.reset();
  EXPECT_FALSE(graph.captured());
  graph.capture([&] { x.add_(1.0); });
  graph.replay();
  EXPECT_EQ(x.to_vector<float>(), std::vector<float>(4, 5.0f));
  EXPECT_THROW(cuda::Graph(5), DeviceError);
}

// Each of these would break or silently corrupt a graph; each must throw CudaError naming
// itself, record nothing, and leave the device working eagerly.
TEST(CudaGraph, WhatAGraphCannotRecordThrowsAndLeavesTheDeviceUsable) {
  Tensor x = ones({4}, kCuda);
  struct Case {
    const char* what;
    std::function<void()> call;
  };
  const std::vector<Case> cases = {
      {"item()", [&] { (void)x.sum().item<float>(); }},
      {"a copy to the host", [&] { (void)x.to(kCPU); }},
      {"a copy from host memory", [&] { (void)ones({4}).to(kCuda); }},
      {"waiting for the device", [] { cuda::synchronize(); }},
      {"random numbers (dropout)", [&] { (void)dropout(x, 0.5, true); }},
      {"random numbers (normal)", [] { (void)randn({4}, kCuda); }},
  };
  for (const Case& c : cases) {
    cuda::Graph graph;
    const std::string msg = error_of<CudaError>([&] {
      graph.capture([&] {
        x.mul_(3.0);
        c.call();
      });
    });
    EXPECT_NE(msg.find(c.what), std::string::npos) << c.what << ": " << msg;
    EXPECT_NE(msg.find("CUDA graph"), std::string::npos) << msg;
    EXPECT_FALSE(graph.captured());
    EXPECT_FALSE(cuda::is_current_stream_capturing());
    EXPECT_EQ(x.to_vector<float>(), std::vector<float>(4, 1.0f)) << c.what << ": nothing ran";
  }
  x.add_(1.0);
  EXPECT_EQ(x.to_vector<float>(), std::vector<float>(4, 2.0f));
}

TEST(CudaGraph, ABadTargetInAReplayedStepIsThrownAtTheNextWait) {
  Tensor logits = randn({4, 3}).to(kCuda);
  Tensor targets = zeros({4}, TensorOptions(kInt64).device(kCuda));
  Tensor loss;
  cuda::Graph graph;
  graph.capture([&] { loss = cross_entropy(logits, targets); });
  graph.replay();
  EXPECT_TRUE(std::isfinite(loss.item<float>()));
  targets.copy_(from_vector<int64_t>({0, 7, 1, 2}));
  graph.replay();
  const std::string msg = error_of<IndexError>([&] { (void)loss.item<float>(); });
  EXPECT_NE(msg.find("cross_entropy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("7"), std::string::npos) << msg;
  targets.copy_(from_vector<int64_t>({0, 1, 1, 2}));
  graph.replay();
  EXPECT_TRUE(std::isfinite(loss.item<float>())) << "the record was reset";
}

TEST(CudaGraph, IsCurrentStreamCapturingSaysSoOnlyDuringTheCapture) {
  EXPECT_FALSE(cuda::is_current_stream_capturing());
  bool inside = false;
  cuda::Graph graph;
  graph.capture([&] { inside = cuda::is_current_stream_capturing(); });
  EXPECT_TRUE(inside);
  EXPECT_FALSE(cuda::is_current_stream_capturing());
}

}  // namespace
}  // namespace ember
