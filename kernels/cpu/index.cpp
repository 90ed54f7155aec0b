// CPU gather / scatter_add along one dim.
//
// Both walk the index's shape with the strided operand's stride along `dim` zeroed, so the
// loop machinery (StridedLoop) supplies the offset of every coordinate except `dim`, and
// the index value times the real stride supplies that one. gather along dim 0 over
// contiguous rows skips that machinery: a row of equal indices is one memcpy. Indices are
// validated in a first pass, so a bad index is reported before anything is written.
#include <ember/kernels/cpu/index.h>
#include <ember/kernels/cpu/backend.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember::kernels::cpu {
namespace {

int64_t first_bad_index(const int64_t* index, int64_t n, int64_t size) {
  for (int64_t i = 0; i < n; ++i) {
    // One unsigned compare covers both ends: negatives wrap to huge values.
    if (static_cast<uint64_t>(index[i]) >= static_cast<uint64_t>(size)) return i;
  }
  return -1;
}

// The strided operand's layout with `dim`'s stride removed, and that stride.
struct DimSplit {
  Layout rest;
  int64_t dim_stride = 0;
};

DimSplit split_dim(const char* kernel, int dim, const Layout& layout) {
  DimSplit s{layout, 0};
  if (layout.ndim == 0) return s;  // 0-d: the only valid index is 0
  if (dim < 0 || dim >= layout.ndim)
    throw ValueError(std::string("kernels::cpu::") + kernel + ": dim " + std::to_string(dim) +
                     " out of range for " + std::to_string(layout.ndim) + " dims");
  s.dim_stride = layout.strides[dim];
  s.rest.strides[dim] = 0;
  return s;
}

// True when dims 1.. of `l` are one contiguous run: each index row then addresses a
// contiguous segment of x, the case gather_rows serves.
bool rest_is_contiguous_run(const Layout& l) {
  int64_t expected = 1;
  for (int d = l.ndim - 1; d >= 1; --d) {
    if (l.sizes[d] != 1 && l.strides[d] != expected) return false;
    expected *= l.sizes[d];
  }
  return true;
}

// gather along dim 0 when each index row addresses a contiguous segment of x: a row whose
// indices are all equal (an expanded 1-D index, the common case) is one memcpy, any other
// row a direct loop without the strided machinery.
template <class U>
void gather_rows(const DimSplit& xs, const U* x, const int64_t* index, U* out, int64_t rows) {
  const int64_t inner = xs.rest.numel() / rows, ds = xs.dim_stride;
  const int64_t grain = std::max<int64_t>(1, kGrainCheap / std::max<int64_t>(1, inner));
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t* idx = index + r * inner;
      U* o = out + r * inner;
      const int64_t k = idx[0];
      int64_t j = 1;
      while (j < inner && idx[j] == k) ++j;
      if (j == inner) {
        std::memcpy(o, x + k * ds, static_cast<size_t>(inner) * sizeof(U));
      } else {
        for (j = 0; j < inner; ++j) o[j] = x[idx[j] * ds + j];
      }
    }
  });
}

template <class U>
void gather_typed(int dim, const DimSplit& xs, const U* x, const int64_t* index, U* out) {
  const int64_t rows = xs.rest.ndim > 0 ? xs.rest.sizes[0] : 0;
  // Rows of fewer than 8 elements gain nothing from a memcpy.
  if (dim == 0 && rows > 0 && xs.rest.numel() / rows >= 8 && rest_is_contiguous_run(xs.rest))
    return gather_rows(xs, x, index, out, rows);
  const Layout ol = contiguous_like(xs.rest);
  const Layout* const layouts[2] = {&ol, &xs.rest};
  const StridedLoop<2> loop(layouts);
  const int64_t sx = loop.inner_stride(1), ds = xs.dim_stride;
  parallel_for(loop.numel(), kGrainCheap, [&](int64_t b, int64_t e) {
    loop.run(b, e, [&](const int64_t(&off)[2], int64_t len) {
      const int64_t* idx = index + off[0];  // out is contiguous: its offset is the position
      const U* xb = x + off[1];
      U* ob = out + off[0];
      for (int64_t i = 0; i < len; ++i) ob[i] = xb[i * sx + idx[i] * ds];
    });
  });
}

template <class T>
void scatter_add_typed(const DimSplit& os, T* out, const int64_t* index, const T* src) {
  const Layout sl = contiguous_like(os.rest);
  const Layout* const layouts[2] = {&sl, &os.rest};
  const StridedLoop<2> loop(layouts);
  const int64_t so = loop.inner_stride(1), ds = os.dim_stride;
  // Sequential on purpose: several positions may hit the same output element, and a fixed
  // accumulation order keeps results bit-reproducible.
  loop.run(0, loop.numel(), [&](const int64_t(&off)[2], int64_t len) {
    const int64_t* idx = index + off[0];
    const T* sb = src + off[0];
    T* ob = out + off[1];
    for (int64_t i = 0; i < len; ++i) ob[i * so + idx[i] * ds] += sb[i];
  });
}

[[noreturn]] void unsupported(const char* kernel, DType dt) {
  throw DTypeError(std::string("kernels::cpu::") + kernel + ": unsupported dtype " +
                   dtype_name(dt));
}

}  // namespace

int64_t gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size, const void* x,
               const int64_t* index, void* out) {
  const DimSplit xs = split_dim("gather", dim, x_layout);
  const int64_t bad = first_bad_index(index, x_layout.numel(), x_dim_size);
  if (bad >= 0) return bad;
  // A pure data move: one instantiation per element size serves every dtype.
  switch (dtype_size(dt)) {
    case 1:
      gather_typed(dim, xs, static_cast<const uint8_t*>(x), index, static_cast<uint8_t*>(out));
      break;
    case 4:
      gather_typed(dim, xs, static_cast<const uint32_t*>(x), index, static_cast<uint32_t*>(out));
      break;
    case 8:
      gather_typed(dim, xs, static_cast<const uint64_t*>(x), index, static_cast<uint64_t*>(out));
      break;
    default:
      unsupported("gather", dt);
  }
  return -1;
}

int64_t scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size, void* out,
                    const int64_t* index, const void* src) {
  if (dt == DType::Bool) unsupported("scatter_add", dt);
  const DimSplit os = split_dim("scatter_add", dim, out_layout);
  const int64_t bad = first_bad_index(index, out_layout.numel(), out_dim_size);
  if (bad >= 0) return bad;
  switch (dt) {
    case DType::Float32:
      scatter_add_typed(os, static_cast<float*>(out), index, static_cast<const float*>(src));
      break;
    case DType::Float64:
      scatter_add_typed(os, static_cast<double*>(out), index, static_cast<const double*>(src));
      break;
    case DType::Int64:
      scatter_add_typed(os, static_cast<int64_t*>(out), index, static_cast<const int64_t*>(src));
      break;
    case DType::Bool:
      unsupported("scatter_add", dt);
  }
  return -1;
}

// The CPU computes synchronously, so a bad index is reported at the call.
void CpuBackend::gather(DType dt, int dim, const Layout& x_layout, int64_t x_dim_size,
                        const void* x, const int64_t* index, void* out) {
  const int64_t bad = cpu::gather(dt, dim, x_layout, x_dim_size, x, index, out);
  if (bad >= 0) throw bad_index_error("gather", index[bad], bad, dim, x_dim_size);
}

void CpuBackend::scatter_add(DType dt, int dim, const Layout& out_layout, int64_t out_dim_size,
                             void* out, const int64_t* index, const void* src) {
  const int64_t bad = cpu::scatter_add(dt, dim, out_layout, out_dim_size, out, index, src);
  if (bad >= 0) throw bad_index_error("scatter_add", index[bad], bad, dim, out_dim_size);
}

void CpuBackend::index_select(DType dt, int dim, const void* x, int64_t outer, int64_t r,
                              int64_t inner, const int64_t* index, int64_t n, void* out) {
  for (int64_t i = 0; i < n; ++i) {
    if (static_cast<uint64_t>(index[i]) >= static_cast<uint64_t>(r))
      throw bad_index_error("index_select", index[i], i, dim, r);
  }
  const int64_t row_bytes = inner * dtype_size(dt);
  const auto* src = static_cast<const char*>(x);
  auto* dst = static_cast<char*>(out);
  // One memcpy per run of consecutive indices (a sorted or sliced index is one long copy).
  parallel_for(outer * n,
               std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(1, row_bytes)),
               [&](int64_t b, int64_t e) {
                 for (int64_t w = b; w < e;) {
                   const int64_t o = w / n, i = w % n;
                   int64_t run = 1;
                   while (w + run < e && i + run < n && index[i + run] == index[i] + run) ++run;
                   // Rows of a shuffled batch come from memory, not cache: asking for the
                   // next row's lines before copying this one overlaps the two fetches
                   // (about 5% on a 256 x 784 float32 batch).
                   if (w + run < e) {
                     const int64_t next = w + run;
                     const char* row = src + (next / n * r + index[next % n]) * row_bytes;
                     for (int64_t l = 0; l < std::min<int64_t>(row_bytes, 8192); l += 64)
                       __builtin_prefetch(row + l);
                   }
                   std::memcpy(dst + w * row_bytes, src + (o * r + index[i]) * row_bytes,
                               static_cast<size_t>(run * row_bytes));
                   w += run;
                 }
               });
}

}  // namespace ember::kernels::cpu
