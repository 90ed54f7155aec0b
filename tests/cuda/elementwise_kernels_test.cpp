// kernels::cuda elementwise kernels on cudasim against kernels::cpu on the same inputs: every
// unary op forward and backward (with and without the forward output), every binary op on
// every dtype over contiguous, broadcast, transposed and 0-d spaces, binary ops with a
// scalar, and where. Sizes are odd and not multiples of 4, and pointers are both 16-byte
// aligned (the float4 path) and misaligned (the scalar path); cudasim's counters confirm
// which kernel ran and that each op is exactly one launch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/common/binary_functors.h>
#include <ember/kernels/cpu/backend.h>
#include <ember/kernels/cuda/elementwise.h>
#include <ember/kernels/cuda/loops.h>

#include "cuda/kernels_test_util.h"
#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using cuda_test::all_close;
using cuda_test::DeviceBuffer;
using cuda_test::launches_during;
using cuda_test::tolerance;
using testing::make_layout;

// The tests below run every op of both families: kUnaryOps and kBinaryOps, from the op lists
// (Note [Op lists] in kernels/common/op_kinds.h).

UnaryParams params_of(UnaryOp op, bool gelu_tanh = false) {
  switch (op) {
    case UnaryOp::PowScalar:
      return {2.5, 0};
    case UnaryOp::Clamp:
      return {-1.0, 1.5};
    case UnaryOp::Softplus:
      return {1.5, 2.0};  // beta, threshold: both branches are hit on [-3, 3]
    case UnaryOp::LeakyRelu:
      return {0.1, 0};
    case UnaryOp::Elu:
      return {1.2, 0};
    case UnaryOp::Gelu:
      return {gelu_tanh ? 1.0 : 0.0, 0};
    default:
      return {};
  }
}

// Random values in [-3, 3] led by the special cases the functors treat specially.
template <class T>
std::vector<T> unary_inputs(size_t n, uint32_t seed) {
  std::vector<T> v = testing::random_vector<T>(n, seed, -3.0, 3.0);
  if constexpr (std::is_floating_point_v<T>) {
    const T specials[] = {T(0),
                          T(-0.0),
                          std::numeric_limits<T>::quiet_NaN(),
                          std::numeric_limits<T>::infinity(),
                          -std::numeric_limits<T>::infinity(),
                          T(2.5),
                          T(-2.5),
                          T(1.5)};
    for (size_t i = 0; i < n && i < std::size(specials); ++i) v[i] = specials[i];
  }
  return v;
}

constexpr size_t kSizes[] = {1, 3, 4, 5, 1001};

template <class T>
void check_unary_forward(UnaryOp op, UnaryParams p, DType dt) {
  for (size_t n : kSizes) {
    for (size_t shift : {0, 1}) {
      SCOPED_TRACE("op " + std::to_string(int(op)) + " n " + std::to_string(n) + " shift " +
                   std::to_string(shift));
      const std::vector<T> x = unary_inputs<T>(n, static_cast<uint32_t>(n + 7 * int(op)));
      std::vector<T> want(n);
      cpu::cpu_backend.unary(op, dt, x.data(), want.data(), static_cast<int64_t>(n), p);
      DeviceBuffer<T> dx(x, shift), dy(n, shift);
      const bool vec4 = std::is_same_v<T, float> && shift == 0;
      const auto l = launches_during(vec4 ? "unary_vec4" : "unary", [&] {
        cuda::unary(op, dt, dx.get(), dy.get(), static_cast<int64_t>(n), p, nullptr);
      });
      EXPECT_EQ(l.total, 1);
      EXPECT_EQ(l.named, 1);
      EXPECT_TRUE(all_close(dy.download(), want, tolerance<T>()));
    }
  }
}

template <class T>
void check_unary_backward(UnaryOp op, UnaryParams p, DType dt) {
  for (size_t n : kSizes) {
    for (size_t shift : {0, 1}) {
      for (bool with_y : {true, false}) {
        SCOPED_TRACE("op " + std::to_string(int(op)) + " n " + std::to_string(n) + " shift " +
                     std::to_string(shift) + " with_y " + std::to_string(with_y));
        const std::vector<T> x = unary_inputs<T>(n, static_cast<uint32_t>(3 * n + int(op)));
        const std::vector<T> gy = testing::random_vector<T>(n, 99, -2.0, 2.0);
        std::vector<T> y(n), want(n);
        cpu::cpu_backend.unary(op, dt, x.data(), y.data(), static_cast<int64_t>(n), p);
        cpu::cpu_backend.unary_backward(op, dt, x.data(), with_y ? y.data() : nullptr, gy.data(),
                                        want.data(), static_cast<int64_t>(n), p);
        DeviceBuffer<T> dx(x, shift), dyv(y, shift), dgy(gy, shift), dgx(n, shift);
        const bool vec4 = std::is_same_v<T, float> && shift == 0;
        const auto l = launches_during(vec4 ? "unary_backward_vec4" : "unary_backward", [&] {
          cuda::unary_backward(op, dt, dx.get(), with_y ? dyv.get() : nullptr, dgy.get(), dgx.get(),
                               static_cast<int64_t>(n), p, nullptr);
        });
        EXPECT_EQ(l.total, 1);
        EXPECT_EQ(l.named, 1);
        EXPECT_TRUE(all_close(dgx.download(), want, tolerance<T>()));
      }
    }
  }
}

TEST(CudaElementwise, UnaryForwardMatchesCpuForEveryOp) {
  for (UnaryOp op : kUnaryOps) {
    check_unary_forward<float>(op, params_of(op), kFloat32);
    check_unary_forward<double>(op, params_of(op), kFloat64);
    if (unary_supports_int(op)) check_unary_forward<int64_t>(op, params_of(op), kInt64);
  }
  check_unary_forward<float>(UnaryOp::Gelu, params_of(UnaryOp::Gelu, true), kFloat32);
  check_unary_forward<double>(UnaryOp::Gelu, params_of(UnaryOp::Gelu, true), kFloat64);
}

TEST(CudaElementwise, UnaryBackwardMatchesCpuForEveryOp) {
  for (UnaryOp op : kUnaryOps) {
    check_unary_backward<float>(op, params_of(op), kFloat32);
    check_unary_backward<double>(op, params_of(op), kFloat64);
    if (unary_supports_int(op)) check_unary_backward<int64_t>(op, params_of(op), kInt64);
  }
  check_unary_backward<float>(UnaryOp::Gelu, params_of(UnaryOp::Gelu, true), kFloat32);
}

TEST(CudaElementwise, UnaryInPlace) {
  const size_t n = 1003;
  const std::vector<float> x = unary_inputs<float>(n, 5);
  std::vector<float> want(n);
  cpu::cpu_backend.unary(UnaryOp::Tanh, kFloat32, x.data(), want.data(), n, {});
  DeviceBuffer<float> d(x);
  cuda::unary(UnaryOp::Tanh, kFloat32, d.get(), d.get(), n, {}, nullptr);
  EXPECT_TRUE(all_close(d.download(), want, tolerance<float>()));
}

TEST(CudaElementwise, EmptyInputLaunchesNothing) {
  DeviceBuffer<float> d(4);
  const auto l = launches_during("unary", [&] {
    cuda::unary(UnaryOp::Exp, kFloat32, d.get(), d.get(), 0, {}, nullptr);
    cuda::binary_scalar(BinaryOp::Add, kFloat32, d.get(), 1.0, false, d.get(), 0, nullptr);
    const Layout empty = make_layout({3, 0});
    cuda::binary(BinaryOp::Add, kFloat32, empty, d.get(), empty, d.get(), d.get(), nullptr);
  });
  EXPECT_EQ(l.total, 0);
}

TEST(CudaElementwise, UnsupportedDtypesThrowBeforeLaunching) {
  DeviceBuffer<int64_t> i(8);
  DeviceBuffer<uint8_t> b(8);
  const Layout l = make_layout({8});
  const auto launched = launches_during("unary", [&] {
    EXPECT_THROW(cuda::unary(UnaryOp::Exp, kInt64, i.get(), i.get(), 8, {}, nullptr), DTypeError);
    EXPECT_THROW(cuda::unary(UnaryOp::Neg, kBool, b.get(), b.get(), 8, {}, nullptr), DTypeError);
    EXPECT_THROW(cuda::binary(BinaryOp::Div, kInt64, l, i.get(), l, i.get(), i.get(), nullptr),
                 DTypeError);
    EXPECT_THROW(cuda::binary(BinaryOp::Add, kBool, l, b.get(), l, b.get(), b.get(), nullptr),
                 DTypeError);
    EXPECT_THROW(cuda::binary_scalar(BinaryOp::Pow, kInt64, i.get(), 2, false, i.get(), 8, nullptr),
                 DTypeError);
  });
  EXPECT_EQ(launched.total, 0);
}

// ---------------------------------------------------------------------------------------
// Binary

struct BinaryCase {
  const char* name;
  Layout a, b;
  int64_t a_elems, b_elems;  // storage sizes
  bool contiguous;
};

int64_t storage_for(const Layout& l) {
  int64_t last = 0;
  for (int d = 0; d < l.ndim; ++d) last += (l.sizes[d] - 1) * l.strides[d];
  return last + 1;
}

std::vector<BinaryCase> binary_cases() {
  std::vector<BinaryCase> cases;
  auto add = [&](const char* name, Layout a, Layout b, bool contiguous) {
    cases.push_back({name, a, b, storage_for(a), storage_for(b), contiguous});
  };
  add("same shape", make_layout({37, 29}), make_layout({37, 29}), true);
  add("bias [B, N] + [N]", make_layout({33, 27}), make_layout({33, 27}, {0, 1}), false);
  add("column [B, 1] + [B, N]", make_layout({19, 23}, {1, 0}), make_layout({19, 23}), false);
  add("transposed a", make_layout({21, 17}, {1, 21}), make_layout({21, 17}), false);
  add("middle broadcast", make_layout({4, 3, 5}, {5, 0, 1}), make_layout({4, 3, 5}), false);
  add("size-1 dims", make_layout({1, 7, 1, 3}), make_layout({1, 7, 1, 3}, {5, 1, 9, 7}), false);
  add("0-d", make_layout({}), make_layout({}), true);
  add("scalar broadcast", make_layout({6, 5}), make_layout({6, 5}, {0, 0}), false);
  return cases;
}

template <class T>
std::vector<T> binary_inputs(int64_t n, uint32_t seed) {
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<T> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = ((i * 7 + seed) % 3) == 0;
    return v;
  } else {
    // Few distinct values, so comparisons see equal pairs; no zero divisor for floats.
    std::vector<T> v = testing::random_vector<T>(static_cast<size_t>(n), seed, -4.0, 4.0);
    for (auto& x : v) {
      if constexpr (std::is_floating_point_v<T>) {
        x = std::round(x * 2) / 2;
        if (x == 0) x = T(0.5);
      }
    }
    return v;
  }
}

// Bool data lives in uint8_t vectors (std::vector<bool> has no data()).
template <class T>
using Storage = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

template <class T>
void check_binary(DType dt) {
  for (const BinaryCase& c : binary_cases()) {
    for (BinaryOp op : kBinaryOps) {
      if (std::is_same_v<T, bool> && !binary_supports_bool(op)) continue;
      if (std::is_same_v<T, int64_t> && !binary_supports_int(op)) continue;
      SCOPED_TRACE(std::string(c.name) + " op " + std::to_string(int(op)) + " dtype " +
                   dtype_name(dt));
      using S = Storage<T>;
      const std::vector<T> a0 = binary_inputs<T>(c.a_elems, 1 + int(op));
      const std::vector<T> b0 = binary_inputs<T>(c.b_elems, 2 + int(op));
      const std::vector<S> a(a0.begin(), a0.end()), b(b0.begin(), b0.end());
      const size_t n = static_cast<size_t>(c.a.numel());
      DeviceBuffer<S> da(a), db(b);
      auto run = [&]<class O>() {
        std::vector<O> want(n);
        cpu::cpu_backend.binary(op, dt, c.a, a.data(), c.b, b.data(), want.data());
        DeviceBuffer<O> dout(n);
        const bool vec4 = c.contiguous && std::is_same_v<T, float> && !is_comparison(op);
        const char* kernel = !c.contiguous ? "binary_strided" : vec4 ? "binary_vec4" : "binary";
        const auto l = launches_during(kernel, [&] {
          cuda::binary(op, dt, c.a, da.get(), c.b, db.get(), dout.get(), nullptr);
        });
        EXPECT_EQ(l.total, 1);
        EXPECT_EQ(l.named, 1);
        EXPECT_TRUE(all_close(dout.download(), want, tolerance<T>()));
      };
      if (is_comparison(op)) {
        run.template operator()<uint8_t>();
      } else {
        run.template operator()<S>();
      }
    }
  }
}

TEST(CudaElementwise, BinaryMatchesCpuOnEveryLayoutAndDtype) {
  check_binary<float>(kFloat32);
  check_binary<double>(kFloat64);
  check_binary<int64_t>(kInt64);
  check_binary<bool>(kBool);
}

TEST(CudaElementwise, BinaryFloat4PathHandlesTailsAndMisalignment) {
  for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 257, 1023}) {
    for (size_t shift : {0, 1, 2, 3}) {
      SCOPED_TRACE("n " + std::to_string(n) + " shift " + std::to_string(shift));
      const Layout l = make_layout({n});
      const std::vector<float> a = testing::random_vector<float>(n, 3),
                               b = testing::random_vector<float>(n, 4);
      std::vector<float> want(static_cast<size_t>(n));
      cpu::cpu_backend.binary(BinaryOp::Mul, kFloat32, l, a.data(), l, b.data(), want.data());
      // Only one operand misaligned is enough to rule the float4 path out.
      DeviceBuffer<float> da(a, shift), db(b), dout(static_cast<size_t>(n));
      const auto l4 = launches_during(shift == 0 ? "binary_vec4" : "binary", [&] {
        cuda::binary(BinaryOp::Mul, kFloat32, l, da.get(), l, db.get(), dout.get(), nullptr);
      });
      EXPECT_EQ(l4.named, 1);
      EXPECT_TRUE(all_close(dout.download(), want));
    }
  }
}

template <class T>
void check_binary_scalar(DType dt) {
  for (BinaryOp op : kBinaryOps) {
    if (std::is_same_v<T, bool> && !binary_supports_bool(op)) continue;
    if (std::is_same_v<T, int64_t> && !binary_supports_int(op)) continue;
    for (bool scalar_first : {false, true}) {
      for (size_t shift : {0, 1}) {
        SCOPED_TRACE("op " + std::to_string(int(op)) + " dtype " + dtype_name(dt) +
                     " scalar_first " + std::to_string(scalar_first) + " shift " +
                     std::to_string(shift));
        using S = Storage<T>;
        const int64_t n = 1001;
        const std::vector<T> x0 = binary_inputs<T>(n, 11 + int(op));
        const std::vector<S> x(x0.begin(), x0.end());
        const double s = std::is_same_v<T, bool> ? 1.0 : 1.5;  // int64 truncates it to 1
        DeviceBuffer<S> dx(x, shift);
        auto run = [&]<class O>() {
          std::vector<O> want(n);
          cpu::cpu_backend.binary_scalar(op, dt, x.data(), s, scalar_first, want.data(), n);
          DeviceBuffer<O> dout(n, shift);
          const bool vec4 = std::is_same_v<T, float> && !is_comparison(op) && shift == 0;
          const auto l = launches_during(vec4 ? "binary_scalar_vec4" : "binary_scalar", [&] {
            cuda::binary_scalar(op, dt, dx.get(), s, scalar_first, dout.get(), n, nullptr);
          });
          EXPECT_EQ(l.total, 1);
          EXPECT_EQ(l.named, 1);
          EXPECT_TRUE(all_close(dout.download(), want, tolerance<T>()));
        };
        if (is_comparison(op)) {
          run.template operator()<uint8_t>();
        } else {
          run.template operator()<S>();
        }
      }
    }
  }
}

TEST(CudaElementwise, BinaryScalarMatchesCpu) {
  check_binary_scalar<float>(kFloat32);
  check_binary_scalar<double>(kFloat64);
  check_binary_scalar<int64_t>(kInt64);
  check_binary_scalar<bool>(kBool);
}

// ---------------------------------------------------------------------------------------
// Where

template <class T>
void check_where(DType dt) {
  struct Case {
    const char* name;
    Layout c, a, b;
    bool contiguous;
  };
  const Case cases[] = {
      {"contiguous", make_layout({23, 19}), make_layout({23, 19}), make_layout({23, 19}), true},
      {"cond broadcast over rows, 0-d a, transposed b", make_layout({23, 19}, {0, 1}),
       make_layout({23, 19}, {0, 0}), make_layout({23, 19}, {1, 23}), false},
      {"0-d", make_layout({}), make_layout({}), make_layout({}), true},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(std::string(k.name) + " dtype " + dtype_name(dt));
    using S = Storage<T>;
    std::vector<uint8_t> cond_bits(static_cast<size_t>(storage_for(k.c)));
    for (size_t i = 0; i < cond_bits.size(); ++i) cond_bits[i] = (i * 7 + i / 5) % 3 == 0;
    const std::vector<T> a0 = binary_inputs<T>(storage_for(k.a), 6);
    const std::vector<T> b0 = binary_inputs<T>(storage_for(k.b), 7);
    const std::vector<S> a(a0.begin(), a0.end()), b(b0.begin(), b0.end());
    const size_t n = static_cast<size_t>(k.a.numel());
    std::vector<S> want(n);
    cpu::cpu_backend.where(dt, k.c, reinterpret_cast<const bool*>(cond_bits.data()), k.a, a.data(),
                           k.b, b.data(), want.data());
    DeviceBuffer<uint8_t> dc(cond_bits);
    DeviceBuffer<S> da(a), db(b), dout(n);
    const auto l = launches_during(k.contiguous ? "where" : "where_strided", [&] {
      cuda::where(dt, k.c, reinterpret_cast<const bool*>(dc.get()), k.a, da.get(), k.b, db.get(),
                  dout.get(), nullptr);
    });
    EXPECT_EQ(l.total, 1);
    EXPECT_EQ(l.named, 1);
    EXPECT_TRUE(all_close(dout.download(), want));
  }
}

TEST(CudaElementwise, WhereMatchesCpu) {
  check_where<float>(kFloat32);
  check_where<double>(kFloat64);
  check_where<int64_t>(kInt64);
  check_where<bool>(kBool);
}

// ---------------------------------------------------------------------------------------
// The strided indexer behind the broadcast kernels: coalescing and both index widths give
// the offsets of a naive walk.

TEST(CudaElementwise, StridedIndexerMatchesNaiveOffsets) {
  const Layout a = make_layout({3, 1, 4, 5, 2}, {40, 7, 10, 2, 1});  // contiguous but dim 1
  const Layout b = make_layout({3, 1, 4, 5, 2}, {0, 0, 1, 0, 4});    // broadcast + permuted
  const Layout* const layouts[2] = {&a, &b};
  cuda::StridedIndexer<2> ix = cuda::StridedIndexer<2>::make(layouts);
  EXPECT_TRUE(ix.index32);
  EXPECT_LT(ix.ndim, a.ndim);  // a's dims 2..4 merge with each other but b's do not all
  for (bool wide : {false, true}) {
    ix.index32 = !wide;
    for (int64_t i = 0; i < a.numel(); ++i) {
      int64_t off[2];
      ix.offsets(i, off);
      ASSERT_EQ(off[0], a.offset_of(i)) << "position " << i << " wide " << wide;
      ASSERT_EQ(off[1], b.offset_of(i)) << "position " << i << " wide " << wide;
    }
  }
  const Layout c = make_layout({6, 7, 8});
  const Layout* const one[1] = {&c};
  EXPECT_EQ(cuda::StridedIndexer<1>::make(one).ndim, 1);  // contiguous collapses fully
}

}  // namespace
}  // namespace ember::kernels
