// Core speed benchmarks, ember side by side with the GEMM library it calls and (with
// -DEMBER_BENCH_TORCH=ON) with libtorch 1.13:
//  - per-op overhead: relu and add on a 1-element tensor (target: <= 1/3 of libtorch's);
//  - matmul at 256x784x256 (an MLP's first layer) and 1024^3 (target: within 10% of a
//    direct GEMM call);
//  - cross_entropy forward + backward at 256x10;
//  - a batch gather: 256 shuffled rows of 784 float32 out of 60000, by index_select and by
//    gather with a broadcast row index, on one thread (target: <= 100 us).
// Read ratios between rows of one run; absolute times on a shared machine are noise.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include <ember/ember.h>
#include <ember/kernels/cpu/gemm.h>

#if defined(EMBER_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.h>
#elif defined(EMBER_HAVE_CBLAS)
#include <cblas.h>
#endif

#if defined(EMBER_BENCH_TORCH)
#include <torch/torch.h>
#endif

namespace {

using namespace ember;

void BM_ember_relu_1elem(benchmark::State& state) {
  Tensor x = ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(relu(x));
}
BENCHMARK(BM_ember_relu_1elem);

void BM_ember_add_1elem(benchmark::State& state) {
  Tensor a = ones({1}), b = ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_ember_add_1elem);

// (m, k) x (k, n)
void BM_ember_matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Generator g(1);
  Tensor a = randn({m, k}, kFloat32, &g), b = randn({k, n}, kFloat32, &g);
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b));
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_ember_matmul)
    ->Args({256, 784, 256})
    ->Args({1024, 1024, 1024})
    ->Unit(benchmark::kMicrosecond);

// The same product through the GEMM library directly, into a preallocated output.
void BM_direct_sgemm(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n);
  for (auto _ : state) {
#if defined(EMBER_HAVE_DNNL)
    dnnl_sgemm('N', 'N', m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n);
#elif defined(EMBER_HAVE_CBLAS)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a.data(), k, b.data(), n,
                0.f, c.data(), n);
#endif
    benchmark::DoNotOptimize(c.data());
  }
  state.SetLabel(kernels::cpu::gemm_backend_name());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_direct_sgemm)
    ->Args({256, 784, 256})
    ->Args({1024, 1024, 1024})
    ->Unit(benchmark::kMicrosecond);

void BM_ember_cross_entropy_fwd_bwd(benchmark::State& state) {
  Generator g(2);
  Tensor logits = randn({256, 10}, kFloat32, &g).requires_grad_(true);
  Tensor target = randint(0, 10, {256}, kInt64, &g);
  for (auto _ : state) {
    Tensor loss = cross_entropy(logits, target);
    loss.backward();
    benchmark::DoNotOptimize(logits.grad().data_ptr());
  }
}
BENCHMARK(BM_ember_cross_entropy_fwd_bwd)->Unit(benchmark::kMicrosecond);

// The batches of a shuffled epoch: 234 disjoint sets of 256 rows of a 188 MB table, taken in
// turn, so rows come from memory rather than cache, as in training. One thread: the figure
// the loader pays per batch.
struct RowGather {
  static constexpr int64_t kRows = 60000, kCols = 784, kBatch = 256, kBatches = kRows / kBatch;
  Tensor table = rand({kRows, kCols});
  std::vector<Tensor> batches;
  RowGather() {
    const Tensor order = from_vector(data::randperm(kRows, 3));
    for (int64_t b = 0; b < kBatches; ++b)
      batches.push_back(order.narrow(0, b * kBatch, kBatch).contiguous());
  }
  static const RowGather& get() {
    static const RowGather d;
    return d;
  }
};

// Runs `gather_batch(b)` over the epoch's batches in turn, on one thread.
template <class F>
void time_row_gather(benchmark::State& state, F gather_batch) {
  const int threads = get_num_threads();
  set_num_threads(1);
  int64_t b = 0;
  for (auto _ : state) {
    gather_batch(b);
    b = (b + 1) % RowGather::kBatches;
  }
  set_num_threads(threads);
  state.SetBytesProcessed(state.iterations() * RowGather::kBatch * RowGather::kCols * 4);
}

void BM_ember_index_select_rows(benchmark::State& state) {
  const RowGather& d = RowGather::get();
  time_row_gather(
      state, [&](int64_t b) { benchmark::DoNotOptimize(index_select(d.table, 0, d.batches[b])); });
}
BENCHMARK(BM_ember_index_select_rows)->Unit(benchmark::kMicrosecond);

void BM_ember_gather_rows(benchmark::State& state) {
  const RowGather& d = RowGather::get();
  std::vector<Tensor> index;
  for (const Tensor& rows : d.batches)
    index.push_back(rows.unsqueeze(1).expand({RowGather::kBatch, RowGather::kCols}));
  time_row_gather(state,
                  [&](int64_t b) { benchmark::DoNotOptimize(gather(d.table, 0, index[b])); });
}
BENCHMARK(BM_ember_gather_rows)->Unit(benchmark::kMicrosecond);

// The same row copies as bare memcpy calls into a preallocated batch: the machine's floor.
void BM_memcpy_rows(benchmark::State& state) {
  const RowGather& d = RowGather::get();
  std::vector<float> out(RowGather::kBatch * RowGather::kCols);
  const auto* table = static_cast<const float*>(d.table.data_ptr());
  std::vector<std::vector<int64_t>> rows;
  for (const Tensor& r : d.batches) rows.push_back(r.to_vector<int64_t>());
  const size_t row_bytes = RowGather::kCols * sizeof(float);
  time_row_gather(state, [&](int64_t b) {
    for (int64_t i = 0; i < RowGather::kBatch; ++i)
      std::memcpy(out.data() + i * RowGather::kCols, table + rows[b][i] * RowGather::kCols,
                  row_bytes);
    benchmark::DoNotOptimize(out.data());
  });
}
BENCHMARK(BM_memcpy_rows)->Unit(benchmark::kMicrosecond);

#if defined(EMBER_BENCH_TORCH)
void BM_torch_relu_1elem(benchmark::State& state) {
  torch::Tensor x = torch::ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(torch::relu(x));
}
BENCHMARK(BM_torch_relu_1elem);

void BM_torch_add_1elem(benchmark::State& state) {
  torch::Tensor a = torch::ones({1}), b = torch::ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_torch_add_1elem);

void BM_torch_matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  torch::Tensor a = torch::randn({m, k}), b = torch::randn({k, n});
  for (auto _ : state) benchmark::DoNotOptimize(torch::matmul(a, b));
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_torch_matmul)
    ->Args({256, 784, 256})
    ->Args({1024, 1024, 1024})
    ->Unit(benchmark::kMicrosecond);

void BM_torch_cross_entropy_fwd_bwd(benchmark::State& state) {
  torch::Tensor logits = torch::randn({256, 10}).requires_grad_(true);
  torch::Tensor target = torch::randint(0, 10, {256}, torch::kLong);
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, target);
    loss.backward();
    benchmark::DoNotOptimize(logits.grad().data_ptr());
  }
}
BENCHMARK(BM_torch_cross_entropy_fwd_bwd)->Unit(benchmark::kMicrosecond);

void BM_torch_index_select_rows(benchmark::State& state) {
  const torch::Tensor table = torch::rand({RowGather::kRows, RowGather::kCols});
  const torch::Tensor order = torch::randperm(RowGather::kRows, torch::kLong);
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  int64_t b = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        torch::index_select(table, 0, order.narrow(0, b * RowGather::kBatch, RowGather::kBatch)));
    b = (b + 1) % RowGather::kBatches;
  }
  torch::set_num_threads(threads);
  state.SetBytesProcessed(state.iterations() * RowGather::kBatch * RowGather::kCols * 4);
}
BENCHMARK(BM_torch_index_select_rows)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
