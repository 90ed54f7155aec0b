// copy across all 16 dtype pairs (contiguous and strided), broadcast sources, strided
// destinations; fill into strided views; arange for every dtype.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include <ember/kernels/cpu/backend.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using testing::coords_of;
using testing::make_layout;
using testing::numel;
using testing::offset_at;

// A buffer of any dtype, with element access through double.
struct Buf {
  DType dt;
  std::vector<unsigned char> bytes;
  Buf(DType d, int64_t n) : dt(d), bytes(static_cast<size_t>(n * dtype_size(d)), 0) {}
  void* data() { return bytes.data(); }
  void set(int64_t i, double v) {
    switch (dt) {
      case DType::Float32:
        reinterpret_cast<float*>(data())[i] = float(v);
        break;
      case DType::Float64:
        reinterpret_cast<double*>(data())[i] = v;
        break;
      case DType::Int64:
        reinterpret_cast<int64_t*>(data())[i] = int64_t(v);
        break;
      case DType::Bool:
        reinterpret_cast<bool*>(data())[i] = v != 0;
        break;
    }
  }
  double get(int64_t i) {
    switch (dt) {
      case DType::Float32:
        return reinterpret_cast<float*>(data())[i];
      case DType::Float64:
        return reinterpret_cast<double*>(data())[i];
      case DType::Int64:
        return double(reinterpret_cast<int64_t*>(data())[i]);
      case DType::Bool:
        return reinterpret_cast<bool*>(data())[i] ? 1.0 : 0.0;
    }
    return 0;
  }
};

// What converting `v` (already representable in src) to dst must give.
double converted(double v, DType dst) {
  switch (dst) {
    case DType::Float32:
      return double(float(v));
    case DType::Float64:
      return v;
    case DType::Int64:
      return double(int64_t(v));  // truncation toward zero
    case DType::Bool:
      return v != 0 ? 1.0 : 0.0;
  }
  return 0;
}

const DType kAll[] = {kFloat32, kFloat64, kInt64, kBool};

double source_value(DType dt, int64_t k) {
  const double v = (k % 7) * 1.75 - 5.0;  // negatives and fractions; every 5th is zero
  if (dt == DType::Bool) return k % 3 == 0 ? 0.0 : 1.0;
  if (dt == DType::Int64) return double(int64_t(v));
  if (k % 5 == 0) return 0.0;
  return v;
}

void check_copy(DType sdt, const Layout& sl, int64_t s_elems, DType ddt, const Layout& dl,
                int64_t d_elems) {
  Buf src(sdt, s_elems), dst(ddt, d_elems);
  for (int64_t k = 0; k < s_elems; ++k) src.set(k, source_value(sdt, k));
  for (int64_t k = 0; k < d_elems; ++k) dst.set(k, 1.0);  // sentinel for untouched elements
  cpu::cpu_backend.copy(sdt, sl, src.data(), ddt, dl, dst.data());
  std::vector<bool> touched(static_cast<size_t>(d_elems), false);
  for (int64_t p = 0; p < numel(sl); ++p) {
    const auto c = coords_of(sl, p);
    const int64_t doff = offset_at(dl, c);
    touched[doff] = true;
    ASSERT_EQ(dst.get(doff), converted(src.get(offset_at(sl, c)), ddt))
        << dtype_name(sdt) << " -> " << dtype_name(ddt) << " p " << p;
  }
  for (int64_t k = 0; k < d_elems; ++k) {
    if (!touched[k]) {
      ASSERT_EQ(dst.get(k), 1.0) << "wrote outside the view at " << k;
    }
  }
}

TEST(Copy, AllDtypePairsContiguous) {
  for (DType s : kAll)
    for (DType d : kAll) check_copy(s, make_layout({3, 5}), 15, d, make_layout({3, 5}), 15);
}

TEST(Copy, AllDtypePairsStrided) {
  // Transposed source into a row-sliced destination.
  for (DType s : kAll)
    for (DType d : kAll)
      check_copy(s, make_layout({4, 6}, {1, 4}), 24, d, make_layout({4, 6}, {12, 2}), 48);
}

TEST(Copy, BroadcastSourceAndLarge) {
  check_copy(kFloat32, make_layout({5, 7}, {0, 1}), 7, kFloat32, make_layout({5, 7}), 35);
  check_copy(kInt64, make_layout({5, 7}, {1, 0}), 5, kFloat64, make_layout({5, 7}), 35);
  check_copy(kFloat64, make_layout({2, 3}, {0, 0}), 1, kBool, make_layout({2, 3}), 6);
  // Large: split over threads, memcpy path and strided path.
  check_copy(kFloat32, make_layout({300, 400}), 120000, kFloat32, make_layout({300, 400}), 120000);
  check_copy(kFloat64, make_layout({300, 400}, {1, 300}), 120000, kFloat64, make_layout({300, 400}),
             120000);
  check_copy(kFloat64, make_layout({300, 400}), 120000, kFloat32, make_layout({300, 400}), 120000);
}

// Batched transposes (the tiled path), sizes not multiples of the tile, both directions.
TEST(Copy, TransposedTiles) {
  const Layout t = make_layout({3, 45, 70}, {3150, 1, 45});
  const Layout c = make_layout({3, 45, 70});
  check_copy(kFloat32, t, 9450, kFloat32, c, 9450);
  check_copy(kFloat64, c, 9450, kFloat32, t, 9450);
  check_copy(kInt64, make_layout({33, 1, 40}, {1, 7, 33}), 1320, kFloat64, make_layout({33, 1, 40}),
             1320);
}

TEST(Copy, FloatToIntTruncatesAndToBoolIsNonZero) {
  const double src[4] = {-2.7, 2.7, 0.0, -0.0};
  int64_t di[4];
  bool db[4];
  cpu::cpu_backend.copy(kFloat64, make_layout({4}), src, kInt64, make_layout({4}), di);
  EXPECT_EQ(std::vector<int64_t>(di, di + 4), (std::vector<int64_t>{-2, 2, 0, 0}));
  cpu::cpu_backend.copy(kFloat64, make_layout({4}), src, kBool, make_layout({4}), db);
  EXPECT_EQ(std::vector<bool>(db, db + 4), (std::vector<bool>{true, true, false, false}));
}

TEST(Fill, StridedEveryDtype) {
  for (DType dt : kAll) {
    Buf b(dt, 30);
    for (int64_t k = 0; k < 30; ++k) b.set(k, 0.0);
    const Layout l = make_layout({3, 4}, {10, 2});  // every other element of rows 0, 1, 2
    cpu::cpu_backend.fill(dt, l, b.data(), 3.5);
    for (int64_t k = 0; k < 30; ++k) {
      const bool in = (k % 10) < 8 && (k % 10) % 2 == 0;
      ASSERT_EQ(b.get(k), in ? converted(3.5, dt) : 0.0) << dtype_name(dt) << " k " << k;
    }
  }
  std::vector<float> big(100000, 0.0f);
  cpu::cpu_backend.fill(kFloat32, make_layout({100000}), big.data(), -1.25);
  for (float v : big) ASSERT_EQ(v, -1.25f);
}

TEST(Arange, EveryDtype) {
  std::vector<double> d(5);
  cpu::cpu_backend.arange(kFloat64, d.data(), 5, 1.0, 0.5);
  EXPECT_EQ(d, (std::vector<double>{1.0, 1.5, 2.0, 2.5, 3.0}));
  std::vector<float> f(4);
  cpu::cpu_backend.arange(kFloat32, f.data(), 4, 0.0, 0.1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f[i], float(0.1 * i));  // no accumulated drift
  std::vector<int64_t> i64(4);
  cpu::cpu_backend.arange(kInt64, i64.data(), 4, 10.0, -3.0);
  EXPECT_EQ(i64, (std::vector<int64_t>{10, 7, 4, 1}));
  bool b[3];
  cpu::cpu_backend.arange(kBool, b, 3, 0.0, 1.0);
  EXPECT_EQ(std::vector<bool>(b, b + 3), (std::vector<bool>{false, true, true}));
  std::vector<int64_t> big(100001);
  cpu::cpu_backend.arange(kInt64, big.data(), 100001, 0.0, 1.0);
  for (int64_t k = 0; k < 100001; ++k) ASSERT_EQ(big[k], k);
}

}  // namespace
}  // namespace ember::kernels
