// CPU data movement: strided copy with dtype conversion (all 16 dtype pairs), strided fill,
// arange. Same-dtype copies move bits through an unsigned type of the element's size, so
// only conversions instantiate per dtype pair.
#include <utility>
#include <ember/kernels/cpu/backend.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include <ember/kernels/common/convert.h>
#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

// Elements per chunk for a plain memcpy: large, since memcpy is already near bandwidth.
constexpr int64_t kGrainMemcpy = 1 << 20;

using kernels::convert;  // kernels/common/convert.h: the same answer on every backend

template <class Fn>
void visit_dtype(DType dt, Fn&& fn) {
  if (!dispatch_dtype(dt, std::forward<Fn>(fn)))
    throw DTypeError("kernels::cpu::copy: unknown dtype");
}

template <class Fn>
void visit_bits(DType dt, Fn&& fn) {
  switch (dtype_size(dt)) {
    case 1:
      return fn.template operator()<uint8_t>();
    case 4:
      return fn.template operator()<uint32_t>();
    case 8:
      return fn.template operator()<uint64_t>();
    default:
      throw DTypeError("kernels::cpu::copy: unknown dtype");
  }
}

// Side of the square tiles a transposing copy walks in (32 x 8 bytes = 4 cache lines).
constexpr int64_t kTransposeTile = 32;

// A copy where one side is contiguous along the last dim and the other along the one before
// (making a transposed view contiguous, or the reverse). Walking rows would touch a new
// cache line (and soon a new page) per element on the strided side; square tiles reuse each
// line kTransposeTile times. Returns false when the layouts are not of this kind.
template <class S, class D>
bool copy_transposed(const StridedLoop<2>& loop, const S* src, D* dst) {
  const int nd = loop.ndim;
  if (nd < 2) return false;
  const int64_t d_i = loop.strides[0][nd - 2], d_j = loop.strides[0][nd - 1];
  const int64_t s_i = loop.strides[1][nd - 2], s_j = loop.strides[1][nd - 1];
  const int64_t rows = loop.sizes[nd - 2], cols = loop.sizes[nd - 1];
  const bool transposed = (d_j == 1 && s_i == 1) || (s_j == 1 && d_i == 1);
  if (!transposed || rows < kTransposeTile || cols < kTransposeTile) return false;
  const int64_t outer = loop.numel() / (rows * cols);
  const int64_t row_tiles = (rows + kTransposeTile - 1) / kTransposeTile;
  const int64_t unit_elems = kTransposeTile * cols;
  parallel_for(outer * row_tiles, std::max<int64_t>(1, kGrainCheap / unit_elems),
               [&](int64_t b, int64_t e) {
                 for (int64_t u = b; u < e; ++u) {
                   // Offsets of the leading dims: one div/mod chain per tile row.
                   int64_t rest = u / row_tiles, d_off = 0, s_off = 0;
                   for (int d = nd - 3; d >= 0; --d) {
                     const int64_t c = rest % loop.sizes[d];
                     rest /= loop.sizes[d];
                     d_off += c * loop.strides[0][d];
                     s_off += c * loop.strides[1][d];
                   }
                   const int64_t i0 = (u % row_tiles) * kTransposeTile;
                   const int64_t i1 = std::min(rows, i0 + kTransposeTile);
                   for (int64_t j0 = 0; j0 < cols; j0 += kTransposeTile) {
                     const int64_t j1 = std::min(cols, j0 + kTransposeTile);
                     for (int64_t i = i0; i < i1; ++i) {
                       D* drow = dst + d_off + i * d_i;
                       const S* srow = src + s_off + i * s_i;
                       for (int64_t j = j0; j < j1; ++j) drow[j * d_j] = convert<D>(srow[j * s_j]);
                     }
                   }
                 }
               });
  return true;
}

template <class S, class D>
void copy_strided(const Layout& sl, const S* src, const Layout& dl, D* dst) {
  const Layout* const layouts[2] = {&dl, &sl};
  const StridedLoop<2> loop(layouts);
  if (copy_transposed(loop, src, dst)) return;
  const int64_t sd = loop.inner_stride(0), ss = loop.inner_stride(1);
  parallel_for(loop.numel(), kGrainCheap, [&](int64_t b, int64_t e) {
    loop.run(b, e, [&](const int64_t(&off)[2], int64_t len) {
      D* d = dst + off[0];
      const S* s = src + off[1];
      if (sd == 1 && ss == 1) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] = convert<D>(s[i]);
      } else if (sd == 1 && ss == 0) {
        const D v = convert<D>(*s);
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] = v;
      } else {
        for (int64_t i = 0; i < len; ++i) d[i * sd] = convert<D>(s[i * ss]);
      }
    });
  });
}

template <class D>
void fill_typed(const Layout& l, D* dst, D v) {
  const Layout* const layouts[1] = {&l};
  const StridedLoop<1> loop(layouts);
  const int64_t sd = loop.inner_stride(0);
  parallel_for(loop.numel(), kGrainCheap, [&](int64_t b, int64_t e) {
    loop.run(b, e, [&](const int64_t(&off)[1], int64_t len) {
      D* d = dst + off[0];
      if (sd == 1) {
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) d[i] = v;
      } else {
        for (int64_t i = 0; i < len; ++i) d[i * sd] = v;
      }
    });
  });
}

}  // namespace

void CpuBackend::copy(DType src_dt, const Layout& src_layout, const void* src, DType dst_dt,
                      const Layout& dst_layout, void* dst) {
  if (src_dt == dst_dt) {
    if (src_layout.is_contiguous() && dst_layout.is_contiguous()) {
      const int64_t esize = dtype_size(src_dt);
      const auto* s = static_cast<const char*>(src);
      auto* d = static_cast<char*>(dst);
      parallel_for(src_layout.numel(), kGrainMemcpy, [=](int64_t b, int64_t e) {
        std::memcpy(d + b * esize, s + b * esize, static_cast<size_t>((e - b) * esize));
      });
      return;
    }
    visit_bits(src_dt, [&]<class U>() {
      copy_strided(src_layout, static_cast<const U*>(src), dst_layout, static_cast<U*>(dst));
    });
    return;
  }
  visit_dtype(src_dt, [&]<class S>() {
    visit_dtype(dst_dt, [&]<class D>() {
      copy_strided(src_layout, static_cast<const S*>(src), dst_layout, static_cast<D*>(dst));
    });
  });
}

void CpuBackend::fill(DType dt, const Layout& layout, void* dst, double value) {
  visit_dtype(dt, [&]<class D>() { fill_typed(layout, static_cast<D*>(dst), convert<D>(value)); });
}

void CpuBackend::arange(DType dt, void* out, int64_t n, double start, double step) {
  visit_dtype(dt, [&]<class D>() {
    D* o = static_cast<D*>(out);
    // start + i * step in double, then converted: no accumulated rounding error.
    parallel_for(n, kGrainCheap, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = convert<D>(start + static_cast<double>(i) * step);
    });
  });
}

void CpuBackend::memcpy_to_host(void* dst_host, const void* src, size_t nbytes) {
  std::memcpy(dst_host, src, nbytes);
}

void CpuBackend::memcpy_from_peer(void* dst, Backend& /*src_backend*/, const void* src,
                                  size_t nbytes) {
  std::memcpy(dst, src, nbytes);  // one CPU device: never a peer, but a copy is a copy
}

void CpuBackend::memcpy_from_host(void* dst, const void* src_host, size_t nbytes) {
  std::memcpy(dst, src_host, nbytes);
}

void CpuBackend::synchronize() {}

constinit CpuBackend cpu_backend;

}  // namespace ember::kernels::cpu
