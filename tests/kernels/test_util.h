// Helpers shared by the kernel tests: building Layouts and naive strided indexing. The
// naive index math here is deliberately independent of kernels/cpu's loop machinery, so
// the tests compare against something that cannot share its bugs.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

#include <ember/kernels/common/layout.h>

namespace ember::kernels::testing {

// Strides empty: row-major contiguous.
inline Layout make_layout(std::initializer_list<int64_t> sizes,
                          std::initializer_list<int64_t> strides = {}) {
  Layout l;
  l.ndim = static_cast<int>(sizes.size());
  int d = 0;
  for (int64_t s : sizes) l.sizes[d++] = s;
  if (strides.size() == 0) {
    int64_t st = 1;
    for (d = l.ndim - 1; d >= 0; --d) {
      l.strides[d] = st;
      st *= l.sizes[d];
    }
  } else {
    d = 0;
    for (int64_t s : strides) l.strides[d++] = s;
  }
  return l;
}

// Coordinates of row-major position `pos` in `l`'s sizes.
inline std::vector<int64_t> coords_of(const Layout& l, int64_t pos) {
  std::vector<int64_t> c(static_cast<size_t>(l.ndim));
  for (int d = l.ndim - 1; d >= 0; --d) {
    c[static_cast<size_t>(d)] = pos % l.sizes[d];
    pos /= l.sizes[d];
  }
  return c;
}

inline int64_t offset_at(const Layout& l, const std::vector<int64_t>& c) {
  int64_t off = 0;
  for (int d = 0; d < l.ndim; ++d) off += c[static_cast<size_t>(d)] * l.strides[d];
  return off;
}

inline int64_t numel(const Layout& l) {
  int64_t n = 1;
  for (int d = 0; d < l.ndim; ++d) n *= l.sizes[d];
  return n;
}

template <class T>
std::vector<T> random_vector(size_t n, uint32_t seed, double lo = -2.0, double hi = 2.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

}  // namespace ember::kernels::testing
