// kernels::cuda copy / fill / arange on cudasim against kernels::cpu: all 16 dtype pairs over
// contiguous, transposed, broadcast and strided-destination layouts (the whole destination
// buffer is compared, so a write outside the view fails), the memcpy fast path (no kernel),
// the tiled transpose (one launch of "copy_transpose"), memset-able and ordinary fills.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cuda/copy.h>

#include "cuda/kernels_test_util.h"
#include "cudasim/counters.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;
using testing::make_layout;

constexpr DType kDtypes[] = {kFloat32, kFloat64, kInt64, kBool};

int64_t storage_for(const Layout& l) {
  int64_t last = 0;
  for (int d = 0; d < l.ndim; ++d) last += (l.sizes[d] - 1) * l.strides[d];
  return last + 1;
}

// Raw element storage of any dtype: bytes, so one helper serves all 16 pairs.
std::vector<uint8_t> make_values(DType dt, int64_t n, int seed) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n * dtype_size(dt)));
  for (int64_t i = 0; i < n; ++i) {
    // Fractional, negative and zero values: float -> int64 truncation and -> bool both matter.
    const double v = ((i * 37 + seed * 11) % 23 - 11) * 0.75;
    uint8_t* p = bytes.data() + i * dtype_size(dt);
    switch (dt) {
      case DType::Float32:
        *reinterpret_cast<float*>(p) = static_cast<float>(v);
        break;
      case DType::Float64:
        *reinterpret_cast<double*>(p) = v;
        break;
      case DType::Int64:
        *reinterpret_cast<int64_t*>(p) = static_cast<int64_t>(v);
        break;
      case DType::Bool:
        *reinterpret_cast<bool*>(p) = v != 0;
        break;
    }
  }
  return bytes;
}

struct CopyCase {
  const char* name;
  Layout src, dst;
  const char* kernel;  // the kernel a same-dtype copy uses; nullptr: cudaMemcpyAsync
};

std::vector<CopyCase> copy_cases() {
  return {
      {"contiguous", make_layout({37, 29}), make_layout({37, 29}), nullptr},
      {"0-d", make_layout({}), make_layout({}), nullptr},
      {"transposed small", make_layout({9, 7}, {1, 9}), make_layout({9, 7}), "copy"},
      {"transposed to contiguous", make_layout({37, 45}, {1, 37}), make_layout({37, 45}),
       "copy_transpose"},
      {"contiguous to transposed", make_layout({33, 40}), make_layout({33, 40}, {1, 33}),
       "copy_transpose"},
      {"batched permute (0, 2, 1)", make_layout({3, 40, 33}, {1320, 1, 40}),
       make_layout({3, 40, 33}), "copy_transpose"},
      {"broadcast rows", make_layout({13, 11}, {0, 1}), make_layout({13, 11}), "copy"},
      {"strided destination", make_layout({5, 7}), make_layout({5, 7}, {21, 3}), "copy"},
      {"3-d permute (2, 0, 1)", make_layout({4, 5, 6}, {1, 24, 4}), make_layout({4, 5, 6}), "copy"},
  };
}

TEST(CudaCopy, AllDtypePairsOnEveryLayoutMatchCpu) {
  for (const CopyCase& c : copy_cases()) {
    for (DType sdt : kDtypes) {
      for (DType ddt : kDtypes) {
        SCOPED_TRACE(std::string(c.name) + " " + dtype_name(sdt) + " -> " + dtype_name(ddt));
        const std::vector<uint8_t> src = make_values(sdt, storage_for(c.src), 1);
        // The destination starts with values of its own, kept wherever the view is not.
        std::vector<uint8_t> want = make_values(ddt, storage_for(c.dst), 2);
        DeviceBuffer<uint8_t> dsrc(src), ddst(want);
        cpu::cpu_backend.copy(sdt, c.src, src.data(), ddt, c.dst, want.data());
        const char* kernel = sdt == ddt ? c.kernel : (c.kernel ? c.kernel : "copy");
        const cudasim::Counters before = cudasim::counters();
        const auto l = launches_during(kernel ? kernel : "copy", [&] {
          cuda::copy(sdt, c.src, dsrc.get(), ddt, c.dst, ddst.get(), nullptr);
        });
        if (kernel == nullptr) {
          EXPECT_EQ(l.total, 0);  // one device-to-device cudaMemcpyAsync instead
          EXPECT_EQ(cudasim::counters().bytes_d2d - before.bytes_d2d,
                    c.src.numel() * dtype_size(sdt));
        } else {
          EXPECT_EQ(l.total, 1);
          EXPECT_EQ(l.named, 1);
        }
        EXPECT_TRUE(all_close(ddst.download(), want));
      }
    }
  }
}

TEST(CudaCopy, FillMatchesCpuAndUsesMemsetForRepeatedBytes) {
  const Layout contiguous = make_layout({7, 13});
  const Layout strided = make_layout({7, 5}, {26, 3});
  for (DType dt : kDtypes) {
    for (double v : {0.0, 1.0, -1.0, 2.75}) {
      for (const Layout* l : {&contiguous, &strided}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " value " + std::to_string(v) +
                     (l == &contiguous ? " contiguous" : " strided"));
        const int64_t elems = storage_for(*l);
        std::vector<uint8_t> want = make_values(dt, elems, 3);
        DeviceBuffer<uint8_t> d(want);
        cpu::cpu_backend.fill(dt, *l, want.data(), v);
        // One repeated byte: 0 in every dtype, true, int64 -1.
        const bool repeated = v == 0.0 || (dt == kBool) || (dt == kInt64 && v == -1.0);
        const bool memset = repeated && l == &contiguous;
        const auto launched =
            launches_during("fill", [&] { cuda::fill(dt, *l, d.get(), v, nullptr); });
        EXPECT_EQ(launched.total, memset ? 0 : 1);
        EXPECT_EQ(launched.named, memset ? 0 : 1);
        EXPECT_TRUE(all_close(d.download(), want));
      }
    }
  }
}

TEST(CudaCopy, ArangeMatchesCpu) {
  for (DType dt : kDtypes) {
    for (int64_t n : {1, 5, 1001}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " n " + std::to_string(n));
      std::vector<uint8_t> want(static_cast<size_t>(n * dtype_size(dt)));
      cpu::cpu_backend.arange(dt, want.data(), n, -3.0, 0.7);
      DeviceBuffer<uint8_t> d(want.size());
      const auto l =
          launches_during("arange", [&] { cuda::arange(dt, d.get(), n, -3.0, 0.7, nullptr); });
      EXPECT_EQ(l.named, 1);
      EXPECT_TRUE(all_close(d.download(), want));
    }
  }
}

TEST(CudaCopy, EmptyCopiesDoNothing) {
  DeviceBuffer<float> a(4), b(4);
  const Layout empty = make_layout({0, 3});
  const auto l = launches_during("copy", [&] {
    cuda::copy(kFloat32, empty, a.get(), kFloat64, empty, b.get(), nullptr);
    cuda::copy(kFloat32, empty, a.get(), kFloat32, empty, b.get(), nullptr);
    cuda::fill(kFloat32, empty, a.get(), 1.0, nullptr);
    cuda::arange(kFloat32, a.get(), 0, 0.0, 1.0, nullptr);
  });
  EXPECT_EQ(l.total, 0);
}

}  // namespace
}  // namespace ember::kernels
