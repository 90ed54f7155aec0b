// ember-bench: each op family and a full training step, timed on every available device,
// printed as one table with a speedup column, and written as CSV plus a PNG chart
// (gnuplot, when installed).
//   ./ember-bench [--out DIR] [--quick] [--cudasim] [--ops | --load | --counters]
// --load times the CPU training recipe on a quiet machine and with one core taken by a
// spinning child process, with the default thread count and with one thread (below).
// --ops times the op harness's cases instead (tests/op_harness.h: every public op and form, on
// small inputs, so a row is mostly the op's fixed cost per call: dispatch, allocation, launch).
// CPU rows are timed with std::chrono::steady_clock, GPU rows with CUDA events recorded on
// the device's stream (cuda::Event): the GPU's own clock, so a row is the time the work took
// on the device's queue, not that plus the host's wait for it. Without a GPU the table has CPU rows
// only and says why the GPU column is empty. cudasim (a -DEMBER_CUDA=SIM build) runs the
// CUDA code on the CPU: its timings say nothing about a GPU, so they are not reported --
// unless --cudasim asks for them, in a column named for the simulator and without a speedup
// (that runs the event-timing path without a GPU).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember/kernels/cpu/gemm.h>
#include <ember/kernels/cpu/parallel.h>

#include "counters_bench.h"
#include "op_harness.h"

#if defined(EMBER_BENCH_TORCH)
#include <torch/torch.h>
#endif

using namespace ember;

namespace {

struct Case {
  std::string family, size;
  double flops = 0;                                   // per call, 0 when not meaningful
  std::function<std::function<void()>(Device)> make;  // builds inputs, returns the timed call
};

// How the timed batches are sized and how many there are.
struct Budget {
  double batch_ms;  // each batch repeats the call until it lasts about this long
  int min_batches;
  double min_ms;  // ... and batches are timed until together they last this long
};

// Milliseconds for `reps` calls of fn. On the CPU: the steady clock around the calls. On a
// CUDA device: events recorded on its stream before the first call's work and after the
// last's, then one wait for the second event -- the device's time for the batch, launch gaps
// included (what a training loop sees), the host's wait excluded.
double batch_ms(const std::function<void()>& fn, int reps, Device device, cuda::Event* start,
                cuda::Event* stop) {
  if (device.is_cuda()) {
    start->record();
    for (int i = 0; i < reps; ++i) fn();
    stop->record();
    stop->synchronize();
    return start->elapsed_ms(*stop);
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) fn();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Milliseconds per call: the median over the timed batches of batch time / calls per batch,
// after a warm-up call (caches, allocator, lazy handles) and a one-call batch that sizes the
// batches.
double time_ms(const std::function<void()>& fn, Device device, const Budget& budget) {
  std::optional<cuda::Event> start, stop;
  if (device.is_cuda()) {
    start.emplace(device.index);
    stop.emplace(device.index);
  }
  cuda::Event* s = start ? &*start : nullptr;
  cuda::Event* e = stop ? &*stop : nullptr;
  batch_ms(fn, 1, device, s, e);  // warm-up; also waits for it on a GPU
  const double one = std::max(batch_ms(fn, 1, device, s, e), 1e-3);
  const int reps = static_cast<int>(std::clamp(budget.batch_ms / one, 1.0, 1000.0));
  std::vector<double> per_call;
  double total = 0;
  while (static_cast<int>(per_call.size()) < budget.min_batches || total < budget.min_ms) {
    const double ms = batch_ms(fn, reps, device, s, e);
    per_call.push_back(ms / reps);
    total += ms;
    if (per_call.size() >= 100) break;
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

std::vector<Case> cases(bool quick) {
  std::vector<Case> out;
  auto opts = [](Device d) { return TensorOptions().device(d); };
  out.push_back({"elementwise", "add 4M", 4e6, [=](Device d) {
                   Tensor a = rand({4 << 20}, opts(d)), b = rand({4 << 20}, opts(d));
                   return std::function<void()>([=] { (void)(a + b); });
                 }});
  out.push_back({"activation", "gelu fwd+bwd 4M", 0, [=](Device d) {
                   Tensor x = randn({4 << 20}, opts(d)).requires_grad_(true);
                   return std::function<void()>([=] { gelu(x).sum().backward(); });
                 }});
  for (int64_t n :
       quick ? std::vector<int64_t>{256, 1024} : std::vector<int64_t>{256, 1024, 4096}) {
    out.push_back({"matmul", std::to_string(n) + "^3", 2.0 * n * n * n, [=](Device d) {
                     Tensor a = randn({n, n}, opts(d)), b = randn({n, n}, opts(d));
                     return std::function<void()>([=] { (void)matmul(a, b); });
                   }});
  }
  out.push_back({"bmm", "32x256x256", 2.0 * 32 * 256 * 256 * 256, [=](Device d) {
                   Tensor a = randn({32, 256, 256}, opts(d)), b = randn({32, 256, 256}, opts(d));
                   return std::function<void()>([=] { (void)bmm(a, b); });
                 }});
  out.push_back({"softmax-CE", "fwd+bwd 4096x1000", 0, [=](Device d) {
                   Tensor logits = randn({4096, 1000}, opts(d)).requires_grad_(true);
                   Tensor target = randint(0, 1000, {4096}, TensorOptions(kInt64).device(d));
                   return std::function<void()>([=] { cross_entropy(logits, target).backward(); });
                 }});
  out.push_back({"train step", "MLP 784-256-128-10, batch 256", 0, [=](Device d) {
                   nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128),
                                        nn::ReLU(), nn::Linear(128, 10));
                   model->to(d);
                   auto opt =
                       std::make_shared<optim::Adam>(model->parameters(), optim::AdamOptions(1e-3));
                   Tensor x = randn({256, 784}), y = randint(0, 10, {256});
                   // The batch comes from the host every step, as in training.
                   return std::function<void()>([=] {
                     Tensor loss = cross_entropy(model->forward(x.to(d)), y.to(d));
                     opt->zero_grad();
                     loss.backward();
                     opt->step();
                   });
                 }});
  return out;
}

std::string fmt(double v, const char* f) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The device the GPU column times, or why there is none.
struct GpuColumn {
  std::optional<Device> device;
  bool simulated = false;  // --cudasim: the simulator's time, never called a GPU's
  std::string name;        // "cuda:0 (NVIDIA H100 80GB HBM3)"
  std::string why_none;
};

GpuColumn gpu_column(bool with_sim) {
  GpuColumn g;
  try {
    if (!cuda::is_available()) {
      g.why_none = EMBER_BENCH_HAS_CUDA_BACKEND
                       ? "ember was built with CUDA, but no CUDA device or driver was found"
                       : "this build of ember has no CUDA backend (-DEMBER_CUDA=OFF, or AUTO "
                         "without nvcc)";
      return g;
    }
    if (cuda::is_simulated() && !with_sim) {
      g.why_none =
          "this is a cudasim build (-DEMBER_CUDA=SIM): its CUDA device is a simulator on the "
          "CPU, and simulated timings are not GPU timings (--cudasim lists them, apart)";
      return g;
    }
    g.device = Device::cuda();
    g.simulated = cuda::is_simulated();
    g.name = g.device->str() + " (" + cuda::device_name(0) + ")";
  } catch (const Error& e) {
    g.device.reset();
    g.why_none = std::string("the CUDA runtime failed: ") + e.what();
  }
  return g;
}

// The op harness's perf mode: one row per case of its table.
std::vector<Case> harness_cases() {
  std::vector<Case> out;
  const auto& table = testing::tutorial::cases();
  for (size_t i = 0; i < table.size(); ++i) {
    const testing::tutorial::OpCase& c = table[i];
    out.push_back({"op", testing::harness::case_name(i, c), 0,
                   [&c](Device d) { return testing::harness::timed_call(c, d); }});
  }
  return out;
}

// ---- --load: the CPU training recipe on a loaded machine --------------------------------
// 784-256-10 MLP, ReLU, SGD 0.1, batch 256, loss.item() per step, 60000 synthetic images;
// batches by index_select of a shuffled permutation (the loop ember compares with libtorch
// on), and for ember also by a shuffled DataLoader.

// A child process spinning on a core until it is killed: the "other process" of a shared
// machine.
class Spinner {
 public:
  Spinner() {
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) asm volatile("" ::: "memory");  // spin; killed by the destructor
    }
  }
  ~Spinner() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

 private:
  pid_t pid_ = -1;
};

constexpr int64_t kLoadImages = 60000, kLoadBatch = 256;

// Median step (batch assembly excluded) and epoch times of one configuration; for ember also
// the epoch by a DataLoader, assembling each batch when read (workers 0) and one batch ahead
// on a background thread (workers 1).
struct LoadFigures {
  double step_ms = 0, epoch_s = 0, loader_epoch_s = 0, loader_ahead_epoch_s = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Times `steps` training steps for the median step, then one epoch: step(batch(i)) for every
// batch i. Assembling a batch is outside the step's time and inside the epoch's.
template <class Batch, class Step, class NextBatch>
LoadFigures time_loop(int steps, Step&& step, NextBatch&& batch) {
  LoadFigures f;
  std::vector<double> ms;
  const int64_t batches = (kLoadImages + kLoadBatch - 1) / kLoadBatch;
  for (int i = 0; i < steps; ++i) {
    const Batch b = batch(i % batches);
    const auto t0 = std::chrono::steady_clock::now();
    step(b);
    ms.push_back(1000 * seconds_since(t0));
  }
  std::sort(ms.begin(), ms.end());
  f.step_ms = ms[ms.size() / 2];
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < batches; ++i) step(batch(i));
  f.epoch_s = seconds_since(t0);
  return f;
}

LoadFigures time_ember_recipe(int threads, int steps) {
  set_num_threads(threads);
  manual_seed(0);
  nn::Sequential model;
  model->push_back(nn::Linear(784, 256));
  model->push_back(nn::ReLU());
  model->push_back(nn::Linear(256, 10));
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1));
  static const data::TensorDataset images(randn({kLoadImages, 784}), randint(0, 10, {kLoadImages}));
  const Tensor order = from_vector(data::randperm(kLoadImages, 1));
  struct XY {
    Tensor x, y;
  };
  const auto step = [&](const XY& b) {
    Tensor loss = cross_entropy(model->forward(b.x), b.y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    return loss.item<double>();
  };
  const auto batch = [&](int64_t i) {
    const Tensor rows =
        order.narrow(0, i * kLoadBatch, std::min(kLoadBatch, kLoadImages - i * kLoadBatch));
    return XY{index_select(images.data(), 0, rows), index_select(images.targets(), 0, rows)};
  };
  LoadFigures f = time_loop<XY>(steps, step, batch);
  for (const int workers : {0, 1}) {
    data::DataLoader loader(
        images, data::DataLoaderOptions(kLoadBatch).shuffle(true).seed(1).workers(workers));
    const auto t0 = std::chrono::steady_clock::now();
    for (const data::Batch& b : loader) step(XY{b.data, b.target});
    (workers == 0 ? f.loader_epoch_s : f.loader_ahead_epoch_s) = seconds_since(t0);
  }
  return f;
}

#if defined(EMBER_BENCH_TORCH)
// libtorch's best configuration on a small machine: one intra-op thread, the GEMM threaded by
// OpenBLAS (Debian's libtorch); set_num_threads(cores) is 2-5x slower.
LoadFigures time_torch_recipe(int steps) {
  torch::set_num_threads(1);
  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Linear(784, 256), torch::nn::ReLU(),
                              torch::nn::Linear(256, 10));
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
  static const torch::Tensor images = torch::randn({kLoadImages, 784});
  static const torch::Tensor labels = torch::randint(0, 10, {kLoadImages}, torch::kLong);
  const torch::Tensor order = torch::randperm(kLoadImages, torch::kLong);
  struct XY {
    torch::Tensor x, y;
  };
  const auto step = [&](const XY& b) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(b.x), b.y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    return loss.item<double>();
  };
  const auto batch = [&](int64_t i) {
    const torch::Tensor rows =
        order.narrow(0, i * kLoadBatch, std::min(kLoadBatch, kLoadImages - i * kLoadBatch));
    return XY{torch::index_select(images, 0, rows), torch::index_select(labels, 0, rows)};
  };
  return time_loop<XY>(steps, step, batch);
}
#endif

int run_load_benchmark(bool quick) {
  const int default_threads = get_num_threads();
  const int rounds = quick ? 1 : 3, steps = quick ? 50 : 200;
  std::printf(
      "ember-bench --load: 784-256-10 MLP, SGD 0.1, batch 256, 60000 synthetic images, a\n"
      "  shuffled permutation, loss.item() per step; step: median of %d steps (batch\n"
      "  assembly excluded); epoch: one pass, batches by index_select; loader: by a shuffled\n"
      "  DataLoader with 0 workers, and with 1 (the next batch assembled during the step);\n"
      "  outside: the epoch's share outside the steps (1 - batches x step / epoch); busy: a\n"
      "  child process spinning on one core. %d rounds, the configurations alternating;\n"
      "  medians.\n\n",
      steps, rounds);
  struct Config {
    const char* machine;
    const char* who;
    int threads;  // 0: libtorch
    std::vector<LoadFigures> runs;
  };
  std::vector<Config> configs;
  for (const char* machine : {"quiet", "busy"}) {
    configs.push_back({machine, "ember", default_threads, {}});
    configs.push_back({machine, "ember", 1, {}});
#if defined(EMBER_BENCH_TORCH)
    configs.push_back({machine, "libtorch", 0, {}});
#endif
  }
  for (int r = 0; r < rounds; ++r) {
    for (Config& c : configs) {
      std::optional<Spinner> spinner;
      if (std::string(c.machine) == "busy") spinner.emplace();
#if defined(EMBER_BENCH_TORCH)
      if (c.threads == 0) {
        c.runs.push_back(time_torch_recipe(steps));
        continue;
      }
#endif
      c.runs.push_back(time_ember_recipe(c.threads, steps));
    }
  }
  set_num_threads(default_threads);
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("%-7s %-9s %-28s %8s %8s %8s %9s %9s %8s\n", "machine", "", "threads", "step ms",
              "epoch s", "outside", "loader 0", "loader 1", "outside");
  const double steps_per_epoch = double(kLoadImages) / kLoadBatch;
  std::vector<LoadFigures> m;
  for (const Config& c : configs) {
    std::vector<double> st, ep, le, la;
    for (const LoadFigures& f : c.runs) {
      st.push_back(f.step_ms);
      ep.push_back(f.epoch_s);
      le.push_back(f.loader_epoch_s);
      la.push_back(f.loader_ahead_epoch_s);
    }
    m.push_back({median(st), median(ep), median(le), median(la)});
    const LoadFigures& f = m.back();
    const std::string threads =
        c.threads == 0 ? "1 intra-op + OpenBLAS's own" : std::to_string(c.threads);
    const auto outside = [&](double epoch_s) {
      return 100 * (1 - steps_per_epoch * f.step_ms / 1000 / epoch_s);
    };
    std::printf("%-7s %-9s %-28s %8.3f %8.3f %7.0f%%", c.machine, c.who, threads.c_str(), f.step_ms,
                f.epoch_s, outside(f.epoch_s));
    if (c.threads == 0)
      std::printf(" %9s %9s %8s\n", "-", "-", "-");
    else
      std::printf(" %9.3f %9.3f %7.0f%%\n", f.loader_epoch_s, f.loader_ahead_epoch_s,
                  outside(f.loader_ahead_epoch_s));
  }
  const size_t per_machine = configs.size() / 2;
  const LoadFigures &quiet = m[0], &quiet1 = m[1], &busy = m[per_machine],
                    &busy1 = m[per_machine + 1];
  std::printf(
      "\nember, default threads / 1 thread: quiet step %.2f, epoch %.2f; busy step %.2f, "
      "epoch %.2f (target when busy: <= 1.25)\n",
      quiet.step_ms / quiet1.step_ms, quiet.epoch_s / quiet1.epoch_s, busy.step_ms / busy1.step_ms,
      busy.epoch_s / busy1.epoch_s);
  std::printf("ember, busy / quiet, default threads: step %.2f, epoch %.2f\n",
              busy.step_ms / quiet.step_ms, busy.epoch_s / quiet.epoch_s);
  std::printf(
      "ember, the DataLoader's epoch outside the steps, quiet: %.0f%% with 0 workers, %.0f%% "
      "with 1 (target <= 10%%)\n",
      100 * (1 - steps_per_epoch * quiet.step_ms / 1000 / quiet.loader_epoch_s),
      100 * (1 - steps_per_epoch * quiet.step_ms / 1000 / quiet.loader_ahead_epoch_s));
#if defined(EMBER_BENCH_TORCH)
  const LoadFigures &torch_quiet = m[2], &torch_busy = m[per_machine + 2];
  std::printf(
      "ember (default threads) / libtorch: quiet step %.2f, epoch %.2f (target <= 0.67); "
      "busy step %.2f, epoch %.2f (target <= 1)\n",
      quiet.step_ms / torch_quiet.step_ms, quiet.epoch_s / torch_quiet.epoch_s,
      busy.step_ms / torch_busy.step_ms, busy.epoch_s / torch_busy.epoch_s);
#else
  std::printf("(no libtorch rows: configure with -DEMBER_BENCH_TORCH=ON and libtorch-dev)\n");
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = ".";
  bool quick = false, with_sim = false, ops = false, load = false, counters = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--out" && i + 1 < argc)
      out_dir = argv[++i];
    else if (a == "--quick")
      quick = true;
    else if (a == "--cudasim")
      with_sim = true;
    else if (a == "--ops")
      ops = true;
    else if (a == "--load")
      load = true;
    else if (a == "--counters")
      counters = true;
    else {
      std::cout << "usage: ember-bench [--out DIR] [--quick] [--cudasim] [--ops | --load | "
                   "--counters]\n"
                   "  times op families and a training step on the CPU and (when present) the\n"
                   "  GPU; writes ember-bench.csv and ember-bench.png to DIR (default .)\n"
                   "  --quick    fewer sizes and shorter timing\n"
                   "  --cudasim  in a cudasim build, also time the simulated device (its own\n"
                   "             column, no speedup: simulated time is not GPU time)\n"
                   "  --ops      time the op harness's cases (every public op and form, small\n"
                   "             inputs: the fixed cost per call) instead of the op families\n"
                   "  --load     the CPU training recipe (step and epoch) quiet and with one core\n"
                   "             taken by a spinning process, default threads vs 1 thread\n"
                   "  --counters the GPU work of one training step (launches, syncs, copies),\n"
                   "             eager and as a CUDA graph replay, Adam and SGD (cudasim or GPU)\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (load) return run_load_benchmark(quick);
  if (counters) return ember_bench::run_counters_benchmark();
  // The output folder is made when missing, and checked before minutes of timing.
  std::error_code mkdir_error;
  std::filesystem::create_directories(out_dir, mkdir_error);
  std::ofstream csv(out_dir + "/ember-bench.csv");
  std::ofstream dat(out_dir + "/ember-bench.dat");
  if (!csv || !dat) {
    std::fprintf(stderr, "ember-bench: cannot write to --out %s%s%s\n", out_dir.c_str(),
                 mkdir_error ? ": " : "", mkdir_error ? mkdir_error.message().c_str() : "");
    return 1;
  }
  const GpuColumn gpu = gpu_column(with_sim);
  const bool speedup = gpu.device && !gpu.simulated;
  // --ops rows are microseconds (the fixed cost of one small call); the CSV stays in ms.
  const double unit = ops ? 1000.0 : 1.0;
  const char* cpu_label = ops ? "CPU us" : "CPU ms";
  const char* gpu_label =
      gpu.simulated ? (ops ? "cudasim us" : "cudasim ms") : (ops ? "GPU us" : "GPU ms");
  const int size_width = ops ? 56 : 30;
  const Budget budget = quick ? Budget{5, 3, 30} : Budget{20, 7, 300};

  std::printf("ember-bench  CPU: %d threads, GEMM via %s\n", get_num_threads(),
              kernels::cpu::gemm_backend_name());
  if (gpu.device)
    std::printf("             %s: %s\n", gpu.simulated ? "cudasim" : "GPU", gpu.name.c_str());
  else
    std::printf("             GPU: none (why: below the table)\n");
  std::printf("time per call: median over >= %d batches of repeated calls, after a warm-up\n",
              budget.min_batches);
  std::printf("  %-10s std::chrono::steady_clock around each batch\n", cpu_label);
  if (gpu.device)
    std::printf("  %-10s CUDA events recorded on %s's stream around each batch%s\n", gpu_label,
                gpu.device->str().c_str(),
                gpu.simulated ? "\n             (the simulator's host time: not GPU timings, "
                                "so no speedup)"
                              : "");
  std::printf("\n%-12s %-*s %12s %12s %9s %12s\n", "family", size_width, ops ? "case" : "size",
              cpu_label, gpu_label, "speedup", "CPU GFLOP/s");
  csv << "family,size,cpu_ms,cpu_clock," << (gpu.simulated ? "cudasim_ms" : "gpu_ms")
      << ",gpu_clock,speedup\n";
  int row = 0;
  for (const Case& c : ops ? harness_cases() : cases(quick)) {
    manual_seed(0);
    const double cpu_ms = time_ms(c.make(kCPU), kCPU, budget);
    double gpu_ms = 0;
    if (gpu.device) gpu_ms = time_ms(c.make(*gpu.device), *gpu.device, budget);
    const std::string gflops = c.flops > 0 ? fmt(c.flops / cpu_ms / 1e6, "%.1f") : "-";
    std::printf("%-12s %-*s %12.3f %12s %9s %12s\n", c.family.c_str(), size_width, c.size.c_str(),
                cpu_ms * unit, gpu.device ? fmt(gpu_ms * unit, "%.3f").c_str() : "-",
                speedup ? fmt(cpu_ms / gpu_ms, "%.1fx").c_str() : "-", gflops.c_str());
    csv << c.family << ",\"" << c.size << "\"," << cpu_ms << ",steady_clock,"
        << (gpu.device ? fmt(gpu_ms, "%g") + ",cuda_event" : ",") << ','
        << (speedup ? fmt(cpu_ms / gpu_ms, "%g") : "") << '\n';
    dat << row++ << " \"" << c.family << "\\n"
        << c.size << "\" " << cpu_ms << ' ' << gpu_ms << '\n';
  }
  if (!gpu.device) std::printf("\nno GPU rows: %s\n", gpu.why_none.c_str());
  csv.close();
  dat.close();
  // The chart: grouped bars, log scale (times span four orders of magnitude).
  const std::string png = out_dir + "/ember-bench.png";
  if (ops) {
    std::printf("\nwrote %s/ember-bench.csv (no chart for --ops: too many rows)\n",
                out_dir.c_str());
  } else if (FILE* gp = popen("gnuplot 2>/dev/null", "w")) {
    std::fprintf(gp,
                 "set terminal pngcairo size 1200,600 noenhanced\n"
                 "set output '%s'\nset title 'ember-bench: time per call (lower is better)'\n"
                 "set logscale y\nset ylabel 'milliseconds'\nset style data histograms\n"
                 "set style fill solid 0.8\nset boxwidth 0.9\nset xtics rotate by -30\n"
                 "set key top left\n"
                 "plot '%s/ember-bench.dat' using 3:xtic(2) title 'CPU (steady clock)'%s\n",
                 png.c_str(), out_dir.c_str(),
                 !gpu.device     ? ""
                 : gpu.simulated ? ", '' using 4 title 'cudasim (not a GPU)'"
                                 : ", '' using 4 title 'GPU (CUDA events)'");
    const int rc = pclose(gp);
    std::printf("\nwrote %s/ember-bench.csv%s\n", out_dir.c_str(),
                rc == 0 ? (" and " + png).c_str() : " (gnuplot failed: no chart)");
  } else {
    std::printf("\nwrote %s/ember-bench.csv (install gnuplot for the chart)\n", out_dir.c_str());
  }
  return 0;
}
