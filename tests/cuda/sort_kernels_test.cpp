// sort / argsort / topk / kthvalue on the device (CUB's segmented radix sort) against the CPU
// backend's stable comparison sort: ties, -0.0 beside +0.0, infinities and NaNs of either sign,
// every dtype, both directions, rows along any dim -- and without a host wait.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <cudasim/counters.h>
#include <ember/ember.h>

#include "cuda/backend_test_util.h"

namespace ember {
namespace {

using cuda_backend_test::kCuda;

// Exactly equal, bit for bit where it matters: NaN positions and the sign of zero.
void expect_identical(const Tensor& gpu, const Tensor& cpu) {
  const std::vector<double> g = gpu.cpu().to_vector<double>(), c = cpu.to_vector<double>();
  ASSERT_EQ(g.size(), c.size());
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(c[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << i;
    } else {
      EXPECT_EQ(g[i], c[i]) << i;
      EXPECT_EQ(std::signbit(g[i]), std::signbit(c[i])) << "sign of zero at " << i;
    }
  }
}

Tensor awkward_rows(DType dt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v = {3, -0.0, 0.0, nan, -inf, 1, 1, -nan, inf, -2, 0.0,  -0.0,
                           7, 7,    -1,  -1,  nan,  0, 2, -3,   5,   5,  -0.0, 4};
  if (dt != kFloat32 && dt != kFloat64) {
    for (double& x : v) x = std::isfinite(x) ? x : (std::isnan(x) ? 9 : (x > 0 ? 8 : -8));
  }
  if (dt == kBool) {
    for (double& x : v) x = x > 0.5 ? 1 : 0;
  }
  return from_vector<double>(v, Shape{2, 12}).to(dt);
}

TEST(CudaSort, MatchesTheCpuOnTiesZerosInfinitiesAndNans) {
  for (DType dt : {kFloat32, kFloat64, kInt64, kBool}) {
    const Tensor x = awkward_rows(dt);
    const Tensor xg = x.to(kCuda);
    for (bool descending : {false, true}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + (descending ? " descending" : " ascending"));
      for (int dim : {0, 1}) {
        auto [v, i] = sort(x, dim, descending);
        auto [vg, ig] = sort(xg, dim, descending);
        expect_identical(vg, v);
        expect_identical(ig, i);
      }
      expect_identical(argsort(xg, 1, descending), argsort(x, 1, descending));
    }
    auto [tv, ti] = topk(x, 5, 1);
    auto [tvg, tig] = topk(xg, 5, 1);
    expect_identical(tvg, tv);
    expect_identical(tig, ti);
    auto [kv, ki] = kthvalue(x, 4, 1);
    auto [kvg, kig] = kthvalue(xg, 4, 1);
    expect_identical(kvg, kv);
    expect_identical(kig, ki);
  }
}

TEST(CudaSort, RunsOnTheDeviceWithoutAHostWait) {
  Generator gen(5);
  const Tensor xg = randn({64, 33}, TensorOptions(), &gen).to(kCuda);
  (void)sort(xg, 0);  // warm the caching allocator
  cudasim::reset_counters();
  auto [v, i] = sort(xg, 0, true);
  const cudasim::Counters c = cudasim::counters();
  EXPECT_EQ(c.host_syncs, 0);
  EXPECT_EQ(c.bytes_d2h, 0) << "the rows went through the host";
  EXPECT_EQ(cudasim::launches_of("cub::DeviceSegmentedRadixSort"), 1);
  EXPECT_EQ(cudasim::launches_of("sort_prepare"), 1);
  EXPECT_EQ(cudasim::launches_of("sort_finish"), 1);
  auto [vc, ic] = sort(xg.cpu(), 0, true);
  expect_identical(v, vc);
  expect_identical(i, ic);
}

}  // namespace
}  // namespace ember
