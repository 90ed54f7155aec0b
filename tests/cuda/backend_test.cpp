// The CUDA backend through ember's public API on Device::cuda() (cudasim in CI), every op
// family compared with the same call on the CPU: device queries, to() round trips, elementwise
// ops with broadcasting, reductions, the matmul family, softmax, the losses forward and
// backward with ignore_index, gather / scatter_add, views, factories, seeded random numbers,
// and the errors a user can provoke (device mismatch, bad indices and labels on the GPU).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <cudasim/modes.h>
#include <ember/ember.h>

#include "cuda/backend_test_util.h"

namespace ember {
namespace {

using cuda_backend_test::error_of;
using cuda_backend_test::kCuda;
using cuda_backend_test::kF32;
using cuda_backend_test::kF64;
using cuda_backend_test::same_values;

Tensor random_cpu(const Shape& shape, uint64_t seed, DType dt = kFloat32) {
  Generator gen(seed);
  return randn(shape, dt, &gen);
}

TEST(CudaBackend, DeviceQueries) {
  EXPECT_TRUE(cuda::is_available());
  const int n = cudasim::device_count();  // 1 unless CUDASIM_DEVICES says more
  EXPECT_EQ(cuda::device_count(), n);
  EXPECT_TRUE(cuda::is_simulated());
  EXPECT_FALSE(cuda::device_name(0).empty());
  const std::string missing = error_of<DeviceError>([n] { zeros({2}, Device::cuda(n)); });
  EXPECT_NE(missing.find("cuda:" + std::to_string(n)), std::string::npos) << missing;
  EXPECT_NE(missing.find(std::to_string(n) + " CUDA device"), std::string::npos) << missing;
}

TEST(CudaBackend, RoundTripsEveryDtype) {
  const Tensor f = random_cpu({3, 7}, 1);
  const Tensor d = random_cpu({5}, 2, kFloat64);
  const Tensor i = arange(-6, 6, 1, kInt64).reshape({3, 4});
  const Tensor b = gt(f, 0.0);
  for (const Tensor& t : {f, d, i, b}) {
    const Tensor g = t.to(kCuda);
    EXPECT_EQ(g.device(), kCuda);
    EXPECT_TRUE(same_values(g, t));
    EXPECT_TRUE(same_values(g.to(kCuda), t)) << "to() the same device is the identity";
    const Tensor back = g.cpu();
    EXPECT_EQ(back.device(), kCPU);
    EXPECT_EQ(back.to_vector<double>(), t.to_vector<double>());
  }
  // Non-contiguous sources, and dtype conversions on either side of the transfer.
  EXPECT_TRUE(same_values(f.t().to(kCuda), f.t().contiguous()));
  EXPECT_TRUE(same_values(f.to(kCuda, kFloat64), f.to(kFloat64)));
  EXPECT_TRUE(same_values(f.to(kCuda).to(kInt64), f.to(kInt64)));
  EXPECT_TRUE(same_values(i.to(kCuda).to(kFloat32), i.to(kFloat32)));
  // copy_ across devices and the item() read-back.
  Tensor dst = zeros({3, 7}, kCuda);
  dst.copy_(f);
  EXPECT_TRUE(same_values(dst, f));
  EXPECT_FLOAT_EQ(f.to(kCuda)[1][2].item<float>(), f[1][2].item<float>());
}

// memcpy_from_host stages through pinned memory: the caller's buffer is free on return.
TEST(CudaBackend, HostBufferIsFreeAfterUpload) {
  Tensor host = arange(0, 1000, 1, kFloat32);
  const Tensor dev = host.to(kCuda);
  host.fill_(-1.0);
  EXPECT_TRUE(same_values(dev, arange(0, 1000, 1, kFloat32)));
}

TEST(CudaBackend, ElementwiseWithBroadcasting) {
  const Tensor a = random_cpu({4, 1, 5}, 3), b = random_cpu({3, 1}, 4);
  const Tensor ga = a.to(kCuda), gb = b.to(kCuda);
  EXPECT_TRUE(same_values(ga + gb, a + b));
  EXPECT_TRUE(same_values(ga - gb, a - b));
  EXPECT_TRUE(same_values(ga * gb, a * b));
  EXPECT_TRUE(same_values(ga / gb, a / b, kF32));
  EXPECT_TRUE(same_values(maximum(ga, gb), maximum(a, b)));
  EXPECT_TRUE(same_values(pow(abs(ga), gb), pow(abs(a), b), kF32));
  EXPECT_TRUE(same_values(lt(ga, gb), lt(a, b)));
  EXPECT_TRUE(same_values(where(gt(ga, gb), ga, gb), where(gt(a, b), a, b)));
  EXPECT_TRUE(same_values(2.0 - ga * 3.0, 2.0 - a * 3.0));
  // Unary ops and activations, on a strided (transposed) view.
  const Tensor x = random_cpu({6, 8}, 5).t(), gx = x.to(kCuda);
  EXPECT_TRUE(same_values(exp(gx), exp(x), kF32));
  EXPECT_TRUE(same_values(log(abs(gx) + 1.0), log(abs(x) + 1.0), kF32));
  EXPECT_TRUE(same_values(sqrt(abs(gx)), sqrt(abs(x)), kF32));
  EXPECT_TRUE(same_values(relu(gx), relu(x)));
  EXPECT_TRUE(same_values(sigmoid(gx), sigmoid(x), kF32));
  EXPECT_TRUE(same_values(tanh(gx), tanh(x), kF32));
  EXPECT_TRUE(same_values(gelu(gx), gelu(x), kF32));
  EXPECT_TRUE(same_values(clamp(gx, -0.5, 0.5), clamp(x, -0.5, 0.5)));
  // In place on the device.
  Tensor y = x.contiguous(), gy = y.to(kCuda);
  y.mul_(2.0).add_(x);
  gy.mul_(2.0).add_(gx);
  EXPECT_TRUE(same_values(gy, y));
  // Integers.
  const Tensor n = arange(-5, 7, 1, kInt64).reshape({3, 4});
  EXPECT_TRUE(same_values(n.to(kCuda) * n.to(kCuda) - 3.0, n * n - 3.0));
}

TEST(CudaBackend, Reductions) {
  const Tensor x = random_cpu({5, 6, 7}, 6), gx = x.to(kCuda);
  EXPECT_TRUE(same_values(sum(gx), sum(x), kF32));
  EXPECT_TRUE(same_values(mean(gx), mean(x), kF32));
  EXPECT_TRUE(same_values(sum(gx, {1}), sum(x, {1}), kF32));
  EXPECT_TRUE(same_values(sum(gx, {2}, true), sum(x, {2}, true), kF32));
  EXPECT_TRUE(same_values(mean(gx, {0, 2}), mean(x, {0, 2}), kF32));
  EXPECT_TRUE(same_values(max(gx), max(x)));
  EXPECT_TRUE(same_values(min(gx), min(x)));
  for (int dim : {0, 1, 2}) {
    auto [gv, gi] = max(gx, dim);
    auto [v, i] = max(x, dim);
    EXPECT_TRUE(same_values(gv, v));
    EXPECT_TRUE(same_values(gi, i));
    EXPECT_TRUE(same_values(argmin(gx, dim, true), argmin(x, dim, true)));
  }
  EXPECT_TRUE(same_values(argmax(gx), argmax(x)));
  const Tensor big = random_cpu({100000}, 7);  // the device-wide (CUB) path
  EXPECT_TRUE(same_values(sum(big.to(kCuda)), sum(big), kF32));
  const Tensor n = arange(0, 24, 1, kInt64).reshape({2, 3, 4});
  EXPECT_TRUE(same_values(sum(n.to(kCuda), {1}), sum(n, {1})));
}

TEST(CudaBackend, MatmulFamily) {
  const Tensor a = random_cpu({7, 5}, 8), b = random_cpu({5, 9}, 9);
  const Tensor ga = a.to(kCuda), gb = b.to(kCuda);
  EXPECT_TRUE(same_values(mm(ga, gb), mm(a, b), kF32));
  EXPECT_TRUE(same_values(matmul(gb.t(), ga.t()), matmul(b.t(), a.t()), kF32));
  const Tensor v = random_cpu({5}, 10);
  EXPECT_TRUE(same_values(matmul(ga, v.to(kCuda)), matmul(a, v), kF32));
  const Tensor p = random_cpu({3, 4, 6}, 11), q = random_cpu({3, 6, 2}, 12);
  EXPECT_TRUE(same_values(bmm(p.to(kCuda), q.to(kCuda)), bmm(p, q), kF32));
  const Tensor r = random_cpu({6, 2}, 13);  // broadcast over the batch: stride 0
  EXPECT_TRUE(same_values(matmul(p.to(kCuda), r.to(kCuda)), matmul(p, r), kF32));
  const Tensor w = random_cpu({4, 6}, 14), bias = random_cpu({4}, 15);
  EXPECT_TRUE(
      same_values(linear(p.to(kCuda), w.to(kCuda), bias.to(kCuda)), linear(p, w, bias), kF32));
  const Tensor ad = a.to(kFloat64), bd = b.to(kFloat64);
  EXPECT_TRUE(same_values(mm(ad.to(kCuda), bd.to(kCuda)), mm(ad, bd), kF64));
}

TEST(CudaBackend, SoftmaxForwardAndBackward) {
  for (int dim : {0, 1}) {
    for (bool log : {false, true}) {
      SCOPED_TRACE("dim " + std::to_string(dim) + (log ? " log_softmax" : " softmax"));
      Tensor x = random_cpu({9, 12}, 16) * 4.0;
      Tensor gx = x.to(kCuda);
      x.requires_grad_();
      gx.requires_grad_();
      const Tensor w = random_cpu({9, 12}, 17);
      const Tensor y = log ? log_softmax(x, dim) : softmax(x, dim);
      const Tensor gy = log ? log_softmax(gx, dim) : softmax(gx, dim);
      EXPECT_TRUE(same_values(gy, y, kF32));
      sum(y * w).backward();
      sum(gy * w.to(kCuda)).backward();
      EXPECT_TRUE(same_values(gx.grad(), x.grad(), kF32));
    }
  }
}

TEST(CudaBackend, CrossEntropyForwardAndBackwardWithIgnoreIndex) {
  const Tensor logits = random_cpu({12, 10}, 18) * 3.0;
  const Tensor target = from_vector<int64_t>({3, -100, 0, 9, 9, 2, -100, 5, 1, 1, 7, 4});
  for (Reduction red : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    SCOPED_TRACE(static_cast<int>(red));
    Tensor x = logits.clone().requires_grad_();
    Tensor gx = logits.to(kCuda).requires_grad_();
    const Tensor loss = cross_entropy(x, target, red);
    const Tensor gloss = cross_entropy(gx, target.to(kCuda), red);
    EXPECT_TRUE(same_values(gloss, loss, kF32));
    const Tensor up = red == Reduction::None ? random_cpu({12}, 19) : ones({});
    (loss * up).sum().backward();
    (gloss * up.to(kCuda)).sum().backward();
    EXPECT_TRUE(same_values(gx.grad(), x.grad(), kF32));
    EXPECT_EQ(gx.grad()[1].abs().sum().item<float>(), 0.0f) << "ignored rows get no gradient";
  }
  // nll_loss over log_softmax is the same loss, and so are its gradients.
  const Tensor lp = log_softmax(logits, 1);
  Tensor clp = lp.clone().requires_grad_(), glp = lp.to(kCuda).requires_grad_();
  const Tensor nll = nll_loss(clp, target), gnll = nll_loss(glp, target.to(kCuda));
  EXPECT_TRUE(same_values(gnll, nll, kF32));
  nll.backward();
  gnll.backward();
  EXPECT_TRUE(same_values(glp.grad(), clp.grad(), kF32));
  EXPECT_TRUE(same_values(nll_loss(lp.to(kCuda), target.to(kCuda), Reduction::None),
                          nll_loss(lp, target, Reduction::None)));
}

// The mean of a batch whose targets are all ignored is 0 / 0 = NaN (as in PyTorch) on both
// devices, its gradient zero; an empty batch sums to 0.
TEST(CudaBackend, AllIgnoredMeanIsNan) {
  const Tensor logits = random_cpu({3, 4}, 21);
  const Tensor ignored = from_vector<int64_t>({-100, -100, -100});
  Tensor x = logits.clone().requires_grad_(), gx = logits.to(kCuda).requires_grad_();
  const Tensor loss = cross_entropy(x, ignored), gloss = cross_entropy(gx, ignored.to(kCuda));
  EXPECT_TRUE(std::isnan(loss.item<float>()));
  EXPECT_TRUE(same_values(gloss, loss));
  loss.backward();
  gloss.backward();
  EXPECT_TRUE(same_values(gx.grad(), zeros({3, 4})));
  EXPECT_EQ(x.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(same_values(nll_loss(gx.detach(), ignored.to(kCuda)), nll_loss(logits, ignored)));
  const Tensor empty = zeros({0, 4}, kCuda);
  const Tensor none = zeros({0}, kInt64).to(kCuda);
  EXPECT_TRUE(same_values(cross_entropy(empty, none, Reduction::Sum), zeros({})));
  EXPECT_TRUE(std::isnan(cross_entropy(empty, none).item<float>()));
}

TEST(CudaBackend, GatherAndScatterAdd) {
  const Tensor x = random_cpu({4, 6}, 20);
  const Tensor index = from_vector<int64_t>({0, 5, 5, 1, 2, 2, 3, 0}, Shape{4, 2});
  Tensor cx = x.clone().requires_grad_(), gx = x.to(kCuda).requires_grad_();
  const Tensor y = gather(cx, 1, index), gy = gather(gx, 1, index.to(kCuda));
  EXPECT_TRUE(same_values(gy, y));
  const Tensor w = random_cpu({4, 2}, 21);
  sum(y * w).backward();
  sum(gy * w.to(kCuda)).backward();
  EXPECT_TRUE(same_values(gx.grad(), cx.grad()));  // scatter_add with repeated targets
  const Tensor src = random_cpu({4, 2}, 22);
  EXPECT_TRUE(same_values(scatter_add(x.to(kCuda), 1, index.to(kCuda), src.to(kCuda)),
                          scatter_add(x, 1, index, src), kF32));
}

TEST(CudaBackend, ViewsAndContiguous) {
  const Tensor x = random_cpu({4, 5, 6}, 23), gx = x.to(kCuda);
  EXPECT_TRUE(same_values(gx.transpose(0, 2).contiguous(), x.transpose(0, 2).contiguous()));
  EXPECT_TRUE(same_values(gx.permute({1, 2, 0}) * 1.0, x.permute({1, 2, 0}) * 1.0));
  EXPECT_TRUE(same_values(gx.slice(1, 1, 5, 2).contiguous(), x.slice(1, 1, 5, 2).contiguous()));
  EXPECT_TRUE(same_values(gx.narrow(2, 2, 3).reshape({-1}), x.narrow(2, 2, 3).reshape({-1})));
  EXPECT_TRUE(same_values(gx.select(0, 3).t().contiguous(), x.select(0, 3).t().contiguous()));
  EXPECT_TRUE(same_values(gx[1].unsqueeze(0).expand({3, 5, 6}).contiguous(),
                          x[1].unsqueeze(0).expand({3, 5, 6}).contiguous()));
  EXPECT_TRUE(gx.view({20, 6}).shares_storage(gx));
  EXPECT_EQ(gx.view({20, 6}).device(), kCuda);
}

TEST(CudaBackend, Factories) {
  EXPECT_TRUE(same_values(zeros({3, 4}, kCuda), zeros({3, 4})));
  EXPECT_TRUE(same_values(ones({2, 3}, TensorOptions(kInt64).device(kCuda)), ones({2, 3}, kInt64)));
  EXPECT_TRUE(
      same_values(full({5}, 2.5, TensorOptions(kFloat64).device(kCuda)), full({5}, 2.5, kFloat64)));
  EXPECT_TRUE(same_values(arange(1, 10, 0.5, TensorOptions(kFloat32).device(kCuda)),
                          arange(1, 10, 0.5, kFloat32)));
  EXPECT_TRUE(same_values(eye(4, kCuda), eye(4)));
  EXPECT_TRUE(same_values(zeros_like(ones({3}, kCuda)), zeros({3})));
  const Tensor req = zeros({2}, TensorOptions().device(kCuda).requires_grad(true));
  EXPECT_TRUE(req.requires_grad());
  EXPECT_EQ(req.device(), kCuda);
}

// Philox is counter-based, so one seed gives the same numbers on both devices.
TEST(CudaBackend, RandomNumbersMatchCpuForTheSameSeed) {
  Generator g_cpu(1234), g_cuda(1234);
  EXPECT_TRUE(same_values(rand({1000}, kCuda, &g_cuda), rand({1000}, kFloat32, &g_cpu)));
  EXPECT_TRUE(same_values(randn({333}, TensorOptions(kFloat64).device(kCuda), &g_cuda),
                          randn({333}, kFloat64, &g_cpu), kF64));
  EXPECT_TRUE(same_values(randint(-5, 17, {500}, TensorOptions(kInt64).device(kCuda), &g_cuda),
                          randint(-5, 17, {500}, kInt64, &g_cpu)));
  const Tensor x = ones({64, 16});
  EXPECT_TRUE(
      same_values(dropout(x.to(kCuda), 0.3, true, &g_cuda), dropout(x, 0.3, true, &g_cpu), kF32));
}

// ---------------------------------------------------------------------------------------
// Errors a user can provoke

TEST(CudaBackend, DeviceMismatchNamesBothDevices) {
  const Tensor a = ones({3}), b = ones({3}, kCuda);
  for (const std::string& msg :
       {error_of<DeviceError>([&] { (void)(a + b); }), error_of<DeviceError>([&] {
          (void)mm(a.reshape({1, 3}), b.reshape({3, 1}));
        }),
        error_of<DeviceError>([&] {
          (void)cross_entropy(b.reshape({1, 3}), from_vector<int64_t>({0}));
        })}) {
    EXPECT_NE(msg.find("cpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cuda:0"), std::string::npos) << msg;
  }
}

// Note [Host-device synchronisation]: a bad index or target is found on the GPU without a
// wait of its own, and thrown at the next one -- to(cpu), item(), synchronize() -- naming the
// op, the value, its position and the bound; only the first since the last wait is reported,
// and the backend works normally afterwards.
TEST(CudaBackend, OutOfRangeGatherIndexIsReportedAtTheNextWait) {
  const Tensor x = ones({3, 4}, kCuda);
  const Tensor index = from_vector<int64_t>({0, 1, 7, 2, 9, 0}, Shape{3, 2}).to(kCuda);
  const int64_t syncs = cuda::host_syncs();
  const Tensor out = gather(x, 1, index);
  EXPECT_EQ(cuda::host_syncs(), syncs) << "the check did not wait";
  const std::string msg = error_of<IndexError>([&] { (void)out.cpu(); });
  EXPECT_NE(msg.find("gather: index 7 at position 2 is out of bounds for dim 1 with size 4"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("EMBER_CUDA_EAGER_CHECKS"), std::string::npos) << msg;
  (void)scatter_add(x, 0, from_vector<int64_t>({0, -1}, Shape{1, 2}).to(kCuda), x.narrow(0, 0, 1));
  (void)gather(x, 1, index);  // a second bad call before the wait: the first error wins
  const std::string scatter = error_of<IndexError>([] { cuda::synchronize(); });
  EXPECT_NE(scatter.find("scatter_add: index -1 at position 1"), std::string::npos) << scatter;
  EXPECT_EQ(error_of<IndexError>([] { cuda::synchronize(); }), "") << "reported once";
  // The record was reset: a valid gather right after works.
  const Tensor ok = from_vector<int64_t>({3, 0}, Shape{1, 2}).to(kCuda);
  EXPECT_TRUE(same_values(gather(x, 1, ok), ones({1, 2})));
}

TEST(CudaBackend, OutOfRangeLabelIsReportedAtTheNextWait) {
  const Tensor logits = random_cpu({5, 10}, 24).to(kCuda);
  const Tensor bad = from_vector<int64_t>({1, 2, 10, -100, 3}).to(kCuda);
  const int64_t syncs = cuda::host_syncs();
  const Tensor loss = cross_entropy(logits, bad);
  EXPECT_EQ(cuda::host_syncs(), syncs) << "the check did not wait";
  const std::string msg = error_of<IndexError>([&] { (void)loss.item<float>(); });
  EXPECT_NE(msg.find("cross_entropy: target 10 at position 2 is out of bounds for 10 classes"),
            std::string::npos)
      << msg;
  (void)nll_loss(logits, from_vector<int64_t>({1, -7, 2, 3, 4}).to(kCuda));
  const std::string nll_msg = error_of<IndexError>([] { cuda::synchronize(); });
  EXPECT_NE(nll_msg.find("nll_loss: target -7 at position 1 is out of bounds for 10 classes"),
            std::string::npos)
      << nll_msg;
  // ...and the next loss on good labels is right (the record was reset).
  const Tensor good = from_vector<int64_t>({1, 2, 9, -100, 3});
  EXPECT_TRUE(
      same_values(cross_entropy(logits, good.to(kCuda)), cross_entropy(logits.cpu(), good), kF32));
}

// Restores the default when a test that turned eager checks on ends, failed or not.
struct EagerChecks {
  EagerChecks() { cuda::set_eager_checks(true); }
  ~EagerChecks() { cuda::set_eager_checks(false); }
};

TEST(CudaBackend, EagerChecksReportAtTheCall) {
  const Tensor logits = random_cpu({5, 10}, 25).to(kCuda);
  const Tensor bad = from_vector<int64_t>({1, 2, 3, 11, 0}).to(kCuda);
  EagerChecks eager;
  EXPECT_TRUE(cuda::eager_checks());
  const std::string msg = error_of<IndexError>([&] { (void)cross_entropy(logits, bad); });
  EXPECT_NE(msg.find("cross_entropy: target 11 at position 3"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("EMBER_CUDA_EAGER_CHECKS"), std::string::npos) << msg;
  const std::string gather_msg = error_of<IndexError>([&] {
    (void)gather(logits, 1, from_vector<int64_t>({0, 10}, Shape{1, 2}).to(kCuda));
  });
  EXPECT_NE(gather_msg.find("gather: index 10 at position 1"), std::string::npos) << gather_msg;
  const int64_t syncs = cuda::host_syncs();
  (void)cross_entropy(logits, from_vector<int64_t>({1, 2, 3, 4, 0}).to(kCuda));
  EXPECT_EQ(cuda::host_syncs(), syncs + 1) << "an eager check waits";
}

}  // namespace
}  // namespace ember
