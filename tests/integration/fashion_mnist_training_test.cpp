// End to end on the CUDA backend (cudasim in CI, the GPU where one is present): an MLP trained on a
// Fashion-MNIST subset on cuda reaches the CPU's test accuracy within one point. Both runs start
// from the same weights (the CPU model's, copied to the device) and see the batches in the same
// order (one loader seed), so they differ only in float32 rounding (the device's GEMM and
// reductions vs the CPU's) -- a backend bug that single-op tests miss (a wrong gradient in a rare
// path, an optimizer state that drifts, a stale buffer) shows up as a gap in accuracy.
//
// The sizes keep the test quick under cudasim, which runs every kernel thread by thread on
// the host (about 20x slower than the CPU backend here), while the accuracy is far above
// chance (10 %). Skipped when the data set is not installed (apt-get install
// dataset-fashion-mnist, or EMBER_FASHION_MNIST_DIR).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <vector>

#include <ember/ember.h>

namespace ember {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kTrainImages = 8000;  // the first images of the 60000
constexpr int64_t kTestImages = 2000;   // the first images of the 10000
constexpr int64_t kBatch = 100;
constexpr int kEpochs = 3;
constexpr uint64_t kSeed = 0;
constexpr double kMean = 0.2860, kStd = 0.3530;  // Fashion-MNIST's pixel mean and std

fs::path fashion_mnist_dir() {
  const char* env = std::getenv("EMBER_FASHION_MNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

std::vector<int64_t> first(int64_t n) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  return idx;
}

nn::Sequential make_mlp(uint64_t seed) {
  Generator gen(seed);
  nn::Sequential model;
  model->push_back(nn::Flatten());
  model->push_back(nn::Linear(28 * 28, 128, true, &gen));
  model->push_back(nn::ReLU());
  model->push_back(nn::Linear(128, 10, true, &gen));
  return model;
}

// The held-out images, one batch.
struct TestSet {
  Tensor images;  // (N, 1, 28, 28)
  Tensor labels;  // (N)
};

// Percent of the test images classified correctly.
double accuracy(nn::Module& model, const TestSet& test, Device device) {
  NoGradGuard no_grad;
  model.eval();
  const Tensor predicted = argmax(model.forward(test.images.to(device)), 1);
  const Tensor correct = eq(predicted, test.labels.to(device)).sum();
  return 100.0 * static_cast<double>(correct.item<int64_t>()) /
         static_cast<double>(test.labels.size(0));
}

struct Result {
  double accuracy;  // percent, on the test subset
  double seconds;   // training and evaluation
};

// As examples/train_mlp.cpp trains: Adam, shuffled batches copied to the device each step.
Result train(nn::Module& model, const data::Subset& train_set, const TestSet& test, Device device) {
  const auto t0 = std::chrono::steady_clock::now();
  optim::Adam opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader loader(train_set, data::DataLoaderOptions(kBatch).shuffle(true).seed(kSeed));
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    model.train();
    for (const data::Batch& b : loader) {
      Tensor loss = cross_entropy(model.forward(b.data.to(device)), b.target.to(device));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  }
  const double acc = accuracy(model, test, device);
  return {acc, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

// The same steps as train(), but on CUDA each step after the first replays one captured graph
// (core/cuda_graph.h), with every batch copied into the graph's input tensors first, as
// examples/train_mlp.cpp does by default.
Result train_graphed(nn::Module& model, const data::Subset& train_set, const TestSet& test) {
  const auto t0 = std::chrono::steady_clock::now();
  const Device device = Device::cuda();
  optim::Adam opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader loader(train_set, data::DataLoaderOptions(kBatch).shuffle(true).seed(kSeed));
  Tensor x, y;
  auto run = [&] {
    Tensor loss = cross_entropy(model.forward(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  cuda::Graph graph;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    model.train();
    for (const data::Batch& b : loader) {
      if (!x.defined()) {
        x = b.data.to(device);
        y = b.target.to(device);
        run();  // eager warm-up
        continue;
      }
      x.copy_(b.data);
      y.copy_(b.target);
      if (!graph.captured()) graph.capture(run);
      graph.replay();
    }
  }
  const double acc = accuracy(model, test, device);
  return {acc, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

TEST(CudaFashionMnist, TrainingMatchesCpuAccuracy) {
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device (nor cudasim) in this build";
  const fs::path dir = fashion_mnist_dir();
  if (!fs::exists(dir / "train-images-idx3-ubyte.gz") &&
      !fs::exists(dir / "train-images-idx3-ubyte"))
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << dir
                 << " (apt-get install dataset-fashion-mnist)";
  const data::Subset train_set(data::FashionMNIST(dir.string(), true, kMean, kStd),
                               first(kTrainImages));
  const data::FashionMNIST test_data(dir.string(), false, kMean, kStd);
  const TestSet test{test_data.images().narrow(0, 0, kTestImages),
                     test_data.labels().narrow(0, 0, kTestImages)};

  auto cpu_model = make_mlp(kSeed);
  auto cuda_model = make_mlp(kSeed + 1);  // other weights, overwritten by the CPU model's
  cuda_model->to(Device::cuda());
  cuda_model->load_state_dict(cpu_model->state_dict());
  auto graph_model = make_mlp(kSeed + 1);
  graph_model->to(Device::cuda());
  graph_model->load_state_dict(cpu_model->state_dict());
  {
    const auto want = cpu_model->named_parameters(), got = cuda_model->named_parameters();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].second.device(), Device::cuda()) << got[i].first;
      ASSERT_EQ(got[i].second.to_vector<float>(), want[i].second.to_vector<float>())
          << got[i].first;
    }
  }

  const Result cpu = train(*cpu_model, train_set, test, kCPU);
  const Result gpu = train(*cuda_model, train_set, test, Device::cuda());
  const Result graphed = train_graphed(*graph_model, train_set, test);
  std::printf(
      "Fashion-MNIST, %lld train / %lld test images, MLP 784-128-10, Adam, %d epochs:\n"
      "  cpu:    test accuracy %.2f %%  (%.1f s)\n"
      "  cuda%s: test accuracy %.2f %%  (%.1f s)\n"
      "  cuda, one CUDA graph replay per step: test accuracy %.2f %%  (%.1f s)\n",
      static_cast<long long>(kTrainImages), static_cast<long long>(kTestImages), kEpochs,
      cpu.accuracy, cpu.seconds, cuda::is_simulated() ? " (cudasim)" : "", gpu.accuracy,
      gpu.seconds, graphed.accuracy, graphed.seconds);
  EXPECT_GT(cpu.accuracy, 70.0);  // learned something: chance is 10 %
  EXPECT_LE(std::fabs(gpu.accuracy - cpu.accuracy), 1.0)
      << "cuda " << gpu.accuracy << " % vs cpu " << cpu.accuracy << " %";
  EXPECT_EQ(graphed.accuracy, gpu.accuracy) << "a replayed step computes what the eager one does";
  const auto eager_params = cuda_model->parameters(), graph_params = graph_model->parameters();
  for (size_t i = 0; i < eager_params.size(); ++i) {
    EXPECT_EQ(graph_params[i].to_vector<float>(), eager_params[i].to_vector<float>())
        << "parameter " << i;
  }
}

}  // namespace
}  // namespace ember
