// ember-bench: each op family and a full training step, timed on every available device,
// printed as one table with a speedup column, and written as CSV plus a PNG chart
// (gnuplot, when installed).
//   ./ember-bench [--out DIR] [--quick]
// Without a GPU the table has CPU rows only and says why the GPU column is empty. cudasim
// (a -DEMBER_CUDA=SIM build) runs the CUDA code on the CPU: its timings say nothing about
// a GPU, so they are not reported.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember/kernels/cpu/gemm.h>
#include <ember/kernels/cpu/parallel.h>

using namespace ember;

namespace {

struct Case {
  std::string family, size;
  double flops = 0;                                   // per call, 0 when not meaningful
  std::function<std::function<void()>(Device)> make;  // builds inputs, returns the timed call
};

// Median milliseconds per call. GPU work is queued asynchronously, so each timed batch ends
// with a device synchronisation.
double time_ms(const std::function<void()>& fn, Device device, int min_iters, double min_ms) {
  auto sync = [&] {
    if (device.is_cuda()) cuda::synchronize();
  };
  fn();  // warm-up: caches, allocator, lazy handles
  sync();
  std::vector<double> samples;
  double total = 0;
  while (static_cast<int>(samples.size()) < min_iters || total < min_ms) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    sync();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    samples.push_back(ms);
    total += ms;
    if (samples.size() >= 200) break;
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
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
                   auto model = std::make_shared<nn::Sequential>(nn::Linear(784, 256), nn::ReLU(),
                                                                 nn::Linear(256, 128), nn::ReLU(),
                                                                 nn::Linear(128, 10));
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

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = ".";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--out" && i + 1 < argc)
      out_dir = argv[++i];
    else if (a == "--quick")
      quick = true;
    else {
      std::cout << "usage: ember-bench [--out DIR] [--quick]\n"
                   "  times op families and a training step on the CPU and (when present) the\n"
                   "  GPU; writes ember-bench.csv and ember-bench.png to DIR (default .)\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  std::optional<Device> gpu;
  std::string gpu_note;
  if (!cuda::is_available()) {
    gpu_note = "no GPU rows: this build of ember has no CUDA backend or no CUDA device is present";
  } else if (EMBER_BENCH_CUDASIM) {
    gpu_note =
        "no GPU rows: this is a cudasim build (-DEMBER_CUDA=SIM); simulated timings are "
        "not GPU timings";
  } else {
    gpu = Device::cuda();
  }
  std::printf("ember-bench  (CPU: %d OpenMP threads, GEMM via %s; %s)\n\n",
              kernels::cpu::get_num_threads(), kernels::cpu::gemm_backend_name(),
              gpu ? "GPU: cuda:0" : "CPU only");
  std::printf("%-12s %-30s %12s %12s %9s %12s\n", "family", "size", "CPU ms", "GPU ms", "speedup",
              "CPU GFLOP/s");
  std::ofstream csv(out_dir + "/ember-bench.csv");
  csv << "family,size,cpu_ms,gpu_ms,speedup\n";
  const int iters = quick ? 3 : 10;
  const double min_ms = quick ? 50 : 300;
  int row = 0;
  std::ofstream dat(out_dir + "/ember-bench.dat");
  for (const Case& c : cases(quick)) {
    manual_seed(0);
    const double cpu_ms = time_ms(c.make(kCPU), kCPU, iters, min_ms);
    double gpu_ms = 0;
    if (gpu) gpu_ms = time_ms(c.make(*gpu), *gpu, iters, min_ms);
    const std::string gflops = c.flops > 0 ? fmt(c.flops / cpu_ms / 1e6, "%.1f") : "-";
    std::printf("%-12s %-30s %12.3f %12s %9s %12s\n", c.family.c_str(), c.size.c_str(), cpu_ms,
                gpu ? fmt(gpu_ms, "%.3f").c_str() : "-",
                gpu ? fmt(cpu_ms / gpu_ms, "%.1fx").c_str() : "-", gflops.c_str());
    csv << c.family << ',' << c.size << ',' << cpu_ms << ',' << (gpu ? fmt(gpu_ms, "%g") : "")
        << ',' << (gpu ? fmt(cpu_ms / gpu_ms, "%g") : "") << '\n';
    dat << row++ << " \"" << c.family << "\\n"
        << c.size << "\" " << cpu_ms << ' ' << (gpu ? gpu_ms : 0) << '\n';
  }
  if (!gpu) std::printf("\n%s\n", gpu_note.c_str());
  csv.close();
  dat.close();
  // The chart: grouped bars, log scale (times span four orders of magnitude).
  const std::string png = out_dir + "/ember-bench.png";
  if (FILE* gp = popen("gnuplot 2>/dev/null", "w")) {
    std::fprintf(gp,
                 "set terminal pngcairo size 1200,600 noenhanced\n"
                 "set output '%s'\nset title 'ember-bench: time per call (lower is better)'\n"
                 "set logscale y\nset ylabel 'milliseconds'\nset style data histograms\n"
                 "set style fill solid 0.8\nset boxwidth 0.9\nset xtics rotate by -30\n"
                 "set key top left\n"
                 "plot '%s/ember-bench.dat' using 3:xtic(2) title 'CPU'%s\n",
                 png.c_str(), out_dir.c_str(), gpu ? (", '' using 4 title 'GPU'") : "");
    const int rc = pclose(gp);
    std::printf("\nwrote %s/ember-bench.csv%s\n", out_dir.c_str(),
                rc == 0 ? (" and " + png).c_str() : " (gnuplot failed: no chart)");
  } else {
    std::printf("\nwrote %s/ember-bench.csv (install gnuplot for the chart)\n", out_dir.c_str());
  }
  return 0;
}
